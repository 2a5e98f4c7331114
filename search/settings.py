"""The one place that decides where the archive and the index live, and the engine's limits.

A path comes from the caller (a command-line option or the web app's config), then from an
environment variable, then from the default folder in the current directory.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .sources import Source

ARCHIVE_ENV = "SEARCH_ARCHIVE"
INDEX_ENV = "SEARCH_INDEX"
CONFIG_ENV = "SEARCH_CONFIG"
CONFIG_FILE = "search.toml"  # beside the index folder: the archive's configuration (config.py)
DEFAULT_ARCHIVE = "seeds"
DEFAULT_INDEX = "index"

# Files that are documents; everything else in the archive tree is ignored silently.
DOCUMENT_SUFFIXES = (".md", ".markdown", ".txt")

# A document larger than this is reported and skipped: the real archive's largest is 252 KB,
# and one runaway file must not take the memory of a whole rebuild.
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024

# What one document may bring: a hostile file with 200,000 tags or a title of megabytes must
# not make every page that lists it enormous. What is cut is reported as a warning.
MAX_TITLE_CHARS = 500  # the archive's longest is under 100
MAX_TAGS_PER_DOCUMENT = 50  # the archive's documents have one
MAX_TAG_CHARS = 100
MAX_FACET_VALUES = 50  # categories listed with their counts, the commonest first

# Query limits. A query typed into the web page or sent to its API is at most MAX_QUERY_CHARS
# (a 400 past it); the library, the CLI and batch take any length (a pasted passage, a long
# topic), bounded by the work budget instead.
MAX_QUERY_CHARS = 1000
MAX_BOOST = 100.0


@dataclass(frozen=True)
class WorkBudget:
    """What one query may cost, decided before the work starts: past it, the query is refused
    with a message saying what to narrow (QueryTooCostly: exit 2, HTTP 400). The deadline is
    the last guard, for whatever the budget does not foresee (QueryTimeout: HTTP 503).

    Sized against benchmarks/speed_queries.tsv and the judged archive queries (see the
    README's Guarantees): the costliest of them reads about a tenth of `postings`."""

    expanded_words: int = 1000  # words all prefixes, wildcards and fuzzy words stand for, together
    fuzzy_words: int = 8
    postings: int = 1_000_000  # postings the whole query reads, from the term statistics
    seconds: float | None = None  # the deadline; None for none (the web app sets one)
    # A search past either of these is costly: a server runs only a few of those at once
    # (SERVE_COSTLY_SLOTS), so that a crowd of them cannot keep plain searches waiting.
    costly_postings: int = 200_000
    costly_words: int = 100


# `search serve`: no request holds a worker longer than the deadline; a connection that has not
# sent a whole request this long after it opened (or after its last answer) is closed; each
# process serves at most this many connections at once (see web/server.py).
SERVE_DEADLINE_SECONDS = 3.0
SERVE_REQUEST_SECONDS = 10.0
SERVE_CONNECTION_LIMIT = 250
# Costly searches (see WorkBudget) each server process runs at once; one more is refused at once
# with a 503 and Retry-After, so that the threads stay free for plain searches.
SERVE_COSTLY_SLOTS = 1
# Threads in each server process. Searching holds Python's interpreter lock, so more threads
# only share one core more finely: with 8, /api/search under 8 clients gave 104-131 requests/s
# (p99 228-300 ms); with 4, 155-181 (p99 147-198 ms), in the same rounds (README, Performance).
SERVE_THREADS = 4
MAX_LIMIT = 1000
DEFAULT_LIMIT = 10


def archive_path(option: str | os.PathLike | None = None) -> Path:
    """The archive folder: the option, else $SEARCH_ARCHIVE, else ./seeds."""
    return _resolve(option, ARCHIVE_ENV, DEFAULT_ARCHIVE)


def archive_sources(options: Sequence[str], configured: Sequence[Source] = ()) -> list[Source] | None:
    """The archives named for indexing, as collections: the --archive options ([NAME=]DIR,
    repeated), else $SEARCH_ARCHIVE, else the configuration's [archives]; None when nothing
    names one (a rebuild then reads ./seeds; an update, the archives the index was built from)."""
    from .sources import sources_from

    if options:
        return sources_from(list(options))
    from_env = os.environ.get(ARCHIVE_ENV)
    if from_env:
        return sources_from([from_env])
    return list(configured) or None


def index_path(option: str | os.PathLike | None = None) -> Path:
    """The index folder: the option, else $SEARCH_INDEX, else ./index."""
    return _resolve(option, INDEX_ENV, DEFAULT_INDEX)


def config_path(option: str | os.PathLike | None, index: Path) -> tuple[Path, bool]:
    """The configuration file: the option, else $SEARCH_CONFIG, else search.toml beside the
    index folder; and whether it must exist (named), or may be absent (the default)."""
    named = option or os.environ.get(CONFIG_ENV)
    if named:
        return Path(named), True
    return Path(os.path.abspath(index)).parent / CONFIG_FILE, False


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
