"""The console's pipeline-health page: GET /api/v1/health against the real stack, in a namespace
where no worker runs (so the verdict must say so), and the page that shows it."""
from __future__ import annotations

import httpx
import pytest

from tests.integration.console_fixture import drop_namespace, fill_namespace, make_token, start_console


@pytest.fixture(scope="module")
def console(live_stack, tmp_path_factory):
    settings, _posts, _alert_id = fill_namespace(live_stack.elasticsearch_url, tmp_path_factory.mktemp("health-state"))
    token = make_token(settings, "viewer")
    child, url = start_console(settings, tmp_path_factory.mktemp("health-logs"))
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            yield client, token, settings
    finally:
        child.stop()
        drop_namespace(settings)


def test_health_needs_a_token_and_reports_every_part(console):
    client, token, settings = console
    assert client.get("/api/v1/health").status_code == 401
    resp = client.get("/api/v1/health", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200
    body = resp.json()
    checks = {c["part"]: c for c in body["checks"]}
    assert set(checks) == {"kafka", "elasticsearch", "prometheus", "workers", "crawler", "lag", "freshness",
                           "last alert", "dead letters"}
    assert checks["kafka"]["state"] == checks["elasticsearch"]["state"] == "ok"
    assert checks["workers"]["state"] == "fail"            # none runs in this namespace
    assert body["verdict"] == "unhealthy" and body["exit_code"] == 1
    assert body["namespace"] == settings.namespace
    assert "青石镇" in checks["last alert"]["detail"]        # the fixture's alert, from the history index


def test_the_page_links_the_health_view(console):
    client, _token, _settings = console
    page = client.get("/").text
    assert 'href="#/health"' in page and 'id="view-health"' in page
    assert "showHealth" in client.get("/static/app.js").text


def test_health_view_in_the_browser(live_stack, tmp_path):
    """Headless Debian chromium: the view lists every check as text, says what is broken, and
    raises no script error (the fixtures and the login come from the console's browser tests)."""
    from tests.integration.test_console_browser import CHROMIUM, CHROMIUM_ARGS, login

    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail("the browser tests need Debian's chromium: `make browser`", pytrace=False)
    settings, _, _ = fill_namespace(live_stack.elasticsearch_url, tmp_path / "state")
    token = make_token(settings, "viewer")
    child, url = start_console(settings, tmp_path / "logs")
    errors: list[str] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            try:
                page = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai").new_page()
                page.set_default_timeout(60_000)
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                login(page, url, token)
                page.click("nav a[href='#/health']")
                page.wait_for_selector("#health-checks tr >> nth=8")
                rows = page.locator("#health-checks tr").all_inner_texts()
                assert any(r.startswith("故障\tworkers") for r in rows), rows
                assert any(r.startswith("正常\tkafka") for r in rows), rows
                assert page.locator("#health-verdict").inner_text().startswith("存在故障")
                page.screenshot(path=str(tmp_path / "health.png"), full_page=True)
            finally:
                browser.close()
    finally:
        child.stop()
        drop_namespace(settings)
    assert errors == []
