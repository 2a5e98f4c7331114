"""The search page: a Flask app over the `search` library, served by waitress.

    app = create_app({"SEARCH_INDEX": "/tmp/wh-index"})   # a WSGI app; tests pass their own index
    serve(Path("index"), host="127.0.0.1", port=8000)     # what `search serve` runs (server.py)

The views in `views.py` only read parameters, call one `SearchIndex` method and render what it
returns; `formatting.py` turns matched-word offsets into pieces the templates mark up.
"""

from __future__ import annotations

import threading
from pathlib import Path

from flask import Flask, g, request
from flask.json.provider import DefaultJSONProvider

from search import SearchError, SearchIndex, deadline, open_index, settings, storage
from search.config import SiteConfig, load_config
from search.describe import Site, describe, index_examples

# Every response: only this site's own scripts, styles and images; no framing, no sniffing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class Indexes:
    """One open `SearchIndex` per thread (a SearchIndex is not thread-safe).

    `get()` opens the index on a thread's first request, and on later ones asks it to
    `refresh()`, which reopens it when a rebuild has swapped in a new generation. When the
    index cannot be opened, the error goes up (the views answer 503) and the next request
    tries again, so a server started before the first `search index` needs no restart.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._local = threading.local()
        self._diagnosis: tuple[str | None, SearchError | None] | None = None

    def get(self) -> SearchIndex:
        ix = getattr(self._local, "ix", None)
        if ix is None:
            ix = self._local.ix = open_index(self.path)
            return ix
        try:
            ix.refresh()
        except SearchError:
            self.close()  # deleted or damaged since: reopen from scratch next time
            raise
        return ix

    def close(self) -> None:
        """Close this thread's index, if it has one open."""
        ix = getattr(self._local, "ix", None)
        self._local.ix = None
        if ix is not None:
            ix.close()

    def diagnose(self) -> SearchError | None:
        """After an unexpected error in a request: the index's damage, if that was the cause
        (see `storage.diagnose`); None if its files are intact. It reads every file, so the
        answer is kept until a rebuild swaps in another generation. This thread's index is
        closed either way, to be opened afresh by its next request."""
        self.close()
        generation = storage.current_name(self.path)
        known = self._diagnosis
        if known is None or known[0] != generation:
            known = self._diagnosis = (generation, storage.diagnose(self.path))
        return known[1]


class Sites:
    """What the site says about its archive (`search.describe.Site`), made once per index
    generation: the configuration's words, and what the index itself gives (a summary, example
    searches that find something)."""

    def __init__(self, config: SiteConfig):
        self.config = config
        self._made: tuple[str | None, Site] | None = None
        self._lock = threading.Lock()

    def get(self, ix: SearchIndex | None) -> Site:
        """The site's words for the open index; the configuration's alone without one."""
        key = ix.generation if ix is not None else None
        made = self._made
        if made is not None and made[0] == key:
            return made[1]
        with self._lock:
            if ix is None:
                site = describe(self.config, None, [])
            else:
                examples = [] if self.config.examples else index_examples(ix)
                site = describe(self.config, ix.overview(), examples)
            self._made = (key, site)
            return site


def create_app(config: dict | None = None) -> Flask:
    """The search page's WSGI app. `config["SEARCH_INDEX"]` names the index folder; without
    it the index is $SEARCH_INDEX, then ./index, decided by `search.settings.index_path`."""
    app = Flask(__name__)
    app.json = _StrictJSON(app)
    app.config.from_mapping(
        SEARCH_INDEX=None,
        # No request holds a worker longer than this (seconds); None for no deadline.
        SEARCH_DEADLINE=settings.SERVE_DEADLINE_SECONDS,
        # Costly searches this process runs at once; one more is a 503 (settings.WorkBudget).
        SEARCH_COSTLY_SLOTS=settings.SERVE_COSTLY_SLOTS,
        # The archive's configuration (search.toml): None for $SEARCH_CONFIG, else the file
        # beside the index, if there is one. It names the site, its examples and categories.
        SEARCH_CONFIG=None,
    )
    if config:
        app.config.from_mapping(config)
    app.config["SEARCH_INDEX"] = str(settings.index_path(app.config["SEARCH_INDEX"]))
    config_file, required = settings.config_path(app.config["SEARCH_CONFIG"], Path(app.config["SEARCH_INDEX"]))
    app.extensions["search.sites"] = Sites(load_config(config_file, required))
    app.json.sort_keys = False  # keep the dataclasses' field order, as `--json` prints it
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    # `/doc//etc/passwd` must be a 404, not a redirect to a merged path.
    app.url_map.merge_slashes = False
    app.extensions["search"] = Indexes(Path(app.config["SEARCH_INDEX"]))
    gate = app.extensions["search.gate"] = deadline.Gate(app.config["SEARCH_COSTLY_SLOTS"])

    from . import views

    app.register_blueprint(views.bp)

    @app.before_request
    def start_deadline():
        """Every search and document page of this request stops at the deadline, or when its
        client has gone (waitress says so when its request lookahead is on); a costly search
        waits for no one: it runs if a slot of the gate is free, else it is a 503."""
        seconds = app.config["SEARCH_DEADLINE"]
        gone = request.environ.get("waitress.client_disconnected")
        g.search_deadline = deadline.begin(deadline.Deadline(seconds, gone, gate))

    @app.teardown_request
    def end_deadline(exc):
        token = g.pop("search_deadline", None)
        if token is not None:
            deadline.end(token)

    @app.after_request
    def security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return app


class _StrictJSON(DefaultJSONProvider):
    """Standard JSON only: no NaN or Infinity, which strict parsers refuse."""

    def dumps(self, obj, **kwargs):
        kwargs.setdefault("allow_nan", False)
        return super().dumps(obj, **kwargs)


def serve(*args, **kwargs) -> None:
    """`search serve`: see web/server.py."""
    from .server import serve as run

    run(*args, **kwargs)
