"""The console API against the real Elasticsearch node, on the tests' own fixture posts."""
from __future__ import annotations

import csv
import io

import httpx
import pytest
from openpyxl import load_workbook

from tests.integration.console_fixture import (DEDUP_KEY, FORMULA_TITLE, HOSTILE_TITLE, drop_namespace,
                                               fill_namespace, make_token, start_console)

STORY = "qingshi-bbs:1"


@pytest.fixture(scope="module")
def console(live_stack, tmp_path_factory):
    settings, posts, alert_id = fill_namespace(live_stack.elasticsearch_url, tmp_path_factory.mktemp("console-state"))
    tokens = {role: make_token(settings, role) for role in ("viewer", "duty", "admin")}
    child, url = start_console(settings, tmp_path_factory.mktemp("console-logs"))
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            yield client, tokens, alert_id, settings
    finally:
        child.stop()
        drop_namespace(settings)


def get(client, tokens, path, role="viewer", **params):
    return client.get(path, params=params, headers={"Authorization": f"Bearer {tokens[role]}"})


def test_only_healthz_answers_without_a_token(console):
    client, tokens, alert_id, _ = console
    assert client.get("/healthz").json() == {"status": "ok", "elasticsearch": True}
    for path in ("/api/v1/search", "/api/v1/alerts", f"/api/v1/alerts/{alert_id}/event", "/api/v1/openapi.json"):
        resp = client.get(path)
        assert resp.status_code == 401, path
        assert resp.headers["WWW-Authenticate"] == "Bearer"
    assert client.get("/api/v1/search", headers={"Authorization": "Bearer sbt_not-a-real-token"}).status_code == 401
    assert "/api/v1/search" in get(client, tokens, "/api/v1/openapi.json").json()["paths"]


def test_search_highlights_are_escaped_and_totals_counted(console):
    client, tokens, _, _ = console
    body = get(client, tokens, "/api/v1/search", q="化工厂", sort="time").json()
    assert (body["total"], body["total_relation"]) == (5, "eq")
    assert [h["post_id"] for h in body["hits"]] == ["microblog:3", "microblog:7", "qingshi-bbs:6", "county-news:2", STORY]
    hostile = body["hits"][2]
    assert hostile["title"] == HOSTILE_TITLE                 # plain field: the page renders it as text
    title_html = hostile["highlight"]["title"][0]
    assert "<script>" not in title_html and "<img" not in title_html
    assert title_html.startswith("&lt;script&gt;") and "<em>化工厂</em>" in title_html


def test_filters_narrow_the_hits(console):
    client, tokens, _, _ = console

    def ids(**params):
        return sorted(h["post_id"] for h in get(client, tokens, "/api/v1/search", q="化工厂", **params).json()["hits"])

    assert ids(site="county-news") == ["county-news:2"]
    assert ids(first_only="true") == ["microblog:7", "qingshi-bbs:1", "qingshi-bbs:6"]
    assert ids(sentiment="neutral") == ["microblog:7"]
    assert ids(kind=["news", "api"]) == ["county-news:2", "microblog:3", "microblog:7"]
    assert ids(since="2026-11-26T10:45:00+08:00", until="2026-11-26T11:00:00+08:00") == ["microblog:7", "qingshi-bbs:6"]
    assert ids(subject="柳河乡") == []
    words = get(client, tokens, "/api/v1/search", q="柳河乡 绕行", mode="words").json()
    assert [h["post_id"] for h in words["hits"]] == ["county-news:5"]
    assert [h["post_id"] for h in get(client, tokens, "/api/v1/search", entity="柳河乡").json()["hits"]] == ["county-news:5"]


def test_deep_paging_with_cursor_visits_every_hit_once(console):
    client, tokens, _, _ = console
    seen, cursor = [], None
    for _ in range(10):
        params = {"sort": "time", "size": 2, **({"cursor": cursor} if cursor else {})}
        page = get(client, tokens, "/api/v1/search", **params).json()
        seen += [h["post_id"] for h in page["hits"]]
        cursor = page["next"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 7


def test_spread_sort_puts_the_biggest_story_first(console):
    client, tokens, _, _ = console
    body = get(client, tokens, "/api/v1/search", q="化工厂", sort="spread").json()
    assert body["hits"][0]["post_id"] == STORY and body["hits"][0]["spread"] == 3
    assert [h["spread"] for h in body["hits"]] == [3, 1, 1]


def test_trend_stacks_by_sentiment_and_facets_count_the_same_posts(console):
    client, tokens, _, _ = console
    trend = get(client, tokens, "/api/v1/trend", q="化工厂", interval="hour",
                since="2026-11-26T10:00", until="2026-11-26T13:00").json()
    assert [b["t"][:16] for b in trend["buckets"]] == ["2026-11-26T10:00", "2026-11-26T11:00", "2026-11-26T12:00"]
    assert [(b["negative"], b["neutral"], b["total"]) for b in trend["buckets"]] == [(3, 1, 4), (1, 0, 1), (0, 0, 0)]
    day = get(client, tokens, "/api/v1/trend", q="化工厂", interval="day").json()
    assert sum(b["total"] for b in day["buckets"]) == trend["total"] == 5
    facets = get(client, tokens, "/api/v1/facets", q="化工厂").json()
    assert facets["sites"] == [{"key": "microblog", "count": 2}, {"key": "qingshi-bbs", "count": 2},
                               {"key": "county-news", "count": 1}]
    assert {"key": "青石镇", "count": 5} in facets["places"]
    assert {b["key"]: b["count"] for b in facets["sentiments"]} == {"negative": 4, "neutral": 1}


def test_cluster_lists_first_publisher_and_every_repost(console):
    client, tokens, _, _ = console
    body = get(client, tokens, f"/api/v1/clusters/{STORY}").json()
    assert body["first"]["post_id"] == STORY
    assert [(p["site"], p["published_at"][:16]) for p in body["posts"]] == [
        ("qingshi-bbs", "2026-11-26T02:00"), ("county-news", "2026-11-26T02:25"), ("microblog", "2026-11-26T03:10")]
    assert get(client, tokens, "/api/v1/clusters/nope").status_code == 404


def test_alert_history_event_and_duty_ack(console):
    client, tokens, alert_id, _ = console
    history = get(client, tokens, "/api/v1/alerts").json()
    alert = history["alerts"][0]
    assert (history["total"], alert["alert_id"], alert["channel"], alert["ack"]) == (1, alert_id, ["duty-webhook"], None)

    event = get(client, tokens, f"/api/v1/alerts/{alert_id}/event").json()
    assert event["first"]["post_id"] == STORY
    assert [s["site"] for s in event["sites"]] == ["qingshi-bbs", "county-news", "microblog"]
    assert event["total"] == sum(b["total"] for b in event["timeline"]) == 6
    assert [s["post_id"] for s in event["samples"]] == [STORY, "county-news:2"]

    assert client.post(f"/api/v1/alerts/{alert_id}/ack", headers={"Authorization": f"Bearer {tokens['viewer']}"}).status_code == 403
    resp = client.post(f"/api/v1/alerts/{alert_id}/ack", headers={"Authorization": f"Bearer {tokens['duty']}"})
    assert resp.status_code == 200 and resp.json()["acked"] == DEDUP_KEY
    assert get(client, tokens, "/api/v1/alerts").json()["alerts"][0]["ack"]["by"] == "it-duty"

    silence = client.post("/api/v1/silences", json={"subject": "青石镇", "duration": "1h"},
                          headers={"Authorization": f"Bearer {tokens['duty']}"})
    assert silence.status_code == 200
    assert [s["id"] for s in get(client, tokens, "/api/v1/silences").json()["silences"]] == [silence.json()["id"]]
    bad = client.post("/api/v1/silences", json={"subject": "青石镇", "duration": "forever"},
                      headers={"Authorization": f"Bearer {tokens['duty']}"})
    assert bad.status_code == 400 and bad.json()["parameter"] == "duration"


def test_exports_are_complete_and_neutralise_formulas(console):
    client, tokens, _, _ = console
    resp = get(client, tokens, "/api/v1/export.csv", q="化工厂")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["发布时间", "站点", "类型", "标题"] and len(rows) == 6
    formula = next(r for r in rows if "HYPERLINK" in r[3])
    assert formula[3] == "'" + FORMULA_TITLE and formula[4].startswith("'-1+2")
    assert rows[-1][0] == "2026-11-26 10:00:00"          # Asia/Shanghai, oldest last

    xlsx = get(client, tokens, "/api/v1/export.xlsx", q="化工厂", limit=3)
    sheet = load_workbook(io.BytesIO(xlsx.content), read_only=True).active
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert len(cells) == 4 and cells[0][0] == "发布时间"
    assert all(not str(v).startswith(("=", "+", "-", "@")) for row in cells for v in row if v is not None)


@pytest.mark.parametrize(("params", "parameter"), [
    ({"since": "yesterday"}, "since"),
    ({"size": "1000"}, "size"),
    ({"colour": "red"}, "colour"),
    ({"sort": "loudest"}, "sort"),
    ({"cursor": "%%%"}, "cursor"),
    ({"since": "2026-11-27", "until": "2026-11-26"}, "until"),
])
def test_bad_input_is_a_400_naming_the_parameter(console, params, parameter):
    client, tokens, _, _ = console
    resp = get(client, tokens, "/api/v1/search", **params)
    assert resp.status_code == 400
    assert resp.json()["parameter"] == parameter and resp.json()["error"]


def test_roles_and_token_administration(console):
    client, tokens, _, _ = console
    assert get(client, tokens, "/api/v1/tokens").status_code == 403
    assert get(client, tokens, "/api/v1/me", role="duty").json()["role"] == "duty"
    created = client.post("/api/v1/tokens", json={"role": "viewer", "name": "analyst"},
                          headers={"Authorization": f"Bearer {tokens['admin']}"}).json()
    listed = get(client, tokens, "/api/v1/tokens", role="admin").json()["tokens"]
    assert created["token_id"] in {t["token_id"] for t in listed}
    assert all(created["token"] not in str(t) for t in listed)          # stored hashed, never listed
    new = {"Authorization": f"Bearer {created['token']}"}
    assert client.get("/api/v1/me", headers=new).json()["name"] == "analyst"
    assert client.delete(f"/api/v1/tokens/{created['token_id']}",
                         headers={"Authorization": f"Bearer {tokens['admin']}"}).status_code == 200
    assert client.get("/api/v1/me", headers=new).status_code == 401


def test_cli_token_create_prints_the_token_on_its_last_line(console):
    import os
    import subprocess
    import sys

    client, _, _, settings = console
    proc = subprocess.run([sys.executable, "-m", "shaobing.cli", "console", "token", "create", "--role", "viewer",
                           "--name", "cli-analyst"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "SHAOBING_NAMESPACE": settings.namespace})
    assert proc.returncode == 0, proc.stderr
    token = proc.stdout.strip().splitlines()[-1]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert (me["name"], me["role"]) == ("cli-analyst", "viewer")
