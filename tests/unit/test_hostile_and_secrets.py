"""Issue 16 item 7: credentials in SHAOBING_ES_URL never printed; TLS / SASL / API key settings
reach every client; hostile crawled text cannot smuggle links, invisible characters or terminal
escapes into what shaobing shows."""
from __future__ import annotations

import ssl
from datetime import datetime, timedelta, timezone

import certifi
import pytest

from alerting import escape
from alerting.channels.webhook import WebhookChannel
from alerting.control import FileControlStore
from shaobing.cli import main
from shaobing.connections import es_options, faust_broker_credentials, kafka_python_options, redact_url, redact_urls
from shaobing.settings import SettingsError, load_settings
from tests.fakes.alerts import alert, sample
from tests.integration.helpers import free_port

PASSWORD = "S3cret-Passw0rd-xyz"


@pytest.fixture
def es_env(monkeypatch, tmp_path):
    monkeypatch.setenv("SHAOBING_ES_URL", f"http://elastic:{PASSWORD}@127.0.0.1:{free_port()}")
    monkeypatch.setenv("SHAOBING_STATE_DIR", str(tmp_path))
    return tmp_path


def test_redaction_drops_userinfo_and_secret_query_values():
    assert redact_url(f"https://elastic:{PASSWORD}@es.example:9200/x") == "https://***@es.example:9200/x"
    assert PASSWORD not in redact_url(f"https://es.example/?api_key={PASSWORD}&pretty")
    assert redact_urls(f"failed: GET http://u:{PASSWORD}@h:1/_search (refused)") == "failed: GET http://***@h:1/_search (refused)"


def test_the_settings_validator_and_repr_do_not_print_the_password():
    with pytest.raises(SettingsError) as exc:
        load_settings(es_url=f"ftp://elastic:{PASSWORD}@es.example:9200")
    assert PASSWORD not in str(exc.value) and "ftp://***@es.example" in str(exc.value)
    s = load_settings(es_url=f"https://elastic:{PASSWORD}@es.example:9200")
    assert PASSWORD not in repr(s) and PASSWORD not in str(s) and PASSWORD not in s.es_url_display


def test_search_and_backtest_errors_do_not_print_the_password(es_env, capsys):
    assert main(["search", "化工厂"]) == 1
    assert main(["backtest", "--index", "--subject", "某县", "--since", "2026-11-01",
                 "--out", str(es_env / "out.csv")]) == 2
    out = capsys.readouterr()
    assert "127.0.0.1" in out.err                     # the errors still say where
    assert PASSWORD not in out.out + out.err


def test_kafka_sasl_ssl_reaches_kafka_python_and_faust(tmp_path):
    from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

    (tmp_path / "pw").write_text("kafka-pw-123456\n")
    s = load_settings(kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism="SCRAM-SHA-512",
                      kafka_sasl_username="shaobing", kafka_sasl_password_file=tmp_path / "pw",
                      kafka_ssl_cafile=certifi.where(), state_dir=tmp_path)
    assert kafka_python_options(s) == {"security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512",
                                       "sasl_plain_username": "shaobing", "sasl_plain_password": "kafka-pw-123456",
                                       "ssl_cafile": certifi.where()}
    auth = credentials_to_aiokafka_auth(faust_broker_credentials(s))
    assert (auth["security_protocol"], auth["sasl_mechanism"], auth["sasl_plain_username"],
            auth["sasl_plain_password"]) == ("SASL_SSL", "SCRAM-SHA-512", "shaobing", "kafka-pw-123456")
    assert isinstance(auth["ssl_context"], ssl.SSLContext)

    from streams.app import build_app, kafka_client_args
    app = build_app(s).app
    assert app.conf.broker_credentials is not None
    # the worker's own aiokafka clients (the analyze stage, the sequencer's log replay) get them too
    client = kafka_client_args(app)
    assert (client["security_protocol"], client["sasl_plain_username"]) == ("SASL_SSL", "shaobing")
    assert all(server.endswith(":9092") for server in client["bootstrap_servers"])
    assert faust_broker_credentials(load_settings(state_dir=tmp_path)) is None
    with pytest.raises(SettingsError, match="SASL_PASSWORD_FILE"):
        load_settings(kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_username="x")


def test_es_api_key_and_ca_reach_the_client(tmp_path):
    from elasticsearch import Elasticsearch

    (tmp_path / "key").write_text("aWQ6a2V5\n")
    s = load_settings(es_url="https://es.example:9200", es_api_key_file=tmp_path / "key", es_ca_certs=certifi.where())
    opts = es_options(s)
    assert opts == {"api_key": "aWQ6a2V5", "ca_certs": certifi.where()}
    with Elasticsearch(s.elasticsearch_url, **opts) as es:
        assert es.transport.node_pool.get().config.ca_certs == certifi.where()
        assert es._headers["authorization"] == "ApiKey aWQ6a2V5"


@pytest.mark.parametrize("text", ["官方通报见 https://evil.example/notice", "详情 http://1.2.3.4:8080/x",
                                  "请访问 www.evil-gov.cn 查看", "HTTPS://EVIL.EXAMPLE",
                                  # glued to Chinese, a digit or an underscore (all \w: no \b before them)
                                  "详情见https://evil.example/login", "官方通报www.evil-gov.cn/x",
                                  "1https://evil.example", "转发_http://evil.example", "见WWW.EVIL.CN"])
def test_bare_urls_do_not_survive_markdown_escaping(text):
    out = escape.markdown(text)
    assert "://" not in out and "www." not in out.lower()


def test_plain_strips_c1_controls_and_invisible_characters():
    hostile = "某县\x85化工\u200b厂\u200c\u200d\u200e\u200f\ufeff\x9b31m排污\u2060"
    assert escape.plain(hostile) == "某县 化工厂 31m排污"


def test_safe_url_rejects_userinfo():
    assert escape.safe_url("https://gov.cn@evil.example/") == ""
    assert escape.safe_url("https://user:pw@gov.cn/") == ""
    assert escape.safe_url("https://gov.cn/search?q=a@b") != ""


def test_webhook_samples_carry_only_http_urls():
    a = alert(samples=[sample(0).model_copy(update={"url": "javascript:alert(1)"}),
                       sample(1).model_copy(update={"url": "https://gov.cn@evil.example/"}), sample(2)])
    payload = WebhookChannel("hook", "https://hooks.example/t", "").build_payload(a)
    urls = [s["url"] for s in payload["alerts"][0]["shaobing"]["samples"]]
    assert urls[:2] == ["", ""] and urls[2].startswith("https://")


def test_silence_list_does_not_print_terminal_escapes(tmp_path, monkeypatch, capsys):
    from alerting.service import control_path

    monkeypatch.setenv("SHAOBING_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("SHAOBING_CONTROL_BACKEND", "file")
    control = FileControlStore(control_path(load_settings()))
    control.add_silence(subject="\x1b]8;;https://evil.example\x07点我\x1b]8;;\x07", comment="\x1b[2J\x1b[31m清屏",
                        duration=timedelta(hours=1), now=datetime.now(timezone.utc))
    assert main(["alerts", "silence", "list"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "点我" in out and "清屏" in out
