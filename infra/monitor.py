"""A local Prometheus (and Alertmanager) for the operators' view: runs Debian's `prometheus` and
`prometheus-alertmanager` binaries (or ones built from the Go module proxy, see
docs/operations.md) on 127.0.0.1 with infra/prometheus/'s configuration and rules. Reads
Settings.state_dir (homes <state_dir>/prometheus and <state_dir>/alertmanager; the targets/ that
the shaobing processes write), Settings.prometheus_port, alertmanager_port and prometheus_bin.

`shaobing stack up --with-prometheus` starts Prometheus; `stack down` stops both with the rest.
"""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from infra.errors import StackError
from infra.nodes import Node
from shaobing.settings import Settings
from shaobing.telemetry import announce, targets_dir

CONFIG_DIR = Path(__file__).resolve().parent / "prometheus"
CONFIG_FILES = ("prometheus.yml", "recording.yml", "alerts.yml")
ALERTMANAGER_CONFIG = CONFIG_DIR / "alertmanager.yml"
INSTALL_HINT = ("install it with `apt-get install -y prometheus prometheus-alertmanager` (Debian/Ubuntu; "
                "`make install` does this), "
                "or build it from the Go module proxy (docs/operations.md) and set SHAOBING_PROMETHEUS_BIN")


def find_tool(settings: Settings, *names: str) -> Path:
    """The first of `names` (prometheus, promtool, alertmanager under Debian's or upstream's
    name) beside SHAOBING_PROMETHEUS_BIN if set, else on PATH."""
    for name in names:
        if settings.prometheus_bin and (candidate := Path(settings.prometheus_bin).parent / name).is_file():
            return candidate
        if found := shutil.which(name):
            return Path(found)
    raise StackError(f"`{names[0]}` is not installed; {INSTALL_HINT}")


def ready(url: str, timeout_s: float = 3.0) -> tuple[bool, str]:
    """Prometheus's and Alertmanager's /-/ready."""
    import httpx

    try:
        resp = httpx.get(f"{url}/-/ready", timeout=timeout_s)
    except httpx.HTTPError as exc:
        return False, f"unreachable: {exc.__class__.__name__}"
    return resp.status_code == 200, "ready" if resp.status_code == 200 else f"HTTP {resp.status_code}"


class LoopbackService(Node):
    """A monitoring service with an HTTP API on 127.0.0.1 and a `/-/ready` endpoint."""

    listen = "--web.listen-address=127.0.0.1:"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ports(self) -> dict[str, int]:
        return {f"{self.name} port": self.port}


class PrometheusNode(LoopbackService):
    marker = "--storage.tsdb.path="

    def __init__(self, settings: Settings):
        super().__init__("prometheus", settings.prometheus_port, settings)

    def install_config(self, config_dir: Path = CONFIG_DIR) -> Path:
        """Copy the scrape configuration and rules into the node's home (each start: rules upgrade)."""
        self.home.mkdir(parents=True, exist_ok=True)
        targets_dir(self.settings).mkdir(parents=True, exist_ok=True)
        for name in CONFIG_FILES:
            shutil.copyfile(config_dir / name, self.home / name)
        return self.home / "prometheus.yml"

    def start(self, config_dir: Path = CONFIG_DIR, retention: str = "15d", flags: tuple[str, ...] = ()):
        binary = find_tool(self.settings, "prometheus")
        config = self.install_config(config_dir)
        cmd = [str(binary), f"--config.file={config}", f"--storage.tsdb.path={self.home / 'data'}",
               f"--storage.tsdb.retention.time={retention}", f"{self.listen}{self.port}",
               "--web.enable-lifecycle", *flags]
        proc = self.launch(cmd, {**os.environ})
        announce(targets_dir(self.settings), "prometheus", self.port, self.settings.namespace, pid=proc.pid)
        return proc

    def up(self, echo=print, config_dir: Path = CONFIG_DIR, flags: tuple[str, ...] = ()) -> None:
        up_and_ready(self, echo, lambda: self.start(config_dir, flags=flags))


class AlertmanagerNode(LoopbackService):
    """Alertmanager on 127.0.0.1:SHAOBING_ALERTMANAGER_PORT, gossip off, routing to
    `shaobing ops-receiver` (infra/prometheus/alertmanager.yml or a config given to `up`).
    Prometheus finds it through its target file, as it finds the shaobing processes."""

    marker = "--cluster.listen-address="

    def __init__(self, settings: Settings):
        super().__init__("alertmanager", settings.alertmanager_port, settings)

    def start(self, config: Path = ALERTMANAGER_CONFIG):
        binary = find_tool(self.settings, "prometheus-alertmanager", "alertmanager")
        self.home.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(config, self.home / "alertmanager.yml")
        cmd = [str(binary), f"--config.file={self.home / 'alertmanager.yml'}", f"--storage.path={self.home / 'data'}",
               f"{self.listen}{self.port}", "--cluster.listen-address="]
        proc = self.launch(cmd, {**os.environ})
        announce(targets_dir(self.settings), "alertmanager", self.port, self.settings.namespace, pid=proc.pid)
        return proc

    def up(self, echo=print, config: Path = ALERTMANAGER_CONFIG) -> None:
        up_and_ready(self, echo, lambda: self.start(config))


def up_and_ready(node, echo, start, timeout_s: float = 60.0) -> None:
    """Start a monitoring node if it is not running and wait for /-/ready; idempotent."""
    if node.pid():
        echo(f"{node.name} already up: {node.url}")
        return
    node.check_ports_free()
    echo(f"starting {node.name} on {node.url}")
    proc = start()
    deadline = time.monotonic() + timeout_s
    detail = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            node.pid_file.unlink(missing_ok=True)
            raise StackError(f"{node.name} exited during start-up (exit {proc.returncode}):\n{node.log_tail()}")
        ok, detail = ready(node.url)
        if ok:
            echo(f"{node.name} up: {node.url} (targets in {targets_dir(node.settings)})")
            return
        time.sleep(0.5)
    node.stop(timeout=10)
    raise StackError(f"{node.name} was not ready after {timeout_s:.0f}s ({detail}):\n{node.log_tail()}")
