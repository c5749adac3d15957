"""Signed acknowledge / silence links and the loopback silences API (aiohttp test client)."""
from __future__ import annotations

import re

import pytest
from aiohttp.test_utils import TestClient, TestServer

from alerting.control import ControlStore
from alerting.http import make_app
from alerting.links import LinkSigner
from tests.fakes.clock import FakeClock


@pytest.fixture
async def env(tmp_path):
    clock = FakeClock()
    control = ControlStore(tmp_path / "control.json")
    signer = LinkSigner(secret="link-secret", public_url="https://sb.example", ttl_s=3600)
    client = TestClient(TestServer(make_app(control, signer, clock)))
    await client.start_server()
    yield client, control, signer, clock
    await client.close()


def path_of(url: str) -> str:
    return url.replace("https://sb.example", "")


async def test_ack_link_asks_first_then_records_the_ack(env):
    client, control, signer, clock = env
    url = path_of(signer.url("ack", "sb-key1", "某县<b>", clock()))
    page = await client.get(url)
    body = await page.text()
    assert page.status == 200 and "确认收到" in body and "某县&lt;b&gt;" in body
    assert control.acks() == {}                       # a GET (link preview) does not acknowledge
    form = dict(re.findall(r"name=(\w+) value='([^']*)'", body))
    import html
    form = {k: html.unescape(v) for k, v in form.items()}
    done = await client.post("/ack", data={**form, "by": "王值班"})
    assert done.status == 200 and "已确认" in await done.text()
    assert control.acks()["sb-key1"]["by"] == "王值班" and control.acks()["sb-key1"]["subject"] == "某县<b>"


@pytest.mark.parametrize("tamper", ["subject", "key", "exp", "sig"])
async def test_tampered_or_expired_links_are_refused(env, tamper):
    client, control, signer, clock = env
    url = path_of(signer.url("ack", "sb-key1", "某县", clock()))
    bad = {"subject": url.replace("subject=", "subject=x"), "key": url.replace("key=sb", "key=sx"),
           "exp": url.replace("exp=", "exp=1"), "sig": url[:-3] + "abc"}[tamper]
    assert (await client.get(bad)).status == 403
    clock.advance(3601)
    assert (await client.get(url)).status == 403


async def test_silence_link_and_api(env):
    client, control, signer, clock = env
    page = await client.get(path_of(signer.url("silence", "sb-key1", "某县", clock())))
    import html
    form = {k: html.unescape(v) for k, v in re.findall(r"name=(\w+) value='([^']*)'", await page.text())}
    assert (await client.post("/silence", data={**form, "duration": "6h"})).status == 200
    (silence,) = control.active_silences(clock())
    assert silence["subject"] == "某县" and silence["ends_at"].startswith("2025-03-05T08:00")
    made = await client.post("/api/silences", json={"subject": "某市*", "rule": "surge", "duration": "30m"})
    assert made.status == 201
    listed = await (await client.get("/api/silences")).json()
    assert {s["subject"] for s in listed} == {"某县", "某市*"}
    assert (await client.delete(f"/api/silences/{(await made.json())['id']}")).status == 200
    assert (await client.post("/api/silences", json={"subject": "x", "duration": "40d"})).status == 400
