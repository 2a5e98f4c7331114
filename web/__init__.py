"""The search page: a Flask app over the `search` library, served by waitress.

    app = create_app({"SEARCH_INDEX": "/tmp/wh-index"})   # a WSGI app; tests pass their own index
    serve(Path("index"), host="127.0.0.1", port=8000)     # what `search serve` runs

The views in `views.py` only read parameters, call one `SearchIndex` method and render what it
returns; `formatting.py` turns matched-word offsets into pieces the templates mark up.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from flask import Flask

from search import SearchError, SearchIndex, open_index, settings

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


def create_app(config: dict | None = None) -> Flask:
    """The search page's WSGI app. `config["SEARCH_INDEX"]` names the index folder; without
    it the index is $SEARCH_INDEX, then ./index, decided by `search.settings.index_path`."""
    app = Flask(__name__)
    app.config.from_mapping(
        SEARCH_INDEX=None,
        EXAMPLE_QUERIES=[
            "DPRK Russia",
            "Maui wildfire recovery",
            '"Inflation Reduction Act" insulin',
            "Kishda",
            "semiconductors date:2022",
            "title:readout Japan -China",
        ],
    )
    if config:
        app.config.from_mapping(config)
    app.config["SEARCH_INDEX"] = str(settings.index_path(app.config["SEARCH_INDEX"]))
    app.json.sort_keys = False  # keep the dataclasses' field order, as `--json` prints it
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    # `/doc//etc/passwd` must be a 404, not a redirect to a merged path.
    app.url_map.merge_slashes = False
    app.extensions["search"] = Indexes(Path(app.config["SEARCH_INDEX"]))

    from . import views

    app.register_blueprint(views.bp)

    @app.after_request
    def security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return app


def serve(index: Path, host: str = "127.0.0.1", port: int = 8000, threads: int = 8) -> None:
    """Serve the search page with waitress until Ctrl-C; the URL goes to stderr."""
    from waitress import create_server

    app = create_app({"SEARCH_INDEX": str(index)})
    try:
        server = create_server(app, host=host, port=port, threads=threads, ident="search")
    except OSError as exc:
        raise SystemExit(f"Error: cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    listening = getattr(server, "effective_listen", None) or [(server.effective_host, server.effective_port)]
    urls = ", ".join(f"http://{f'[{h}]' if ':' in str(h) else h}:{p}/" for h, p in listening)
    try:
        open_index(Path(index)).close()
    except SearchError as exc:
        print(f"Warning: {exc}; the page says so until an index exists (no restart needed).", file=sys.stderr)
    print(f"Serving {urls} (index: {Path(index).resolve()}) — Ctrl-C to stop", file=sys.stderr, flush=True)
    server.run()  # returns on Ctrl-C
    print("Stopped.", file=sys.stderr)
