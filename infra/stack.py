"""`shaobing stack up|down|status`: the local Kafka + Elasticsearch stack on loopback.

Reads the stack fields of Settings. `up` fetches (once), starts both nodes, waits until they
are healthy, then creates the topics (from streams.topics) and applies the index templates;
every step is idempotent, so `up` on a running stack only re-checks and says so.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

from infra import fetch
from infra.errors import StackError
from infra.monitor import AlertmanagerNode, PrometheusNode, ready
from infra.nodes import ElasticsearchNode, KafkaNode, Node, find_java, kafka_nodes
from shaobing.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class NodeStatus:
    name: str
    pid: int | None
    healthy: bool
    detail: str


def kafka_healthy(servers: str, timeout_s: float = 3.0, options: dict | None = None,
                  brokers: int = 1) -> tuple[bool, str]:
    """The broker answers a metadata request that lists at least `brokers` brokers.
    `options`: TLS / SASL (shaobing.connections)."""
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    try:
        admin = KafkaAdminClient(bootstrap_servers=servers, request_timeout_ms=int(timeout_s * 1000),
                                 bootstrap_timeout_ms=int(timeout_s * 1000), client_id="shaobing-stack",
                                 **(options or {}))
    except (KafkaError, OSError, ValueError) as exc:
        return False, f"no metadata: {exc.__class__.__name__}"
    try:
        found = admin.describe_cluster()["brokers"]
        return len(found) >= max(1, brokers), f"{len(found)} broker(s)"
    except (KafkaError, OSError) as exc:
        return False, f"no metadata: {exc.__class__.__name__}"
    finally:
        admin.close()


def es_healthy(url: str, timeout_s: float = 3.0, options: dict | None = None, transport=None) -> tuple[bool, str]:
    """Cluster health is yellow or green. `options`: shaobing.connections.es_options (API key,
    CA bundle), so a secured node is asked as the other clients ask it; `transport`: tests'."""
    import ssl

    import httpx

    options = options or {}
    headers = {"Authorization": f"ApiKey {options['api_key']}"} if options.get("api_key") else {}
    verify = ssl.create_default_context(cafile=options["ca_certs"]) if options.get("ca_certs") else True
    try:
        with httpx.Client(headers=headers, verify=verify, transport=transport, timeout=timeout_s + 2) as client:
            resp = client.get(f"{url}/_cluster/health", params={"timeout": f"{int(timeout_s)}s"})
        status = resp.json().get("status", "?") if resp.status_code == 200 else f"HTTP {resp.status_code}"
    except (httpx.HTTPError, ValueError) as exc:
        return False, f"unreachable: {exc.__class__.__name__}"
    return status in ("yellow", "green"), f"cluster health {status}"


def _wait_healthy(node: Node, proc, check, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    detail = ""
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            node.pid_file.unlink(missing_ok=True)
            raise StackError(f"{node.name} exited during start-up (exit {proc.returncode}). Last log lines:\n"
                             f"{node.log_tail()}")
        ok, detail = check()
        if ok:
            return
        time.sleep(1.0)
    node.stop(timeout=20)
    raise StackError(f"{node.name} was not healthy after {timeout_s:.0f}s ({detail}); stopped it. "
                     f"Last log lines:\n{node.log_tail()}")


def create_topics(servers: str, name_of=lambda name: name, *, options: dict | None = None,
                  replication_factor: int = 0, min_insync_replicas: int = 0) -> list[str]:
    """Create every topic in streams.topics that is missing (names through `name_of`, for a
    namespace), replicated per streams.topics.replication (0 = automatic from the cluster's size).
    Returns the names created. `options`: TLS / SASL (shaobing.connections)."""
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic
    from kafka.errors import KafkaError, TopicAlreadyExistsError

    from streams.topics import ALL_TOPICS, replication, topic_config

    try:
        admin = KafkaAdminClient(bootstrap_servers=servers, client_id="shaobing-stack", **(options or {}))
    except KafkaError as exc:
        raise StackError(f"cannot reach Kafka at {servers} to create topics: {exc}") from exc
    try:
        existing = set(admin.list_topics())
        wanted = {name_of(t.name): t for t in ALL_TOPICS}
        try:
            rf, isr = replication(len(admin.describe_cluster()["brokers"]), replication_factor, min_insync_replicas)
        except ValueError as exc:
            raise StackError(f"SHAOBING_KAFKA_REPLICATION_FACTOR / _MIN_INSYNC_REPLICAS: {exc}") from None
        created = []
        for name, spec in wanted.items():
            if name in existing:
                continue
            try:
                admin.create_topics([NewTopic(name, spec.partitions, rf, topic_configs=topic_config(spec, isr))])
                created.append(name)
            except TopicAlreadyExistsError:
                pass
        for desc in admin.describe_topics([n for n in wanted if n in existing]):
            want = wanted[desc["name"]].partitions
            if len(desc["partitions"]) != want:
                log.warning("topic %s has %d partitions, streams.topics says %d; left as it is",
                            desc["name"], len(desc["partitions"]), want)
        return created
    finally:
        admin.close()


def apply_index_templates(url: str, alias_of=lambda name: name, options: dict | None = None) -> list[str]:
    from elasticsearch import ApiError, TransportError

    from indexer.templates import apply_templates
    from shaobing.connections import elasticsearch_client, redact_url, redact_urls

    try:
        with elasticsearch_client(url, options) as es:
            return apply_templates(es, alias_of)
    except (ApiError, TransportError) as exc:
        raise StackError(f"applying the index templates to {redact_url(url)} failed: {redact_urls(str(exc))}") from None


def cluster_brokers(servers: str, options: dict | None = None) -> int:
    """How many brokers the cluster has (the worker sizes its Faust topics' replication by it)."""
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    try:
        admin = KafkaAdminClient(bootstrap_servers=servers, client_id="shaobing-stack", **(options or {}))
    except KafkaError as exc:
        raise StackError(f"cannot reach Kafka at {servers}: {exc.__class__.__name__}") from exc
    try:
        return len(admin.describe_cluster()["brokers"])
    finally:
        admin.close()


class Stack:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.kafka_nodes = kafka_nodes(settings)
        self.kafka = self.kafka_nodes[0]
        self.es = ElasticsearchNode(settings)
        self.prometheus = PrometheusNode(settings)
        self.alertmanager = AlertmanagerNode(settings)

    @property
    def nodes(self) -> list[Node]:
        return [*self.kafka_nodes, self.es]

    def _checks(self):
        s = self.settings
        n = s.kafka_brokers
        checks = {node.name: (lambda port=node.port: kafka_healthy(f"127.0.0.1:{port}", brokers=n))
                  for node in self.kafka_nodes}
        return {**checks, self.es.name: lambda: es_healthy(s.elasticsearch_url)}

    def status(self) -> list[NodeStatus]:
        checks = self._checks()
        result = []
        for node in self.nodes:
            pid = node.pid()
            healthy, detail = checks[node.name]() if pid else (False, "not running")
            result.append(NodeStatus(node.name, pid, healthy, detail))
        for node in (self.prometheus, self.alertmanager):     # optional: listed only while they run
            if pid := node.pid():
                healthy, detail = ready(node.url)
                result.append(NodeStatus(node.name, pid, healthy, f"{detail}, {node.url}"))
        return result

    def up(self, echo=print) -> bool:
        """Start what is not running. Returns True if it was already fully up."""
        if not self.settings.uses_local_stack:
            raise StackError("SHAOBING_KAFKA_BOOTSTRAP / SHAOBING_ES_URL point at external clusters; "
                             "`stack up` only manages the local stack. Unset them to use it.")
        nodes = self.nodes
        running = {n.name: n.pid() for n in nodes}
        if all(running.values()) and all(s.healthy for s in self.status()):
            echo("stack already up: " + ", ".join(f"{n.name} (pid {running[n.name]})" for n in nodes))
            self._provision(echo)
            return True
        java = find_java(self.settings)
        for node in nodes:
            if not running[node.name]:
                node.check_ports_free()
        fetch.fetch_kafka(self.settings.cache_dir)
        fetch.fetch_elasticsearch(self.settings.cache_dir)
        procs = {}
        for node in nodes:
            if not running[node.name]:
                echo(f"starting {node.name} on 127.0.0.1:{node.port}")
                procs[node.name] = node.start(java)
        checks = self._checks()
        try:
            for node in nodes:
                _wait_healthy(node, procs.get(node.name), checks[node.name], self.settings.stack_timeout_s)
        except StackError:
            for node in nodes:
                if node.name in procs:
                    node.stop(timeout=20)
            raise
        self._provision(echo)
        echo("stack up: Kafka " + self.settings.kafka_servers + ", Elasticsearch " + self.settings.es_url_display)
        return False

    def _provision(self, echo) -> None:
        provision(self.settings, echo)

    def down(self, echo=print) -> bool:
        """Stop both nodes and wait for them. Returns True if anything was running."""
        # every Kafka node that runs, also those of a bigger cluster than Settings.kafka_brokers says
        # together: a broker stopped alone waits for a quorum the others' shutdown already broke
        from concurrent.futures import ThreadPoolExecutor

        monitors = [node.name for node in (self.alertmanager, self.prometheus) if node.stop()]
        extra = [KafkaNode(self.settings, i) for i in range(len(self.kafka_nodes), 5)]
        nodes = [*self.kafka_nodes, *extra, self.es]
        with ThreadPoolExecutor(len(nodes)) as pool:
            stopped = monitors + [node.name for node, ran in zip(nodes, pool.map(lambda n: n.stop(), nodes)) if ran]
        echo(("stopped " + ", ".join(stopped)) if stopped else "stack already down")
        return bool(stopped)


def provision(settings: Settings, echo=print) -> None:
    """Create the topics and indices of settings.namespace (idempotent); works on any cluster."""
    from shaobing.connections import es_options, kafka_python_options

    created = create_topics(settings.kafka_servers, settings.topic, options=kafka_python_options(settings),
                            replication_factor=settings.kafka_replication_factor,
                            min_insync_replicas=settings.kafka_min_insync_replicas)
    if created:
        echo("created topics: " + ", ".join(created))
    indices = apply_index_templates(settings.elasticsearch_url, settings.alias, es_options(settings))
    if indices:
        echo("created indices: " + ", ".join(indices))


def reset_namespace(settings: Settings, echo=print) -> None:
    """Delete a namespace's topics (its Faust changelogs included), indices and worker state, so
    a demo can start from empty. Refuses the default namespace: that is where real data lives."""
    import shutil

    from kafka import KafkaAdminClient

    from shaobing.connections import es_client

    ns = settings.namespace
    if not ns:
        raise StackError("refusing to reset the default namespace")
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_servers, client_id="shaobing-stack")
    try:
        doomed = namespace_topics(settings, admin.list_topics())
        if doomed:
            admin.delete_topics(doomed)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and set(doomed) & set(admin.list_topics()):
                time.sleep(0.5)
        groups = sorted({_group_id(g) for g in admin.list_groups()} & namespace_groups(settings))
        if groups:
            admin.delete_groups(groups)
    finally:
        admin.close()
    with es_client(settings) as es:
        es.indices.delete(index=f"{ns}-*", ignore_unavailable=True, allow_no_indices=True)
    shutil.rmtree(settings.worker_state_dir, ignore_errors=True)
    echo(f"reset namespace {ns!r}: {len(doomed)} topics and its indices deleted")


def namespace_topics(settings: Settings, topics: Iterable[str]) -> list[str]:
    """The topics of settings.namespace among `topics`: its own (<namespace>.<name>) and Faust's
    internal ones (<app id>-<namespace>-...), but not Faust's topics of a longer namespace that
    begins with this one (those of `e2e-1a2b3c4d-x` are not `e2e-1a2b3c4d`'s)."""
    topics = list(topics)
    ns, faust = settings.namespace, f"{settings.faust_app_id}-"
    longer = tuple(f"{settings.model_copy(update={'namespace': other}).faust_app_id}-"
                   for other in {t.partition(".")[0] for t in topics if "." in t}
                   if other != ns and other.startswith(f"{ns}-"))
    return [t for t in topics
            if t.startswith(f"{ns}.") or (t.startswith(faust) and not (longer and t.startswith(longer)))]


def namespace_groups(settings: Settings) -> set[str]:
    """The consumer groups settings.namespace's workers join."""
    return {settings.faust_app_id, settings.analyze_group_id}


def _group_id(group) -> str:
    # kafka-python 3 returns dicts; older releases returned (group_id, protocol) tuples
    return group.get("group_id", "") if isinstance(group, dict) else group[0]
