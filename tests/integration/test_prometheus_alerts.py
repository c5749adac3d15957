"""The real Prometheus scrapes a real `shaobing worker` found through file-based discovery, and
the real ShaobingWorkerDown rule fires when the worker is killed. The rules are infra/prometheus's
own, with every `for:` shortened and a 1s scrape/evaluation interval so the test takes seconds."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from infra.monitor import PrometheusNode
from infra.stack import provision, reset_namespace
from shaobing.commands.status import announced as announced_instances
from shaobing.processes import spawn_shaobing
from shaobing.settings import load_settings
from tests.integration.helpers import free_port, unique
from tests.integration.prometheus_helpers import fast_config, firing, query, wait_for


def status(env: dict[str, str]) -> tuple[int, dict[str, dict]]:
    """`shaobing status --json` as an operator runs it: exit code and checks by part."""
    proc = subprocess.run([sys.executable, "-m", "shaobing.cli", "status", "--json"], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120)
    out = json.loads(proc.stdout.splitlines()[-1])
    assert out["exit_code"] == proc.returncode, proc.stderr
    return proc.returncode, {c["part"]: c for c in out["checks"]}


def test_worker_down_fires_when_the_scraped_worker_is_killed(live_stack, tmp_path):
    ns = unique("it-prom")
    settings = load_settings(namespace=ns, state_dir=live_stack.state_dir / "tests" / ns,
                             prometheus_port=free_port())
    provision(settings, echo=lambda _: None)
    node = PrometheusNode(settings)
    env = {"SHAOBING_NAMESPACE": ns, "SHAOBING_STATE_DIR": str(settings.state_dir), "SHAOBING_METRICS_PORT": "0",
           "SHAOBING_PROMETHEUS_PORT": str(settings.prometheus_port)}
    worker = None
    try:
        node.up(echo=lambda _: None, config_dir=fast_config(tmp_path / "config"))
        url = node.url
        worker = spawn_shaobing("worker", ["worker"], env, tmp_path / "logs")
        port = worker.wait_for(r"METRICS_PORT=(\d+)", 180).group(1)
        instance = f"127.0.0.1:{port}"
        up = wait_for("the worker scraped", lambda: query(url, f'up{{job="shaobing-worker",namespace="{ns}"}} == 1'),
                      60, worker.tail)
        assert up[0]["metric"]["instance"] == instance
        assert query(url, f'shaobing_build_info{{process="worker",namespace="{ns}"}}')
        wait_for("the worker's consumer lag scraped",
                 lambda: query(url, f'shaobing_stream_consumer_lag_records{{namespace="{ns}",topic="posts.raw"}}'),
                 60, worker.tail)
        assert firing(url, "ShaobingWorkerDown") == []
        # ShaobingNoWorker fires while Prometheus waits for the worker's first scrape (`for: 2s`
        # here); it resolves at the next rule evaluation after that, which a loaded host delays
        wait_for("ShaobingNoWorker resolved", lambda: firing(url, "ShaobingNoWorker") == [], 30, worker.tail)
        code, checks = status(env)
        assert checks["workers"]["state"] == "ok" and instance in announced_instances(settings, "worker")
        assert checks["kafka"]["state"] == checks["lag"]["state"] == "ok"
        assert checks["prometheus"]["state"] in ("ok", "warn"), checks["prometheus"]
        assert checks["crawler"]["state"] == "warn"            # none started in this test: a warning only

        worker.proc.kill()          # SIGKILL: no clean exit, so its target file stays and the scrape fails
        worker.proc.wait()
        alerts = wait_for("ShaobingWorkerDown firing", lambda: [a for a in firing(url, "ShaobingWorkerDown")
                                                                 if a["labels"].get("namespace") == ns], 60)
        assert alerts[0]["labels"]["instance"] == instance
        assert alerts[0]["labels"]["severity"] == "critical"
        assert "worker" in alerts[0]["annotations"]["summary"]
        code, checks = status(env)
        assert code == 1
        assert checks["workers"]["state"] == "fail" and instance in checks["workers"]["detail"]
        assert checks["prometheus"]["state"] == "fail" and "ShaobingWorkerDown" in checks["prometheus"]["detail"]
    finally:
        if worker is not None:
            worker.stop()
        node.stop(timeout=20)
        reset_namespace(settings, echo=lambda _: None)
        shutil.rmtree(settings.state_dir, ignore_errors=True)
