"""Every process's /metrics endpoint: serve it on loopback, export `shaobing_build_info`, and
announce it for Prometheus's file-based service discovery. Reads Settings.state_dir (targets go
to <state_dir>/prometheus/targets/<job>-<pid>.json, which infra/prometheus/prometheus.yml globs)
and Settings.namespace (a target label).

A process that exits normally removes its file; a killed one leaves it behind, so Prometheus
sees the target down and `ShaobingWorkerDown` fires. The next process that announces itself
removes files whose process no longer exists, so a restart does not keep an alert firing.
"""
from __future__ import annotations

import atexit
import json
import os
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from prometheus_client import REGISTRY, CollectorRegistry, Gauge

JOBS = ("worker", "crawler", "ops-receiver", "prometheus", "alertmanager")


def package_version() -> str:
    try:
        return version("shaobing")
    except PackageNotFoundError:
        return "unknown"


def register_build_info(process: str, registry: CollectorRegistry = REGISTRY) -> Gauge:
    info = Gauge("shaobing_build_info", "Always 1; the labels say which build this process runs.",
                 ["version", "process", "python"], registry=registry)
    info.labels(package_version(), process, platform.python_version()).set(1)
    return info


def targets_dir(settings) -> Path:
    return Path(settings.state_dir) / "prometheus" / "targets"


def target_group(port: int, namespace: str) -> list[dict]:
    """The file_sd JSON for one process: one target with its labels (the pid is in the file name
    only: a label would start new series at every restart)."""
    return [{"targets": [f"127.0.0.1:{port}"], "labels": {"namespace": namespace or "default"}}]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prune_stale(directory: Path, alive=pid_alive) -> list[Path]:
    """Remove target files of processes that no longer exist; returns what was removed."""
    removed = []
    for path in directory.glob("*-*.json"):
        pid = path.stem.rsplit("-", 1)[-1]
        if pid.isdigit() and not alive(int(pid)):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def announce(directory: Path, job: str, port: int, namespace: str, pid: int | None = None) -> Path:
    """Write this process's target file atomically (Prometheus may read it at any moment)."""
    if job not in JOBS:
        raise ValueError(f"unknown job {job!r}; known: {', '.join(JOBS)}")
    pid = os.getpid() if pid is None else pid
    directory.mkdir(parents=True, exist_ok=True)
    prune_stale(directory)
    path = directory / f"{job}-{pid}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(target_group(port, namespace)), encoding="utf-8")
    tmp.replace(path)
    return path


def serve_metrics(settings, job: str, port: int | None = None) -> int:
    """Start /metrics on 127.0.0.1 (port 0 = any free port), export the build info, announce the
    target; returns the port. The target file is removed when the process exits normally."""
    from prometheus_client import start_http_server

    server, _thread = start_http_server(settings.metrics_port if port is None else port, addr="127.0.0.1")
    bound = server.server_address[1]
    register_build_info(job)
    path = announce(targets_dir(settings), job, bound, settings.namespace)
    atexit.register(path.unlink, missing_ok=True)
    return bound
