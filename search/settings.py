"""The one place that decides where the archive and the index live, and the engine's limits.

A path comes from the caller (a command-line option or the web app's config), then from an
environment variable, then from the default folder in the current directory.
"""

from __future__ import annotations

import os
from pathlib import Path

ARCHIVE_ENV = "SEARCH_ARCHIVE"
INDEX_ENV = "SEARCH_INDEX"
DEFAULT_ARCHIVE = "seeds"
DEFAULT_INDEX = "index"

# Files that are documents; everything else in the archive tree is ignored silently.
DOCUMENT_SUFFIXES = (".md", ".markdown", ".txt")

# A document larger than this is reported and skipped: the real archive's largest is 252 KB,
# and one runaway file must not take the memory of a whole rebuild.
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024

# Query limits shared by the CLI and the web app.
MAX_QUERY_CHARS = 1000
MAX_LIMIT = 1000
DEFAULT_LIMIT = 10


def archive_path(option: str | os.PathLike | None = None) -> Path:
    """The archive folder: the option, else $SEARCH_ARCHIVE, else ./seeds."""
    return _resolve(option, ARCHIVE_ENV, DEFAULT_ARCHIVE)


def index_path(option: str | os.PathLike | None = None) -> Path:
    """The index folder: the option, else $SEARCH_INDEX, else ./index."""
    return _resolve(option, INDEX_ENV, DEFAULT_INDEX)


def _resolve(option: str | os.PathLike | None, env: str, default: str) -> Path:
    if option:
        return Path(option)
    from_env = os.environ.get(env)
    if from_env:
        return Path(from_env)
    return Path(default)


def build_workers() -> int:
    """How many processes a rebuild uses: every core, up to four (more rarely pays off)."""
    from_env = os.environ.get("SEARCH_WORKERS")
    if from_env and from_env.isdigit() and int(from_env) > 0:
        return int(from_env)
    return max(1, min(os.cpu_count() or 1, 4))


def serve_processes() -> int:
    """How many processes `search serve` runs: one per core, up to four."""
    return max(1, min(os.cpu_count() or 1, 4))
