"""End-to-end fixtures: the whole pipeline (demo web -> crawler -> Kafka -> 2 workers ->
Elasticsearch -> duty receiver) on the real stack, in a namespace of its own."""
from __future__ import annotations

import uuid

import pytest

from shaobing.demo import Demo, DemoConfig
from shaobing.settings import load_settings

E2E_CONFIG = DemoConfig(seed=11, history_s=900, surge_at_s=30, surge_span_s=60, tail_s=20, crawl_interval_s=3,
                        workers=2, once=True, timeout_s=420)


@pytest.fixture(scope="package")
def pipeline(live_stack):
    settings = load_settings(namespace=f"e2e-{uuid.uuid4().hex[:8]}")
    lines: list[str] = []
    demo = Demo(settings, E2E_CONFIG, echo=lines.append)
    try:
        demo.start()
        summary = demo.run_until_finished()
        assert "error" not in summary, f"{summary}\n" + "\n".join(lines[-20:])
        demo.first_summary = summary
        yield demo
    finally:
        demo.stop()
