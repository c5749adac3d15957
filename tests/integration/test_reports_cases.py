"""《舆情摘报》 and 舆情档案 against the real Elasticsearch node, on the console tests' own fixture
posts (written through the production sink into a namespace of their own) plus one post of the
previous day, so every number of the report is known."""
from __future__ import annotations

import asyncio
import io
from datetime import date, timedelta

import pytest
from docx import Document
from elasticsearch import AsyncElasticsearch, Elasticsearch
import httpx

from console.app import create_app
from console.duty import Duty
from indexer.cases import CASES_ALIAS, CaseConflict, CaseStore, add_note, set_status
from indexer.reports.gather import report_for
from indexer.reports.model import report_period
from indexer.reports.render import SECTIONS, render_markdown
from indexer.sink import PostSink
from shaobing.cli import main
from tests.integration.console_fixture import BASE, DEDUP_KEY, SUBJECT, _post, drop_namespace, fill_namespace, make_token

DAY = date(2026, 11, 27)          # the daily report of 2026-11-26 08:00 .. 2026-11-27 08:00 (Asia/Shanghai)


@pytest.fixture(scope="module")
def ns(live_stack, tmp_path_factory):
    settings, posts, alert_id = fill_namespace(live_stack.elasticsearch_url, tmp_path_factory.mktemp("report-state"))
    yesterday = _post(9, -24 * 60, site="qingshi-bbs", title="青石镇菜价", text="青石镇菜价平稳。")   # the previous period

    async def write():
        sink = PostSink(settings.elasticsearch_url, index=settings.alias("posts"))
        try:
            assert await sink.write([yesterday], now=BASE) == []
        finally:
            await sink.close()

    asyncio.run(write())
    with Elasticsearch(settings.elasticsearch_url) as es:
        es.indices.refresh(index=settings.alias("posts"))
    Duty(settings).ack(dedup_key=DEDUP_KEY, subject=SUBJECT, by="李四", now=BASE + timedelta(hours=2))
    try:
        yield settings, alert_id
    finally:
        drop_namespace(settings)


def run(coro_fn, settings):
    async def go():
        es = AsyncElasticsearch(settings.elasticsearch_url, request_timeout=30)
        try:
            return await coro_fn(es)
        finally:
            await es.close()
    return asyncio.run(go())


def store_of(es, settings) -> CaseStore:
    return CaseStore(es, cases=settings.alias(CASES_ALIAS), posts=settings.alias("posts"), alerts=settings.alias("alerts"))


def test_case_from_alert_keeps_its_posts_after_they_are_deleted(ns):
    settings, alert_id = ns
    now = BASE + timedelta(hours=3)
    case = run(lambda es: store_of(es, settings).open(by="王五", now=now, alert_id=alert_id, owner="王五"), settings)
    assert case["status"] == "新发现" and case["subjects"] == [SUBJECT]
    assert case["post_ids"] == ["qingshi-bbs:1", "county-news:2", "qingshi-bbs:4", "qingshi-bbs:6", "microblog:7"]
    with Elasticsearch(settings.elasticsearch_url) as es:
        original = es.get(index=settings.alias("posts"), id="qingshi-bbs:1")["_source"]
        es.delete(index=settings.alias("posts"), id="qingshi-bbs:1", refresh="wait_for")
    stored, _ = run(lambda es: store_of(es, settings).get(case["case_id"]), settings)
    evidence = stored["posts"][0]
    assert (evidence["post_id"], evidence["text"], evidence["url"]) == ("qingshi-bbs:1", original["text"], original["url"])
    # put the post back for the report test (same document through the same sink path)
    with Elasticsearch(settings.elasticsearch_url) as es:
        es.index(index=settings.alias("posts"), id="qingshi-bbs:1", document=original, refresh="wait_for")


def test_stale_edit_raises_case_conflict(ns):
    settings, alert_id = ns
    now = BASE + timedelta(hours=4)

    async def race(es):
        store = store_of(es, settings)
        case = await store.open(by="甲", now=now, post_ids=["county-news:5"])
        doc, version = await store.get(case["case_id"])
        await store.save(add_note(doc, text="第一位值班员的记录", by="甲", now=now), version)
        with pytest.raises(CaseConflict) as err:
            await store.save(set_status(doc, status="已处置", by="乙", now=now), version)     # stale version
        assert case["case_id"] in str(err.value)
        final, _ = await store.get(case["case_id"])
        return final

    final = run(race, settings)
    assert final["status"] == "新发现" and final["notes"][-1]["text"] == "第一位值班员的记录"


def test_daily_report_numbers_sections_and_docx(ns, tmp_path, monkeypatch):
    settings, _ = ns
    period = report_period("daily", day=DAY)
    report = run(lambda es: report_for(es, settings, period, Duty(settings).acks()), settings)
    ov = report.overview
    assert (ov.total, ov.previous_total, ov.negative) == (7, 1, 4)
    assert ov.change == 6.0 and round(ov.negative_share, 4) == round(4 / 7, 4)
    assert ov.top_sites == (("qingshi-bbs", 3), ("county-news", 2), ("microblog", 2))
    first = report.events[0]
    assert (first.first_site, first.posts, first.reposts, first.status) == ("qingshi-bbs", 3, 2, "新发现")
    assert first.sites == ("county-news", "microblog", "qingshi-bbs")
    assert first.first_at == BASE and first.sentiments == (("negative", 3),)
    assert [e.first_url for e in report.events[1:]] == [   # single posts: earliest 首发 first
        "http://qingshi-bbs.example/t/4", "javascript:window.__xss = 4", "http://microblog.example/t/7",
        "http://county-news.example/t/5"]
    assert [(a.subject, a.count, a.acked_by) for a in report.alerts] == [(SUBJECT, 5, "李四")]
    assert report.new_subjects == (("柳河乡", 1),)
    assert dict(report.new_keywords) == {"化工厂": 5, "异味": 5}
    md = render_markdown(report)
    assert [line[3:] for line in md.splitlines() if line.startswith("## ")] == list(SECTIONS)
    assert "javascript" not in md and "<script>" not in md

    monkeypatch.setenv("SHAOBING_STATE_DIR", str(settings.state_dir))
    monkeypatch.setenv("SHAOBING_CONTROL_BACKEND", settings.control_backend)
    out_md, out_docx = tmp_path / "r.md", tmp_path / "r.docx"
    for fmt, out in (("md", out_md), ("docx", out_docx)):
        assert main(["--namespace", settings.namespace, "report", "--period", "daily", "--date", DAY.isoformat(),
                     "--format", fmt, "--out", str(out)]) == 0
    assert out_md.read_text("utf-8") == md                       # the CLI gives the same bytes
    doc = Document(io.BytesIO(out_docx.read_bytes()))
    assert [p.text for p in doc.paragraphs if p.style.name.startswith(("Heading", "Title"))] == [report.title, *SECTIONS]


def test_empty_period_report(ns):
    settings, _ = ns
    report = run(lambda es: report_for(es, settings, report_period("daily", day=date(2020, 1, 2)), {}), settings)
    assert report.empty and "本期无重点舆情" in render_markdown(report)


def test_api_cases_conflict_is_409_and_handoff_lists_open_cases(ns):
    settings, alert_id = ns
    tokens = {role: make_token(settings, role) for role in ("viewer", "duty")}
    app = create_app(settings, clock=lambda: BASE + timedelta(hours=5))

    async def scenario():
        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://console") as client:
            async def call(method, path, role="duty", **kw):
                return await client.request(method, path, headers={"Authorization": f"Bearer {tokens[role]}"}, **kw)

            assert (await call("POST", "/api/v1/cases", role="viewer", json={"alert_id": alert_id})).status_code == 403
            created = await call("POST", "/api/v1/cases", json={"alert_id": alert_id, "title": "青石镇化工厂异味"})
            assert created.status_code == 201, created.text
            case_id = created.json()["case"]["case_id"]
            read = (await call("GET", f"/api/v1/cases/{case_id}", role="viewer")).json()
            ok = await call("POST", f"/api/v1/cases/{case_id}/notes", json={"text": "已联系属地核实", "version": read["version"]})
            assert ok.status_code == 200
            stale = await call("POST", f"/api/v1/cases/{case_id}/status", json={"status": "已处置", "version": read["version"]})
            assert stale.status_code == 409 and stale.json()["case_id"] == case_id
            fresh = await call("POST", f"/api/v1/cases/{case_id}/status",
                               json={"status": "跟踪中", "version": ok.json()["version"]})
            assert fresh.status_code == 200 and fresh.json()["case"]["status"] == "跟踪中"
            handoff = (await call("GET", "/api/v1/handoff", role="viewer")).json()
            assert case_id in [c["case_id"] for c in handoff["open_cases"]]
            assert handoff["unacked_alerts"] == []                       # the fixture's alert was acked by 李四
            page = await call("GET", "/api/v1/reports/daily", role="viewer", params={"date": DAY.isoformat()})
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            assert "<script>" not in page.text and "重要舆情摘报（日报）" in page.text
            docx = await call("GET", "/api/v1/reports/daily", role="viewer",
                              params={"date": DAY.isoformat(), "format": "docx"})
            assert docx.headers["content-disposition"].startswith("attachment")
            assert Document(io.BytesIO(docx.content)).paragraphs[0].text == "重要舆情摘报（日报）"

    asyncio.run(scenario())


def test_case_cli_open_note_status_list_show(ns, capsys):
    settings, _ = ns
    ns_args = ["--namespace", settings.namespace]
    assert main([*ns_args, "case", "--by", "赵六", "open", "--subject", "柳河乡", "--since", "2026-11-26T12:00",
                 "--until", "2026-11-26T13:00", "--title", "柳河乡修路"]) == 0
    case_id = capsys.readouterr().out.split()[3]     # "已立档 / opened C20261130-abc123 (1 条存证)"
    assert main([*ns_args, "case", "--by", "赵六", "note", case_id, "已转交交通部门"]) == 0
    assert main([*ns_args, "case", "--by", "赵六", "status", case_id, "已处置", "--owner", "赵六"]) == 0
    assert main([*ns_args, "case", "list", "--status", "已处置"]) == 0
    assert main([*ns_args, "case", "show", case_id]) == 0
    out = capsys.readouterr().out
    assert f"{case_id}  [已处置]" in out and "赵六: 已转交交通部门" in out and "状态：新发现 → 已处置；负责人：赵六" in out
    assert "county-news  柳河乡修路通知  http://county-news.example/t/5" in out      # the frozen post
    assert main([*ns_args, "case", "status", "C-none", "已归档"]) == 1
    assert "no such case: C-none" in capsys.readouterr().err
