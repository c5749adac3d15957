"""One typed Settings object for every shaobing process, read from `SHAOBING_*` environment
variables (and an optional `.env`). Built once at the entry point and passed down."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_root(kind: str) -> Path:
    # Elasticsearch refuses to run as root, so root runs it as an unprivileged user; that user
    # must be able to reach the node's files, which /root/... does not allow.
    if os.geteuid() == 0:
        return Path("/var/cache/shaobing") if kind == "cache" else Path("/var/lib/shaobing")
    home = Path.home()
    return home / ".cache" / "shaobing" if kind == "cache" else home / ".local" / "state" / "shaobing"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHAOBING_", env_file=".env", extra="ignore", frozen=True)

    # --- where the services are (point these at existing clusters to skip the local stack)
    kafka_bootstrap: str = Field("", description="host:port[,host:port]; empty = the local stack")
    es_url: str = Field("", repr=False, description="http(s)://host:port; empty = the local stack; "
                        "may carry user:password@, which is never printed (shaobing.connections.redact_url)")

    # --- securing the connections to your own clusters (shaobing.connections passes them on)
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    kafka_sasl_username: str = ""
    kafka_sasl_password_file: Path | None = Field(None, description="a file holding the SASL password")
    kafka_ssl_cafile: Path | None = Field(None, description="CA bundle (PEM) that signed the brokers' certificates")
    es_api_key_file: Path | None = Field(None, description="a file holding an Elasticsearch API key (base64 id:key)")
    es_ca_certs: Path | None = Field(None, description="CA bundle (PEM) for an https:// Elasticsearch")

    # --- the local stack (`shaobing stack up`)
    cache_dir: Path = Field(default_factory=lambda: _default_root("cache"))
    state_dir: Path = Field(default_factory=lambda: _default_root("state"))
    kafka_port: int = Field(9092, ge=1, le=65535)
    kafka_controller_port: int = Field(9093, ge=1, le=65535)
    es_port: int = Field(9200, ge=1, le=65535)
    es_transport_port: int = Field(9300, ge=1, le=65535)
    kafka_heap_mb: int = Field(512, ge=128, le=1024)
    # brokers of the local stack (`stack up --brokers 3`): broker i listens on kafka_port + 2i and
    # its controller on kafka_controller_port + 2i (9092/9093, 9094/9095, 9096/9097)
    kafka_brokers: int = Field(1, ge=1, le=5)
    # replication of the topics shaobing creates (stack up, provision, the worker's Faust topics):
    # 0 = min(3, brokers in the cluster); min.insync.replicas 0 = 2 when replicated 3+ ways, else 1
    kafka_replication_factor: int = Field(0, ge=0, le=7)
    kafka_min_insync_replicas: int = Field(0, ge=0, le=7)
    es_heap_mb: int = Field(512, ge=256, le=1024)
    java_home: Path | None = None
    es_user: str = "shaobing-es"
    stack_timeout_s: float = Field(180.0, gt=0)

    # --- isolation: a namespace prefixes every topic, index alias and the Faust app id, so a demo
    # run or a test session can share one stack with production without touching its data
    namespace: str = Field("", pattern=r"^([a-z0-9][a-z0-9-]{0,39})?$")

    # --- the stream worker
    app_id: str = Field("shaobing", description="Faust app id: consumer group and internal topic prefix")
    worker_store: str = Field("rocksdb://", description="Faust table store: rocksdb:// (local, survives restarts) or memory://")
    worker_name: str = Field("worker", pattern=r"^[A-Za-z0-9_.-]{1,64}$",
                             description="this worker's local state folder; unique per worker on one host")
    worker_session_timeout_s: float = Field(10.0, ge=6, le=300, description="group session timeout: how soon a dead worker's partitions move")
    worker_standby_replicas: int = Field(0, ge=0, le=3, description="Faust standby copies of each table partition on other workers")
    state_horizon_days: int = Field(14, ge=1, le=365, description="dedup and repost state expire after this; keep it longer than posts.raw retention")
    rules_file: Path | None = Field(None, description="alert rules YAML; empty = the packaged defaults")
    watchlist_file: Path | None = Field(None, description="watch-list YAML; empty = the packaged defaults")
    report_unit: str = Field("舆情监测值班室", max_length=100, description="reporting unit (报送单位) printed on 《舆情摘报》")
    index_batch_size: int = Field(500, ge=1, le=10_000)
    index_batch_s: float = Field(0.5, gt=0)
    index_batch_bytes: int = Field(5 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024,
                                   description="max NDJSON bytes per bulk request (under http.max_content_length)")
    index_inline_timeout_s: float = Field(10.0, gt=0, le=300, description="the analyze stage indexes its batch "
                                          "itself; a write slower than this spills the batch to posts.enriched")
    index_spill_pause_s: float = Field(30.0, ge=0, le=3600, description="after a slow write, batches are "
                                       "spilled without trying for this long, then one probes the node again")

    # --- alerting HTTP server (`shaobing alerts serve`): a file holding the bearer token that the
    # silences API (/api/silences) requires; unset = the API is closed (links still work)
    alerts_api_token_file: Path | None = None
    # where silences and acks live: the compacted Kafka topic alerts.control, seen by every worker
    # on every host ("kafka"), or a JSON file under state_dir for a single host without Kafka ("file")
    control_backend: Literal["kafka", "file"] = "kafka"

    # --- processes
    metrics_port: int = Field(9464, ge=0, le=65535, description="0 = pick a free port")
    log_level: str = "INFO"

    # --- the operators' view (`shaobing stack up --with-prometheus`, `shaobing status`)
    prometheus_port: int = Field(9490, ge=1, le=65535, description="the local Prometheus, on 127.0.0.1")
    alertmanager_port: int = Field(9493, ge=1, le=65535, description="Alertmanager on 127.0.0.1 (9093 is Kafka's controller)")
    prometheus_bin: Path | None = Field(None, description="prometheus binary; empty = `prometheus` on PATH")
    prometheus_url: str = Field("", description="an existing Prometheus for `shaobing status`; empty = the local one")

    @field_validator("kafka_bootstrap")
    @classmethod
    def _check_bootstrap(cls, value: str) -> str:
        value = value.strip()
        for server in filter(None, value.split(",")):
            host, sep, port = server.strip().rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"{server!r} is not host:port")
        return value

    @field_validator("es_url")
    @classmethod
    def _check_es_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith(("http://", "https://")):
            from shaobing.connections import redact_url

            raise ValueError(f"{redact_url(value)!r} must start with http:// or https://")
        return value

    @model_validator(mode="after")
    def _sasl_complete(self) -> "Settings":
        if self.kafka_security_protocol.startswith("SASL_") and not (self.kafka_sasl_username and self.kafka_sasl_password_file):
            raise ValueError(f"kafka_security_protocol {self.kafka_security_protocol} needs "
                             "SHAOBING_KAFKA_SASL_USERNAME and SHAOBING_KAFKA_SASL_PASSWORD_FILE")
        return self

    @property
    def es_url_display(self) -> str:
        """The Elasticsearch URL for messages: never its credentials."""
        from shaobing.connections import redact_url

        return redact_url(self.elasticsearch_url)

    @model_validator(mode="after")
    def _distinct_ports(self) -> "Settings":
        ports = {
            "es_port": self.es_port,
            "es_transport_port": self.es_transport_port,
            "prometheus_port": self.prometheus_port,
            "alertmanager_port": self.alertmanager_port,
        }
        for i in range(self.kafka_brokers):
            suffix = f" (broker {i + 1})" if i else ""
            ports[f"kafka_port{suffix}"] = self.kafka_port + 2 * i
            ports[f"kafka_controller_port{suffix}"] = self.kafka_controller_port + 2 * i
        seen: dict[int, str] = {}
        for name, port in ports.items():
            if port in seen:
                raise ValueError(f"{name} and {seen[port]} are both {port}")
            seen[port] = name
        return self

    @property
    def kafka_servers(self) -> str:
        return self.kafka_bootstrap or ",".join(f"127.0.0.1:{self.kafka_port + 2 * i}" for i in range(self.kafka_brokers))

    @property
    def elasticsearch_url(self) -> str:
        return self.es_url or f"http://127.0.0.1:{self.es_port}"

    def topic(self, name: str) -> str:
        return f"{self.namespace}.{name}" if self.namespace else name

    def alias(self, name: str) -> str:
        return f"{self.namespace}-{name}" if self.namespace else name

    @property
    def prometheus_api(self) -> str:
        return self.prometheus_url.rstrip("/") or f"http://127.0.0.1:{self.prometheus_port}"

    @property
    def faust_app_id(self) -> str:
        return f"{self.app_id}-{self.namespace}" if self.namespace else self.app_id

    @property
    def analyze_group_id(self) -> str:
        """The consumer group of the analyze stage (streams.raw_stage), which reads posts.raw
        outside the Faust app's group."""
        return f"{self.faust_app_id}-analyze"

    @property
    def worker_state_dir(self) -> Path:
        """Where this namespace's workers on this host keep their local state, a folder each."""
        return self.state_dir / "worker" / self.faust_app_id

    @property
    def uses_local_stack(self) -> bool:
        return not self.kafka_bootstrap and not self.es_url


class SettingsError(Exception):
    """The environment does not describe a valid configuration."""


def load_settings(**overrides) -> Settings:
    """Build Settings, turning pydantic's error into one readable message naming each field."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "settings"
            env = f"SHAOBING_{field.upper()}" if err["loc"] else "SHAOBING_*"
            lines.append(f"{env}: {err['msg']}")
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from exc
