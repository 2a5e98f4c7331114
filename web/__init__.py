"""The search page: a Flask app over the `search` library (built out in the web issue)."""

from __future__ import annotations

from pathlib import Path


def serve(index: Path, host: str = "127.0.0.1", port: int = 8000, threads: int = 8) -> None:
    raise SystemExit("the web page is not built yet")
