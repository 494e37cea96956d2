"""What an open screen polls to stay live: the deployment's build id and each dataset's last
write, for ``GET /api/v1/live`` (:mod:`dashboard.api`) and ``assets/live.js``.

The screen (the wall, a leader's page) fetches this once per refresh tick, one request at a time,
with a timeout. A failed fetch starts the "connection lost since 14:05" banner; a success hides
it, lets the page's own tick run, and compares the build id with the one the page was served
with: a new one means a redeploy, and the page reloads itself. The browser marks a panel stale
from ``updated_ms`` and ``expected_s`` with the same rule as :mod:`dashboard.freshness` (older
than twice the expected interval, or never written), so the marking goes on while the server is
unreachable.

The body changes only when a dataset is written, so the endpoint answers with an ``ETag`` and
most ticks are an empty ``304 Not Modified``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from dashboard import __version__
from dashboard.config import PROJECT_ROOT, get_settings

logger = logging.getLogger(__name__)

# What a deployment is made of: the Python that renders pages, every asset the browser runs and
# the pinned dependencies (a Dash or Plotly upgrade changes the page). Run-time files (var/,
# the inbox, test-artifacts/) are not part of it.
BUILD_SOURCES = ("app.py", "dashboard", "layouts", "callbacks", "assets", "requirements.lock")
BUILD_SUFFIXES = {".py", ".js", ".css", ".json", ".lock", ".yaml", ".yml", ".toml", ".csv"}


@lru_cache(maxsize=4)
def code_hash(root: Path = PROJECT_ROOT) -> str:
    """A short hash of every source and asset file under ``root``, by relative path and content:
    the same in every web worker of one deployment, different after any code change."""
    # The web stack's versions (read from the installed packages: dashboard/ never imports Dash).
    stack = " ".join(f"{name} {metadata.version(name)}" for name in ("dash", "plotly"))
    digest = hashlib.sha256(f"{__version__} {stack}".encode())
    for name in BUILD_SOURCES:
        top = root / name
        files = [top] if top.is_file() else sorted(top.rglob("*")) if top.is_dir() else []
        for path in files:
            in_assets = path.relative_to(root).parts[0] == "assets"
            wanted = in_assets or path.suffix in BUILD_SUFFIXES or path == top
            if path.is_file() and wanted and "__pycache__" not in path.parts:
                digest.update(path.relative_to(root).as_posix().encode())
                digest.update(b"\0")
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def build_id() -> str:
    """``DASHBOARD_BUILD_ID`` when set (a deployment pipeline's own id), else :func:`code_hash`."""
    return get_settings().build_id or code_hash()


def payload(
    current: Mapping[str, tuple[int, Any]], expected_interval_s: Mapping[str, int]
) -> dict[str, Any]:
    """The body of ``/api/v1/live``. ``current`` is :func:`dashboard.versions.current`'s answer."""
    return {
        "build": build_id(),
        "updated_ms": {
            name: round(at.timestamp() * 1000) for name, (_v, at) in sorted(current.items())
        },
        "expected_s": dict(sorted(expected_interval_s.items())),
    }


def etag(body: Mapping[str, Any]) -> str:
    """A strong validator of the body: equal bodies, equal tags."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:20]
