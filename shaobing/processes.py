"""Child processes of the demo and the end-to-end tests: spawn with a log file, read what they
print, stop their whole process group. Reads no settings."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Child:
    name: str
    proc: subprocess.Popen
    log_path: Path

    def alive(self) -> bool:
        return self.proc.poll() is None

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def tail(self, lines: int = 20) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def wait_for(self, pattern: str, timeout_s: float) -> re.Match:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if match := re.search(pattern, self.output()):
                return match
            if not self.alive():
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}) before printing {pattern!r}:\n{self.tail()}")
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} did not print {pattern!r} within {timeout_s:.0f}s:\n{self.tail()}")

    def stop(self, timeout_s: float = 30) -> int | None:
        if self.alive():
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.returncode


def spawn_shaobing(name: str, args: list[str], env: dict[str, str], log_dir: Path) -> Child:
    """Run `shaobing <args>` with this interpreter in its own process group."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    out = log_path.open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "shaobing.cli", *args], stdout=out, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env={**os.environ, **env}, start_new_session=True)
    out.close()
    return Child(name, proc, log_path)
