import pytest

from shaobing.settings import SettingsError, load_settings


def test_defaults_point_at_the_local_stack(monkeypatch):
    for var in ("SHAOBING_KAFKA_BOOTSTRAP", "SHAOBING_ES_URL", "SHAOBING_KAFKA_PORT", "SHAOBING_ES_PORT"):
        monkeypatch.delenv(var, raising=False)
    s = load_settings()
    assert s.kafka_servers == "127.0.0.1:9092"
    assert s.elasticsearch_url == "http://127.0.0.1:9200"
    assert s.uses_local_stack


def test_environment_overrides_with_prefix(monkeypatch):
    monkeypatch.setenv("SHAOBING_KAFKA_BOOTSTRAP", "k1:9092,k2:9093")
    monkeypatch.setenv("SHAOBING_ES_URL", "https://es.example:9200/")
    s = load_settings()
    assert s.kafka_servers == "k1:9092,k2:9093"
    assert s.elasticsearch_url == "https://es.example:9200"
    assert not s.uses_local_stack


def test_local_ports_follow_the_port_settings(monkeypatch):
    monkeypatch.delenv("SHAOBING_KAFKA_BOOTSTRAP", raising=False)
    monkeypatch.setenv("SHAOBING_KAFKA_PORT", "19092")
    assert load_settings().kafka_servers == "127.0.0.1:19092"


@pytest.mark.parametrize(
    ("var", "value", "fragment"),
    [
        ("SHAOBING_KAFKA_BOOTSTRAP", "localhost", "SHAOBING_KAFKA_BOOTSTRAP"),
        ("SHAOBING_ES_URL", "es:9200", "SHAOBING_ES_URL"),
        ("SHAOBING_KAFKA_HEAP_MB", "4096", "SHAOBING_KAFKA_HEAP_MB"),
        ("SHAOBING_ES_PORT", "9092", "both 9092"),
    ],
)
def test_invalid_values_name_the_variable(monkeypatch, var, value, fragment):
    monkeypatch.delenv("SHAOBING_KAFKA_PORT", raising=False)
    monkeypatch.setenv(var, value)
    with pytest.raises(SettingsError) as exc:
        load_settings()
    assert fragment in str(exc.value)


def test_settings_are_frozen():
    s = load_settings()
    with pytest.raises(Exception):
        s.kafka_port = 1
