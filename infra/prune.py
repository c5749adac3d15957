"""Namespaces the project's own runs leave on the local stack, deleted once they are old.

Every integration and end-to-end test, benchmark run and `shaobing demo --once` works in a
namespace of its own: a fixed prefix and a random or time suffix (`e2e-1f2e3d4c`,
`it-crawl-0a1b2c3d4e`, `bench-w1-a1b2c3`, `demo-20261130162320`). A run leaves its data behind
(a failed run's topics and indices are what one looks at), so the shared stack gathers them:
about 50 Elasticsearch shards and 150 topics per `make test`, and Elasticsearch refuses to
create any index at all past 1,000 shards on a node (`cluster.max_shards_per_node`).

`shaobing stack prune` deletes such a namespace (its topics, Faust's internal topics, consumer
groups, indices and local worker/demo/bench state) once its last write is older than a cutoff,
six hours by default: a run still going is never touched. `make test` prunes first. Only names
of those generated forms are ever candidates; the default namespace, the live demo's `demo` and
any namespace an office names itself never match `GENERATED`.

A namespace's last write: the newest creation time of its indices and the newest modification
time of its topics' log segments on the local brokers. A namespace with a topic this host's
brokers do not hold is left alone (its last write is unknown), and prune refuses a stack that
is not the local one (`Settings.uses_local_stack`). The CLI will not prune anything younger than
an hour.
"""
from __future__ import annotations

import glob
import re
import shutil
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass

from infra.stack import _group_id, namespace_groups, namespace_topics
from shaobing.settings import Settings

# the exact forms the generators write, each suffix with at least one letter a-f: a name such as
# `it-center-20250601` or `e2e-20250101` is someone's, not a run's (a run whose random suffix
# happens to be all digits is left for a person to delete)
_HEX = r"(?=[0-9]*[a-f])[0-9a-f]"
GENERATED = re.compile(rf"e2e-{_HEX}{{8}}"                            # tests/e2e/conftest.py
                       rf"|(?:it(?:-[a-z0-9]+)+|cluster3)-{_HEX}{{10}}"   # tests/integration/helpers.unique
                       rf"|it-console-{_HEX}{{8}}"                      # tests/integration/console_fixture.py
                       rf"|bench-[a-z0-9]+-{_HEX}{{6}}|bench-(?:search|migrate)-{_HEX}{{8}}"
                       rf"|floor-[a-z0-9]+-{_HEX}{{6}}"                 # bench/faust_floor.py
                       r"|demo-\d{14}")                                  # shaobing demo --once
# index names are <namespace>-<name>-v<N>, <name> without a hyphen (settings.Settings.index)
_INDEX = re.compile(r"(?P<ns>.+)-[a-z_]+-v\d+")
DEFAULT_OLDER_THAN_S = 6 * 3600
_CHUNK = 50      # names per delete request


def generated(namespace: str) -> bool:
    return GENERATED.fullmatch(namespace) is not None


def index_namespace(index: str) -> str | None:
    match = _INDEX.fullmatch(index)
    return match["ns"] if match and generated(match["ns"]) else None


def topic_namespace(topic: str) -> str | None:
    """The namespace of a namespaced topic (<namespace>.<name>); Faust's internal topics are
    matched per namespace (`Doomed.topics`), their names do not delimit it."""
    ns, dot, _ = topic.partition(".")
    return ns if dot and generated(ns) else None


def stale(last_write: Mapping[str, float], now: float, older_than_s: float) -> list[str]:
    """The namespaces whose last write is older than the cutoff, oldest first."""
    return sorted((ns for ns, at in last_write.items() if at < now - older_than_s), key=last_write.get)


@dataclass
class Doomed:
    namespaces: list[str]
    indices: list[str]
    topics: list[str]
    groups: list[str]


def plan(settings: Settings, indices: Mapping[str, float], topics: Iterable[str],
         topic_written: Callable[[str], float | None], groups: Iterable[str], now: float,
         older_than_s: float, only: Collection[str] | None = None) -> Doomed:
    """What to delete, from the stack's index creation times (epoch seconds), topics, the local
    last write of a topic (None: not on this host) and consumer groups; `only`: these
    namespaces at most."""
    topics = list(topics)
    last: dict[str, float] = {}
    unknown: set[str] = set()      # a topic not on this host's brokers: its last write is unknown
    for index, created in indices.items():
        ns = index_namespace(index)
        if ns is not None:
            last[ns] = max(last.get(ns, 0.0), created)
    for topic in topics:
        ns = topic_namespace(topic)
        if ns is None:
            continue
        written = topic_written(topic)
        if written is None:
            unknown.add(ns)
        else:
            last[ns] = max(last.get(ns, 0.0), written)
    doomed = [ns for ns in stale(last, now, older_than_s) if ns not in unknown and (only is None or ns in only)]
    apps = [settings.model_copy(update={"namespace": ns}) for ns in doomed]
    gone = set(doomed)
    return Doomed(namespaces=doomed,
                  indices=sorted(i for i in indices if index_namespace(i) in gone),
                  topics=sorted(t for app in apps for t in namespace_topics(app, topics)),
                  groups=sorted(set(groups) & set().union(*(namespace_groups(app) for app in apps))))


def prune(settings: Settings, older_than_s: float = DEFAULT_OLDER_THAN_S, dry_run: bool = False,
          echo=print, only: Collection[str] | None = None) -> Doomed:
    """Find and delete the stale generated namespaces on the stack `settings` points at."""
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    from infra.errors import StackError
    from infra.nodes import kafka_nodes
    from shaobing.connections import es_client

    if not settings.uses_local_stack:
        # a last write is read from the local brokers' segments: another cluster's is unknown
        raise StackError("prune works on the local stack only (SHAOBING_KAFKA_BOOTSTRAP / SHAOBING_ES_URL "
                         "point elsewhere); delete another cluster's namespaces with its own tools")
    data_dirs = [node.home / "data" for node in kafka_nodes(settings)]

    def topic_written(topic: str) -> float | None:
        # the segments' own times: the broker rewrites a partition's checkpoints at every start
        times = [p.stat().st_mtime for d in data_dirs for p in d.glob(f"{glob.escape(topic)}-[0-9]*/*.log")]
        return max(times) if times else None

    with es_client(settings) as es:
        rows = es.cat.indices(h="index,creation.date", format="json")
        indices = {row["index"]: int(row["creation.date"]) / 1000 for row in rows}
        admin = KafkaAdminClient(bootstrap_servers=settings.kafka_servers, client_id="shaobing-prune")
        try:
            doomed = plan(settings, indices, admin.list_topics(), topic_written,
                          [_group_id(g) for g in admin.list_groups()], time.time(), older_than_s, only)
            echo(f"{len(doomed.namespaces)} namespaces older than {older_than_s / 3600:g} h: "
                 f"{len(doomed.indices)} indices, {len(doomed.topics)} topics, {len(doomed.groups)} groups"
                 + (" (dry run: nothing deleted)" if dry_run else ""))
            if dry_run or not doomed.namespaces:
                return doomed
            try:
                for chunk in _chunks(doomed.groups):      # per-group errors come back, not raised
                    results = admin.delete_groups(chunk)     # kafka-python 3: {group: error}
                    for group, error in results.items() if isinstance(results, dict) else results:
                        if error is not None and getattr(error, "errno", 0):
                            echo(f"warning: consumer group {group} not deleted: {error}")
                for chunk in _chunks(doomed.topics):
                    admin.delete_topics(chunk, timeout_ms=60_000)
                for chunk in _chunks(doomed.indices):
                    es.indices.delete(index=",".join(chunk), ignore_unavailable=True, allow_no_indices=True)
            except KafkaError as exc:      # e.g. a topic deleted meanwhile: the next prune finishes it
                echo(f"warning: not everything deleted: {exc.__class__.__name__}: {exc}")
            finally:       # the local state goes in any case: the next prune may not see the namespace
                for ns in doomed.namespaces:
                    app = settings.model_copy(update={"namespace": ns})
                    for folder in (app.worker_state_dir, settings.state_dir / "demo" / ns,
                                   settings.state_dir / "bench" / ns):
                        shutil.rmtree(folder, ignore_errors=True)
        finally:
            admin.close()
    return doomed


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i:i + _CHUNK]
