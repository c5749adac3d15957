"""Serve /metrics of a long-running command on 127.0.0.1; a busy port is a warning, not a stop."""
from __future__ import annotations

import sys


def serve_metrics(port: int) -> int | None:
    """Start the Prometheus endpoint; returns the port it listens on, or None if it could not."""
    from prometheus_client import start_http_server

    try:
        server, _thread = start_http_server(port, addr="127.0.0.1")
    except OSError as exc:
        print(f"警告 / warning: metrics port {port} unavailable ({exc.strerror}); pass --metrics-port", file=sys.stderr)
        return None
    print(f"指标 / metrics: http://127.0.0.1:{server.server_port}/metrics", file=sys.stderr, flush=True)
    return server.server_port
