"""Shared by the browser benchmarks: serve the app (plus a benchmark's comparison page) with
gunicorn on a free local port, and wait until it answers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_app(
    url: str,
    folder: Path,
    *,
    module: str,
    source: str,
    env: dict[str, str] | None = None,
    timeout_s: float = 60,
    workers: int = 1,
) -> tuple[subprocess.Popen, str]:
    """Write ``source`` as ``folder/<module>.py`` (it exposes ``server``), serve it with one
    gunicorn worker (or ``workers``) against the database at ``url``; returns the process and
    its base URL."""
    (folder / f"{module}.py").write_text(source, encoding="utf-8")
    port = free_port()
    environment = {
        **os.environ,
        "DASHBOARD_DATABASE_URL": url,
        "DASHBOARD_DEMO": "false",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(folder)]),
        **(env or {}),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            f"{module}:server",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(workers),
            "--threads",
            "8",
            "--timeout",
            "300",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=environment,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/api/v1/health", timeout=2).read()
            return proc, base
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the app did not start")
