"""Helpers for the tests that run the real Prometheus: a fast copy of infra/prometheus's
configuration and small queries of its HTTP API."""
from __future__ import annotations

import time
from pathlib import Path

import httpx
import yaml

from infra.monitor import CONFIG_DIR, CONFIG_FILES


def fast_config(dest: Path) -> Path:
    """infra/prometheus's files with 1s intervals and `for: 2s` on every alert rule."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in CONFIG_FILES:
        data = yaml.safe_load((CONFIG_DIR / name).read_text(encoding="utf-8"))
        if name == "prometheus.yml":
            data["global"].update(scrape_interval="1s", scrape_timeout="1s", evaluation_interval="1s")
            for job in data["scrape_configs"]:
                for sd in job["file_sd_configs"]:
                    sd["refresh_interval"] = "1s"
        else:
            for group in data["groups"]:
                group["interval"] = "1s"
                for rule in group["rules"]:
                    if "for" in rule:
                        rule["for"] = "2s"
        (dest / name).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return dest


def query(url: str, promql: str) -> list[dict]:
    resp = httpx.get(f"{url}/api/v1/query", params={"query": promql}, timeout=5)
    resp.raise_for_status()
    return resp.json()["data"]["result"]


def firing(url: str, alertname: str) -> list[dict]:
    resp = httpx.get(f"{url}/api/v1/alerts", timeout=5)
    resp.raise_for_status()
    return [a for a in resp.json()["data"]["alerts"] if a["labels"]["alertname"] == alertname and a["state"] == "firing"]


def wait_for(what: str, check, timeout_s: float, log=lambda: ""):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"{what} not within {timeout_s:.0f}s\n{log()}")
