"""`shaobing stack up|down|status` as a user runs it, on a private stack (own ports, own state)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from tests.integration.helpers import free_port, private_stack_settings, settings_env


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "shaobing.cli", *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=400)


@pytest.fixture()
def private_env(live_stack):
    s = private_stack_settings(live_stack, "cli")
    env = settings_env(s)
    yield env
    run(env, "stack", "down")


def test_up_twice_down_twice(private_env):
    first = run(private_env, "stack", "up")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "stack up" in first.stdout
    status = run(private_env, "stack", "status")
    assert status.returncode == 0 and status.stdout.count("healthy") == 2, status.stdout

    second = run(private_env, "stack", "up")
    assert second.returncode == 0, second.stderr
    assert "already up" in second.stdout

    down = run(private_env, "stack", "down")
    assert down.returncode == 0 and "stopped kafka, elasticsearch" in down.stdout
    again = run(private_env, "stack", "down")
    assert again.returncode == 0 and "already down" in again.stdout
    after = run(private_env, "stack", "status")
    assert after.returncode == 3 and "stopped" in after.stdout


def test_taken_port_is_named(live_stack):
    s = private_stack_settings(live_stack, "port")
    env = settings_env(s)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", s.kafka_port))
        squatter.listen()
        result = run(env, "stack", "up")
    assert result.returncode == 1
    assert f"port {s.kafka_port} (kafka port) is already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_setting_is_named_without_traceback():
    result = run({"SHAOBING_ES_HEAP_MB": "8192"}, "stack", "status")
    assert result.returncode == 2
    assert "SHAOBING_ES_HEAP_MB" in result.stderr and "Traceback" not in result.stderr


def test_free_port_helper_gives_bindable_ports():
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
