"""`shaobing worker`: the Faust stream worker, with /metrics on Settings.metrics_port."""
from __future__ import annotations

import gc
import logging

log = logging.getLogger("shaobing.worker")
GC_THRESHOLDS = (20_000, 20, 50)     # CPython's defaults are (700, 10, 10)


def register(sub) -> None:
    p = sub.add_parser("worker", help="运行流处理 worker / run the stream worker (Faust)")
    p.set_defaults(func=run)


def run(args, settings) -> int:
    import dataclasses

    import faust
    from prometheus_client import REGISTRY

    from alerting.service import build_alerter, load_rules
    from indexer.metrics import IndexerMetrics
    from indexer.sink import PostSink
    from shaobing.connections import es_options
    from shaobing.telemetry import serve_metrics
    from streams.lag import start_lag_collector
    from streams.agents import wire
    from streams.analysis import Resources
    from streams.app import build_app
    from streams.metrics import StreamMetrics, TableSizes

    rules = load_rules(settings.rules_file)
    if not settings.kafka_replication_factor:      # Faust's own topics replicated like ours
        from infra.stack import cluster_brokers
        from shaobing.connections import kafka_python_options
        from streams.topics import replication

        rf, _ = replication(cluster_brokers(settings.kafka_servers, kafka_python_options(settings)))
        settings = settings.model_copy(update={"kafka_replication_factor": rf})
    topo = build_app(settings)
    resources = Resources.load(settings.watchlist_file, cache_dir=settings.cache_dir / "jieba")
    metrics = StreamMetrics()
    accelerated = resources.segmenter.cutter.accelerated and resources.entity_crf.accelerated
    metrics.analysis_accelerated.set(1 if accelerated else 0)
    if not accelerated:
        log.warning("worker: streams._speedups is not built (no C compiler when installed): analysis runs its "
                    "hot loops and the entity CRF in Python, about 5-6x slower; reinstall with a C compiler (make install)")
    port = serve_metrics(settings, "worker")
    start_lag_collector(settings)
    log.info("worker %s: metrics on http://127.0.0.1:%d/metrics", settings.faust_app_id, port)
    print(f"METRICS_PORT={port}", flush=True)
    sink = PostSink(settings.elasticsearch_url, settings.alias("posts"), alerts_index=settings.alias("alerts"),
                    max_bytes=settings.index_batch_bytes, es_options=es_options(settings), metrics=IndexerMetrics())
    wire(topo, resources=resources, rules=rules, sink=sink,
         alerter=build_alerter(rules, settings), metrics=metrics, batch_size=settings.index_batch_size,
         batch_s=settings.index_batch_s, horizon_days=settings.state_horizon_days,
         inline_timeout_s=settings.index_inline_timeout_s, inline_pause_s=settings.index_spill_pause_s)
    REGISTRY.register(TableSizes({"seen_posts": topo.seen, **{f.name: getattr(topo, f.name) for f in dataclasses.fields(topo)
                                                              if isinstance(getattr(topo, f.name), faust.types.TableT)}}))
    # Garbage collection: the text models and Faust leave ~200,000 long-lived objects, and every
    # full collection walked all of them (~280 ms; 16 times in a 10,000-post burst, 11 % of the
    # worker's CPU, 17 % with the young generations). Freeze what start-up built, and collect
    # less often: a busy worker allocates thousands of short-lived containers per batch.
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    worker = faust.Worker(topo.app, loglevel=settings.log_level, quiet=True, redirect_stdouts=False)
    # no terminal spinner: Faust adds a spinner log handler at DEBUG and lowers the root logger
    # to DEBUG for it, so every debug call in aiokafka and Faust built a log record (about 6 % of
    # a busy worker's time) only for the handlers to drop it; and it wrote cursor escapes to logs
    worker.spinner = None
    worker.execute_from_commandline()
    return 0
