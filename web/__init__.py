"""The search page: a Flask app over the `search` library, served by waitress.

    app = create_app({"SEARCH_INDEX": "/tmp/wh-index"})   # a WSGI app; tests pass their own index
    serve(Path("index"), host="127.0.0.1", port=8000)     # what `search serve` runs

The views in `views.py` only read parameters, call one `SearchIndex` method and render what it
returns; `formatting.py` turns matched-word offsets into pieces the templates mark up.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
from pathlib import Path

from flask import Flask

from search import SearchError, SearchIndex, open_index, settings, storage

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


def serve(index: Path, host: str = "127.0.0.1", port: int = 8000, threads: int = 8, processes: int = 1) -> None:
    """Serve the search page with waitress until Ctrl-C; the URL goes to stderr.

    With `processes` > 1 the listening socket is shared by that many forked processes, each a
    waitress server with its own threads and its own open index: searching is pure Python, so
    one process uses one core whatever its thread count.
    """
    from waitress import create_server

    try:
        listener = socket.create_server((host, port), family=_family(host), backlog=1024)
    except OSError as exc:
        raise SystemExit(f"Error: cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    bound_host, bound_port = listener.getsockname()[:2]
    url = f"http://{f'[{bound_host}]' if ':' in bound_host else bound_host}:{bound_port}/"
    try:
        open_index(Path(index)).close()
    except SearchError as exc:
        print(f"Warning: {exc}; the page says so until an index exists (no restart needed).", file=sys.stderr)
    processes = processes if hasattr(os, "fork") else 1
    workers = f", {processes} processes" if processes > 1 else ""
    print(f"Serving {url} (index: {Path(index).resolve()}{workers}) — Ctrl-C to stop", file=sys.stderr, flush=True)

    def run_one() -> None:
        app = create_app({"SEARCH_INDEX": str(index)})
        server = create_server(app, sockets=[listener], threads=threads, ident="search")
        try:
            server.run()
        except KeyboardInterrupt:
            pass

    if processes <= 1:
        signal.signal(signal.SIGTERM, _interrupt)  # stop as on Ctrl-C
        run_one()
        print("Stopped.", file=sys.stderr)
        return
    children = []
    for _ in range(processes):
        pid = os.fork()
        if pid == 0:  # a worker: serve until told to stop
            signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
            try:
                run_one()
            finally:
                os._exit(0)
        children.append(pid)
    listener.close()
    _wait_for(children)
    print("Stopped.", file=sys.stderr)


def _wait_for(children: list[int]) -> None:
    """Wait for the worker processes; Ctrl-C or SIGTERM stops them all."""
    def stop(*_):
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    try:
        for pid in children:
            os.waitpid(pid, 0)
    except KeyboardInterrupt:
        stop()
        for pid in children:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass


def _interrupt(*_):
    raise KeyboardInterrupt


def _family(host: str) -> int:
    return socket.AF_INET6 if ":" in host else socket.AF_INET
