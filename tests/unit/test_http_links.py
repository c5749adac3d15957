"""Signed acknowledge / silence links and the loopback silences API (aiohttp test client)."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer

from alerting.control import FileControlStore, silence_matches
from alerting.http import make_app
from alerting.links import LinkSigner
from tests.fakes.clock import FakeClock

TOKEN = "api-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def env(tmp_path):
    clock = FakeClock()
    control = FileControlStore(tmp_path / "control.json")
    signer = LinkSigner(secret="link-secret", public_url="https://sb.example", ttl_s=3600)
    client = TestClient(TestServer(make_app(control, signer, clock, api_token=TOKEN)))
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
    made = await client.post("/api/silences", json={"subject": "某市*", "rule": "surge", "duration": "30m",
                                                    "glob": True}, headers=AUTH)
    assert made.status == 201
    listed = await (await client.get("/api/silences", headers=AUTH)).json()
    assert {s["subject"] for s in listed} == {"某县", "某市*"}
    assert (await client.delete(f"/api/silences/{(await made.json())['id']}", headers=AUTH)).status == 200
    assert (await client.post("/api/silences", json={"subject": "x", "duration": "40d"}, headers=AUTH)).status == 400


async def test_the_silences_api_needs_the_token_even_from_loopback(env, tmp_path):
    client, control, signer, clock = env
    body = {"subject": "*", "glob": True, "duration": "30d"}
    assert (await client.post("/api/silences", json=body)).status == 401
    assert (await client.post("/api/silences", json=body, headers={"Authorization": "Bearer wrong"})).status == 401
    assert (await client.get("/api/silences")).status == 401
    assert control.active_silences(clock()) == []
    closed = TestClient(TestServer(make_app(control, signer, clock)))      # no token configured
    await closed.start_server()
    try:
        assert (await closed.post("/api/silences", json=body, headers=AUTH)).status == 403
    finally:
        await closed.close()


async def _form_of(client, url: str) -> dict:
    import html
    page = await client.get(path_of(url))
    return {k: html.unescape(v) for k, v in re.findall(r"name=(\w+) value='([^']*)'", await page.text())}


async def test_a_replayed_silence_link_makes_one_silence(env):
    client, control, signer, clock = env
    form = await _form_of(client, signer.url("silence", "sb-key1", "某县", clock()))
    for _ in range(3):
        assert (await client.post("/silence", data={**form, "duration": "6h"})).status == 200
        clock.advance(60)
    assert len(control.active_silences(clock())) == 1


@pytest.mark.parametrize("sig", ["签名" * 10, "é" * 43, "a" * 600])
async def test_a_malformed_sig_is_a_400_not_a_500(env, sig):
    client, control, signer, clock = env
    url = path_of(signer.url("ack", "sb-key1", "某县", clock()))
    bad = re.sub(r"sig=[^&]*", "sig=" + sig, url)
    assert (await client.get(bad)).status in (400, 403)
    form = await _form_of(client, signer.url("ack", "sb-key1", "某县", clock()))
    assert (await client.post("/ack", data={**form, "sig": sig})).status == 400


def test_the_signed_message_is_unambiguous():
    signer = LinkSigner(secret="link-secret", public_url="https://sb.example")
    assert signer.signature("ack", "a|b", "c", "", 1) != signer.signature("ack", "a", "b|c", "", 1)
    assert signer.signature("ack", "a", "b", "c|1", 2) != signer.signature("ack", "a", "b|c", "1", 2)


def test_a_silence_subject_is_literal_unless_glob_is_asked_for(tmp_path):
    clock = FakeClock()
    control = FileControlStore(tmp_path / "control.json")
    control.add_silence(subject="[重点]化工厂", duration=timedelta(hours=1), now=clock())
    muted = {s: any(silence_matches(x, {"subject": s, "rule": "surge"}, clock()) for x in control.active_silences(clock()))
             for s in ("[重点]化工厂", "重化工厂", "点化工厂")}
    assert muted == {"[重点]化工厂": True, "重化工厂": False, "点化工厂": False}
    control.add_silence(subject="某县*", glob=True, duration=timedelta(hours=1), now=clock())
    assert any(silence_matches(x, {"subject": "某县二中", "rule": "surge"}, clock()) for x in control.active_silences(clock()))


def test_expired_silences_are_pruned(tmp_path):
    clock = FakeClock()
    control = FileControlStore(tmp_path / "control.json")
    for _ in range(5):
        control.add_silence(subject="某县", duration=timedelta(hours=1), now=clock())
        clock.advance(2 * 3600)
    stored = json.loads((tmp_path / "control.json").read_text(encoding="utf-8"))
    assert len(stored) == 1
