"""How every shaobing client reaches Kafka and Elasticsearch, built once from Settings: TLS and
SASL for Kafka (kafka-python in the CLI, the crawler and `stack`; aiokafka through Faust in the
worker), API key and CA bundle for Elasticsearch, and the redacted form of URLs for messages.

Reads Settings.kafka_security_protocol, kafka_sasl_mechanism, kafka_sasl_username,
kafka_sasl_password_file, kafka_ssl_cafile, es_api_key_file, es_ca_certs. Secret files are read
here, registered with the log filter (alerting.redact) and never put in a message.
"""
from __future__ import annotations

import re
import ssl
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from alerting.redact import protect

_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")
SECRET_QUERY_KEYS = ("api_key", "apikey", "access_token", "token", "password", "secret", "key", "sign")


def redact_url(url: str) -> str:
    """The URL without its userinfo (user:password@) and with secret-looking query values masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<url>"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = "&".join(
        (f"{k}=***" if k.lower() in SECRET_QUERY_KEYS else f"{k}={v}") if sep else k
        for k, sep, v in (pair.partition("=") for pair in parts.query.split("&"))) if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_urls(text: str) -> str:
    """Every URL in free text (an exception message, say) redacted."""
    return _URL.sub(lambda m: redact_url(m.group(0)), text)


def _secret_file(path: Path | None, what: str) -> str:
    if path is None:
        return ""
    try:
        value = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"{what} {path}: cannot read ({exc.strerror})") from None
    protect(value)
    return value


def kafka_python_options(settings) -> dict:
    """Keyword arguments for kafka-python's KafkaProducer / KafkaConsumer / KafkaAdminClient."""
    s = settings
    opts: dict = {"security_protocol": s.kafka_security_protocol}
    if s.kafka_security_protocol.startswith("SASL_"):
        opts.update(sasl_mechanism=s.kafka_sasl_mechanism, sasl_plain_username=s.kafka_sasl_username,
                    sasl_plain_password=_secret_file(s.kafka_sasl_password_file, "SHAOBING_KAFKA_SASL_PASSWORD_FILE"))
    if s.kafka_security_protocol.endswith("SSL") and s.kafka_ssl_cafile:
        opts["ssl_cafile"] = str(s.kafka_ssl_cafile)
    return opts


def _ssl_context(settings) -> ssl.SSLContext:
    cafile = str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
    return ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)


def faust_broker_credentials(settings):
    """Faust's `broker_credentials` (passed on to aiokafka), or None for PLAINTEXT."""
    import faust

    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    if protocol == "SSL":
        return faust.SSLCredentials(_ssl_context(settings))
    return faust.SASLCredentials(
        username=settings.kafka_sasl_username,
        password=_secret_file(settings.kafka_sasl_password_file, "SHAOBING_KAFKA_SASL_PASSWORD_FILE"),
        mechanism=settings.kafka_sasl_mechanism,
        ssl_context=_ssl_context(settings) if protocol == "SASL_SSL" else None)


def es_options(settings) -> dict:
    """Keyword arguments for Elasticsearch / AsyncElasticsearch besides the URL."""
    opts: dict = {}
    if settings.es_api_key_file:
        opts["api_key"] = _secret_file(settings.es_api_key_file, "SHAOBING_ES_API_KEY_FILE")
    if settings.es_ca_certs:
        opts["ca_certs"] = str(settings.es_ca_certs)
    return opts


def elasticsearch_client(url: str, options: dict | None = None, *, asynchronous: bool = False,
                         request_timeout: float = 30, **extra):
    """The one constructor of the project's Elasticsearch clients (sync or asyncio): the URL,
    the connection options of es_options() (API key, CA bundle) and the caller's extras
    (serializers ...). Every client goes through here, so a secured node is reached the same way
    by the worker, the console, the CLI and the benches (tests/unit/test_es_clients.py checks)."""
    from elasticsearch import AsyncElasticsearch, Elasticsearch

    cls = AsyncElasticsearch if asynchronous else Elasticsearch
    return cls(url, request_timeout=request_timeout, **(options or {}), **extra)


def es_client(settings, **kwargs):
    """A synchronous client for settings.elasticsearch_url with the settings' options."""
    return elasticsearch_client(settings.elasticsearch_url, es_options(settings), **kwargs)


def async_es_client(settings, **kwargs):
    """An asyncio client for settings.elasticsearch_url with the settings' options."""
    return elasticsearch_client(settings.elasticsearch_url, es_options(settings), asynchronous=True, **kwargs)
