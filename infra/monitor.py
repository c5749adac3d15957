"""A local Prometheus for the operators' view: runs Debian's `prometheus` binary (or one built
from the Go module proxy, see docs/operations.md) on 127.0.0.1 with infra/prometheus/'s scrape
configuration and rules. Reads Settings.state_dir (its home is <state_dir>/prometheus, whose
targets/ the shaobing processes write), Settings.prometheus_port and Settings.prometheus_bin.

`shaobing stack up --with-prometheus` starts it; `stack down` stops it with the rest.
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
INSTALL_HINT = ("install it with `apt-get install -y prometheus` (Debian/Ubuntu; `make install` does this), "
                "or build it from the Go module proxy (docs/operations.md) and set SHAOBING_PROMETHEUS_BIN")


def find_tool(settings: Settings, name: str) -> Path:
    """`prometheus` or `promtool`: beside SHAOBING_PROMETHEUS_BIN if set, else on PATH."""
    if settings.prometheus_bin:
        candidate = Path(settings.prometheus_bin).parent / name
        if candidate.is_file():
            return candidate
    found = shutil.which(name)
    if found is None:
        raise StackError(f"`{name}` is not installed; {INSTALL_HINT}")
    return Path(found)


def prometheus_healthy(url: str, timeout_s: float = 3.0) -> tuple[bool, str]:
    import httpx

    try:
        resp = httpx.get(f"{url}/-/ready", timeout=timeout_s)
    except httpx.HTTPError as exc:
        return False, f"unreachable: {exc.__class__.__name__}"
    return resp.status_code == 200, "ready" if resp.status_code == 200 else f"HTTP {resp.status_code}"


class PrometheusNode(Node):
    marker = "--web.listen-address=127.0.0.1:"

    def __init__(self, settings: Settings):
        super().__init__("prometheus", settings.prometheus_port, settings)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ports(self) -> dict[str, int]:
        return {"prometheus port": self.port}

    def install_config(self, config_dir: Path = CONFIG_DIR) -> Path:
        """Copy the scrape configuration and rules into the node's home (each start: rules upgrade)."""
        self.home.mkdir(parents=True, exist_ok=True)
        targets_dir(self.settings).mkdir(parents=True, exist_ok=True)
        for name in CONFIG_FILES:
            shutil.copyfile(config_dir / name, self.home / name)
        return self.home / "prometheus.yml"

    def start(self, config_dir: Path = CONFIG_DIR, retention: str = "15d"):
        binary = find_tool(self.settings, "prometheus")
        config = self.install_config(config_dir)
        cmd = [str(binary), f"--config.file={config}", f"--storage.tsdb.path={self.home / 'data'}",
               f"--storage.tsdb.retention.time={retention}", f"{self.marker}{self.port}",
               "--web.enable-lifecycle"]
        proc = self.launch(cmd, {**os.environ})
        announce(targets_dir(self.settings), "prometheus", self.port, self.settings.namespace, pid=proc.pid)
        return proc

    def up(self, echo=print, config_dir: Path = CONFIG_DIR, timeout_s: float = 60.0) -> None:
        """Start if not running and wait until ready; idempotent."""
        if self.pid():
            echo(f"prometheus already up: {self.url}")
            return
        self.check_ports_free()
        echo(f"starting prometheus on {self.url}")
        proc = self.start(config_dir)
        deadline = time.monotonic() + timeout_s
        detail = ""
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise StackError(f"prometheus exited during start-up (exit {proc.returncode}):\n{self.log_tail()}")
            ok, detail = prometheus_healthy(self.url)
            if ok:
                echo(f"prometheus up: {self.url} (targets in {targets_dir(self.settings)})")
                return
            time.sleep(0.5)
        self.stop(timeout=10)
        raise StackError(f"prometheus was not ready after {timeout_s:.0f}s ({detail}):\n{self.log_tail()}")
