"""The console in headless Debian chromium (playwright drives /usr/bin/chromium; `make test`
installs it): log in, search, filter, trend canvas drawn, hostile post as text, export opened
with openpyxl, the event view opened from an alert, the cluster view, 401 without a token."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from tests.integration.console_fixture import (HOSTILE_TITLE, drop_namespace, fill_namespace, make_token,
                                               start_console)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAINTED = """sel => { const c = document.querySelector(sel); if (!c) return 0;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
  for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }"""


@pytest.fixture(scope="module")
def site(live_stack, tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.fail("the browser tests need Debian's chromium: `make browser` (apt-get install -y chromium "
                    "fonts-wqy-microhei)", pytrace=False)
    settings, _, alert_id = fill_namespace(live_stack.elasticsearch_url, tmp_path_factory.mktemp("console-state"))
    tokens = {role: make_token(settings, role) for role in ("viewer", "duty")}
    child, url = start_console(settings, tmp_path_factory.mktemp("console-logs"))
    try:
        yield url, tokens, alert_id
    finally:
        child.stop()
        drop_namespace(settings)


@pytest.fixture()
def page(site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(accept_downloads=True, locale="zh-CN", timezone_id="Asia/Shanghai")
            page = context.new_page()
            page.set_default_timeout(20_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            yield page
            assert errors == []
        finally:
            browser.close()


def login(page, url: str, token: str) -> None:
    page.goto(url + "/")
    page.fill("#login-token", token)
    page.click("#login-form button")
    page.wait_for_selector("#view-search:not([hidden])")


def test_a_request_without_token_gets_401(page, site):
    url, _, _ = site
    assert page.request.get(url + "/api/v1/search?q=化工厂").status == 401
    assert page.request.get(url + "/healthz").status == 200
    page.goto(url + "/")
    page.fill("#login-token", "sbt_wrong")
    page.click("#login-form button")
    page.wait_for_selector("#login-error:has-text('令牌无效')")


def test_search_filter_trend_hostile_text_and_export(page, site, tmp_path):
    url, tokens, _ = site
    login(page, url, tokens["viewer"])
    page.fill("#q", "化工厂")
    page.click("#search-btn")
    page.wait_for_selector("#total:has-text('共 5 条结果')")
    assert page.locator("#hits li").count() == 5
    assert page.locator("#hits em").first.inner_text() == "化工厂"          # our highlight markup

    hostile = page.locator("#hits li", has_text="window.__xss = 1")
    assert hostile.locator(".title").inner_text() == HOSTILE_TITLE          # shown as text
    assert page.evaluate("window.__xss") is None                          # and nothing ran
    assert page.locator("#hits script, #hits img").count() == 0
    assert hostile.locator("a.title").get_attribute("href") is None        # javascript: URL not linked

    page.wait_for_function(f"({PAINTED})('#trend canvas') > 500")
    assert page.locator("#facets li").count() > 0

    page.select_option("#f-sentiment", "neutral")
    page.click("#search-btn")
    page.wait_for_selector("#total:has-text('共 1 条结果')")

    with page.expect_download() as download:
        page.click("#export-xlsx")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    book = load_workbook(path, read_only=True)     # read-only keeps the file open until close()
    try:
        rows = [[c.value for c in row] for row in book.active.iter_rows()]
    finally:
        book.close()
    assert rows[0][0] == "发布时间" and len(rows) == 2
    assert rows[1][3].startswith("'=HYPERLINK")                          # the formula stays text


def test_event_view_opens_from_an_alert_and_cluster_view_lists_reposts(page, site):
    url, tokens, alert_id = site
    login(page, url, tokens["duty"])
    page.click("nav a[href='#/alerts']")
    page.wait_for_selector(".alert-row")
    row = page.locator(".alert-row").first
    assert "未确认" in row.inner_text()
    row.locator("button", has_text="确认").click()
    page.wait_for_selector(".alert-row:has-text('it-duty')")
    page.locator(".event-link").first.click()
    page.wait_for_selector("#event-title:has-text('青石镇')")
    assert page.locator("#event-first .title").inner_text() == "青石镇化工厂夜里又排异味了"
    assert page.locator("#event-sites tr").count() == 3
    page.wait_for_function(f"({PAINTED})('#event-timeline canvas') > 500")
    assert page.evaluate("location.hash") == f"#/event/{quote(alert_id, safe='')}"

    page.goto(url + "/#/search")
    page.fill("#q", "化工厂夜里")
    page.click("#search-btn")
    page.wait_for_selector("#total:has-text('共 1 条结果')")
    page.locator(".cluster-link").first.click()
    page.wait_for_selector("#view-cluster:not([hidden])")
    page.wait_for_selector("#cluster-posts tr >> nth=2")
    assert [t.split("\t")[1] for t in page.locator("#cluster-posts tr").all_inner_texts()] == [
        "qingshi-bbs", "county-news", "microblog"]
