"""The console's 摘报, 档案 and 交接班 pages in headless chromium: a case opened from the fixture's
alert shows its frozen posts (the hostile one as text), a note is added, a stale edit shows the
409 message, the daily report opens in its sandboxed frame."""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from elasticsearch import AsyncElasticsearch

from indexer.cases import CASES_ALIAS, CaseStore, add_note
from tests.integration.console_fixture import (BASE, HOSTILE_TITLE, drop_namespace, fill_namespace, make_token,
                                               start_console)
from tests.integration.test_console_browser import CHROMIUM, login, page  # noqa: F401  (the page fixture)


@pytest.fixture(scope="module")
def site(live_stack, tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.fail("the browser tests need Debian's chromium: `make browser`", pytrace=False)
    settings, _, alert_id = fill_namespace(live_stack.elasticsearch_url, tmp_path_factory.mktemp("reports-state"))

    async def open_case():
        es = AsyncElasticsearch(settings.elasticsearch_url)
        try:
            store = CaseStore(es, cases=settings.alias(CASES_ALIAS), posts=settings.alias("posts"),
                              alerts=settings.alias("alerts"))
            return (await store.open(by="王五", now=BASE + timedelta(hours=3), alert_id=alert_id))["case_id"]
        finally:
            await es.close()

    case_id = asyncio.run(open_case())
    token = make_token(settings, "duty")
    child, url = start_console(settings, tmp_path_factory.mktemp("reports-logs"))
    try:
        yield url, {"duty": token}, case_id, settings
    finally:
        child.stop()
        drop_namespace(settings)


def test_case_page_report_frame_and_handoff(page, site):  # noqa: F811
    url, tokens, case_id, settings = site
    login(page, url, tokens["duty"])
    page.goto(f"{url}/#/case/{case_id}")
    page.wait_for_selector("#case-posts li >> nth=4")
    assert HOSTILE_TITLE in page.locator("#case-posts").inner_text()           # shown as text
    assert page.evaluate("window.__xss") is None and page.locator("#case-posts script, #case-posts img").count() == 0
    page.fill("#case-form input[name=note]", "已联系属地核实")
    page.click("#case-form button")
    page.wait_for_selector("#case-notes li:has-text('已联系属地核实')")

    async def edit_behind_the_page():          # someone else saves meanwhile: the page's version is stale
        es = AsyncElasticsearch(settings.elasticsearch_url)
        try:
            store = CaseStore(es, cases=settings.alias(CASES_ALIAS), posts=settings.alias("posts"),
                              alerts=settings.alias("alerts"))
            doc, version = await store.get(case_id)
            await store.save(add_note(doc, text="另一位值班员", by="乙", now=BASE + timedelta(hours=4)), version)
        finally:
            await es.close()

    with ThreadPoolExecutor(1) as pool:          # playwright's sync API owns this thread's event loop
        pool.submit(lambda: asyncio.run(edit_behind_the_page())).result()
    page.select_option("#case-form select[name=status]", "已处置")
    page.click("#case-form button")
    page.wait_for_selector("#case-error:has-text('请刷新')")

    page.goto(f"{url}/#/handoff")
    page.wait_for_selector(f"#handoff-cases li:has-text('{case_id}')")

    page.goto(f"{url}/#/reports")
    page.wait_for_selector("#view-reports:not([hidden])")
    page.fill("#report-form input[name=date]", "2026-11-27")
    page.click("#report-form button[type=submit]")
    frame = page.frame_locator("#report-frame")
    assert frame.locator("h2").first.inner_text(timeout=20_000) == "一、总体态势"
    assert "本期共监测到相关信息 7 条" in frame.locator("body").inner_text()
