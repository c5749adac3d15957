"""Sources as data: the shipped file loads; errors name the file, the entry and the field."""
from __future__ import annotations

import textwrap

import pytest

from crawlers.errors import SourceConfigError
from crawlers.runner import select_sources
from crawlers.sources import DEFAULT_FILE, load_sources
from shaobing.cli import main

NEWS = """
  - name: county-news
    kind: news
    site: county-news
    base_url: http://news.example.test
    start_urls: [/list]
    selectors:
      article_link: ul a::attr(href)
      next_page: a.next::attr(href)
      title: h1::text
      body: div.body p::text
      published: span.time::text
      article_id_pattern: /a/(\\d+)
"""


def write(tmp_path, body: str):
    path = tmp_path / "sources.yml"
    path.write_text("sources:\n" + textwrap.dedent(body), encoding="utf-8")
    return path


def test_shipped_sources_load_and_are_frozen():
    sources = load_sources()
    assert {"demo-forum", "demo-news"} <= set(sources)
    forum = sources["demo-forum"]
    assert forum.kind == "forum" and forum.urls[0] == "http://127.0.0.1:8765/forum/board/town"
    with pytest.raises(Exception):
        forum.site = "other"
    moved = forum.with_base_url("http://127.0.0.1:9999/")
    assert moved.urls[0] == "http://127.0.0.1:9999/forum/board/town" and forum.base_url.endswith("8765")


def test_a_valid_file_without_optional_fields(tmp_path):
    source = load_sources(write(tmp_path, NEWS))["county-news"]
    assert source.politeness.concurrency == 1 and source.politeness.delay_s == 1.0
    assert source.selectors.author == ""


@pytest.mark.parametrize("change, field", [
    (("title: h1::text", "title: h1[[::text"), "selectors.title"),
    (("/a/(\\d+)", "/a/\\d+"), "selectors.article_id_pattern"),
    (("kind: news", "kind: video"), "kind"),
    (("base_url: http://news.example.test", "base_url: ftp://x"), "base_url"),
    (("      published: span.time::text\n", ""), "selectors.published"),
    (("start_urls: [/list]", "start_urls: []"), "start_urls"),
])
def test_errors_name_file_entry_and_field(tmp_path, change, field):
    old, new = change
    assert old in NEWS
    path = write(tmp_path, NEWS.replace(old, new))
    with pytest.raises(SourceConfigError) as exc:
        load_sources(path)
    assert f"{path}: sources[0] (county-news): {field}:" in str(exc.value)


def test_duplicate_names_bad_yaml_and_missing_file(tmp_path):
    with pytest.raises(SourceConfigError, match=r"sources\[1\] \(county-news\): name: duplicate"):
        load_sources(write(tmp_path, NEWS + NEWS))
    bad = tmp_path / "bad.yml"
    bad.write_text("sources: [\n", encoding="utf-8")
    with pytest.raises(SourceConfigError, match="not valid YAML"):
        load_sources(bad)
    with pytest.raises(SourceConfigError, match="cannot read"):
        load_sources(tmp_path / "missing.yml")


def test_unknown_source_name_is_refused():
    with pytest.raises(SourceConfigError, match="unknown source.*nope"):
        select_sources(["nope"])


def test_sources_check_command(tmp_path, capsys):
    assert main(["sources", "check", str(DEFAULT_FILE)]) == 0
    assert "校验通过" in capsys.readouterr().out
    bad = write(tmp_path, NEWS.replace("kind: news", "kind: video"))
    assert main(["sources", "check", str(bad)]) == 2
    assert "sources[0] (county-news): kind" in capsys.readouterr().err


def test_schedule_is_faster_in_event_mode_and_overridable():
    from crawlers.runner import due_in

    forum = load_sources()["demo-forum"]
    assert due_in(forum) == forum.schedule.interval_s == 60
    assert due_in(forum, event_mode=True) == forum.schedule.event_interval_s == 15
    assert due_in(forum, interval_s=2.0, event_mode=True) == 2.0


RECIPES = """
  - name: songlin-bbs
    kind: discuz
    base_url: https://bbs.songlin.example.cn
    boards: [2, 37]
  - name: songlin-news
    kind: news_list
    base_url: http://www.songlin.example.gov.cn
    start_urls: [/xwzx/zwdt/, /xwzx/tzgg/]
"""


def test_a_discuz_forum_and_a_news_site_are_a_few_lines_each(tmp_path):
    sources = load_sources(write(tmp_path, RECIPES))
    bbs, news = sources["songlin-bbs"], sources["songlin-news"]
    assert (bbs.kind, bbs.site, bbs.boards, bbs.politeness.concurrency) == ("discuz", "songlin-bbs", [2, 37], 1)
    assert bbs.urls == ["https://bbs.songlin.example.cn/forum.php?mod=forumdisplay&fid=2",
                        "https://bbs.songlin.example.cn/forum.php?mod=forumdisplay&fid=37"]
    assert (news.kind, news.site, news.urls[1]) == ("news_list", "songlin-news", "http://www.songlin.example.gov.cn/xwzx/tzgg/")
    # the demo's --base-url replaces the host and keeps a Discuz! site's own path
    assert load_sources()["demo-discuz"].with_base_url("http://127.0.0.1:9").base_url == "http://127.0.0.1:9/bbs"


@pytest.mark.parametrize("change,field", [
    ("boards: [2, 37]", "boards: []"), ("boards: [2, 37]", "boards: [0]"), ("boards: [2, 37]", "boards: [二]"),
    ("start_urls: [/xwzx/zwdt/, /xwzx/tzgg/]", "start_urls: [/x]\n    article_pattern: '(unclosed'")])
def test_recipe_errors_name_the_entry_and_field(tmp_path, change, field):
    with pytest.raises(SourceConfigError) as err:
        load_sources(write(tmp_path, RECIPES.replace(change, field)))
    name = "article_pattern" if "article_pattern" in field else "boards"
    assert f"({'songlin-news' if name == 'article_pattern' else 'songlin-bbs'}): {name}" in str(err.value)


def test_sources_try_prints_what_a_source_would_give(capsys):
    from infra.demo_web import Scenario, start_demo_web

    scenario = Scenario(seed=7, history_s=1800.0)
    url, stop = start_demo_web(port=0, scenario=scenario)
    try:
        assert main(["sources", "try", "demo-discuz", "--base-url", url]) == 0
    finally:
        stop()
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("信息源 demo-discuz（discuz）") and "抽取" in out[0]
    titles = {p.title for p in scenario.visible() if p.site == "demo-discuz" and p.kind == "thread"}
    heads = [line for line in out if line.startswith("[主帖]")]
    assert heads and all("作者 " in h and h.split("标题 ", 1)[1] in titles for h in heads)
    assert any(line.startswith("[回帖 #") for line in out)
    assert main(["sources", "try", "nope"]) == 2
