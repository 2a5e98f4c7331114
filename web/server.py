"""`search serve`: the app under waitress, in one or several processes, with limits set on purpose.

What one client can hold, per process: `connection_limit` connections, each closed when it has
not sent a whole request `request_timeout` seconds after it opened or after its last answer
(an idle keep-alive connection, or a slowloris trickling header bytes to keep it open); and a
search stops at its deadline (`deadline`), and only `costly_slots` costly searches run at once
(one more is a 503 with Retry-After). Past the connection limit, new connections wait in the
listen backlog until one frees.

Waitress answers some malformed requests itself (a bad Content-Length, a header too large):
those answers carry the same security headers as the app's, through `_SecureErrorTask`.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from waitress.channel import HTTPChannel
from waitress.task import ErrorTask

from search import SearchError, open_index, settings

# Workers that die this many times within RESTART_WINDOW seconds are not started again: the
# server stops with exit code 1, so that a supervisor sees it failed.
MAX_RESTARTS = 5
RESTART_WINDOW = 60.0
# Waitress warns "Task queue depth is N" on every request that waits for a thread; with few
# threads by design, that is a line per request under load, enough to fill a pipe and stall a
# server whose stderr nobody reads. One such line is let through per this many seconds.
QUEUE_WARNING_SECONDS = 10.0


@dataclass(frozen=True)
class Limits:
    """What each server process lets its clients hold (see the module's docstring)."""

    threads: int = settings.SERVE_THREADS
    connection_limit: int = settings.SERVE_CONNECTION_LIMIT
    request_timeout: float = settings.SERVE_REQUEST_SECONDS
    deadline: float = settings.SERVE_DEADLINE_SECONDS
    costly_slots: int = settings.SERVE_COSTLY_SLOTS


def serve(
    index: Path, host: str = "127.0.0.1", port: int = 8000, threads: int = settings.SERVE_THREADS, processes: int = 1,
    limits: Limits | None = None,
) -> None:
    """Serve the search page with waitress until Ctrl-C or SIGTERM; the URL goes to stderr.

    With `processes` > 1 the listening socket is shared by that many forked processes, each a
    waitress server with its own threads and its own open index: searching is pure Python, so
    one process uses one core whatever its thread count. A worker that dies is replaced; if
    they keep dying, the server stops with exit code 1.
    """
    limits = limits or Limits(threads=threads)
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

    if processes <= 1:
        signal.signal(signal.SIGTERM, _interrupt)  # stop as on Ctrl-C
        _run_one(index, listener, limits)
        print("Stopped.", file=sys.stderr)
        return
    code = _supervise(index, listener, limits, processes)
    print("Stopped." if code == 0 else "Stopped: the server processes kept dying.", file=sys.stderr)
    if code:
        raise SystemExit(code)


def _run_one(index: Path, listener: socket.socket, limits: Limits) -> None:
    from waitress.server import create_server

    from . import create_app

    app = create_app({"SEARCH_INDEX": str(index), "SEARCH_DEADLINE": limits.deadline,
                      "SEARCH_COSTLY_SLOTS": limits.costly_slots})
    # With one socket this is a single TcpWSGIServer (the stubs type it as either kind).
    server: Any = create_server(
        app, sockets=[listener], threads=limits.threads, ident="search",
        connection_limit=limits.connection_limit,
        # Waitress's own idle timeout, a backstop to the request timeout below.
        channel_timeout=max(1, round(limits.request_timeout * 2)),
        cleanup_interval=max(1, min(5, round(limits.request_timeout / 4))),
        # Keep reading while a request runs, so that waitress notices a client that has gone
        # (`waitress.client_disconnected`) and the search stops.
        channel_request_lookahead=4,
    )
    server.channel_class = _Channel
    logging.getLogger("waitress.queue").addFilter(_OncePer(QUEUE_WARNING_SECONDS))
    request_timeout = limits.request_timeout
    idle_check = server.maintenance

    def maintenance(now: float) -> None:
        idle_check(now)
        for channel in list(server.active_channels.values()):
            if not channel.requests and channel.waiting_since < now - request_timeout:
                channel.will_close = True

    server.maintenance = maintenance
    threading.Thread(target=_warm, args=(app,), daemon=True).start()
    try:
        server.run()
    except KeyboardInterrupt:
        pass


class _OncePer(logging.Filter):
    """Lets one record through per `seconds`, saying how many it held back since the last."""

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds, self.last, self.held = seconds, float("-inf"), 0

    def filter(self, record: logging.LogRecord) -> bool:
        now = time.monotonic()
        if now - self.last < self.seconds:
            self.held += 1
            return False
        if self.held:
            record.msg = f"{record.getMessage()} ({self.held} more such warnings in the last {now - self.last:.0f} s)"
            record.args = ()
        self.last, self.held = now, 0
        return True


def _warm(app) -> None:
    """Read the index's statistics and columns in the background as the worker starts; they are
    shared by its threads. No index yet, or a damaged one: the requests say so, not this."""
    indexes = app.extensions["search"]
    try:
        indexes.get().warm()
    except Exception:  # noqa: BLE001 - warming is an optimisation; a request reports any problem
        pass
    finally:
        indexes.close()


class _SecureErrorTask(ErrorTask):
    """Waitress's own error answers (400, 431, ...) with the app's security headers."""

    def execute(self):
        from . import SECURITY_HEADERS

        self.response_headers.extend(SECURITY_HEADERS.items())
        super().execute()


class _Channel(HTTPChannel):
    """A connection that remembers since when it has been waiting for a whole request: from
    when it opened, or from its last response. The server closes it past `request_timeout`."""

    error_task_class = _SecureErrorTask

    def __init__(self, *args, **kwargs):
        self.waiting_since = time.time()
        super().__init__(*args, **kwargs)

    def received(self, data):
        result = super().received(data)
        if self.requests:  # a whole request arrived: the clock restarts after its answer
            self.waiting_since = float("inf")
        return result

    def service(self):
        try:
            return super().service()
        finally:
            if not self.requests:
                self.waiting_since = time.time()


def _supervise(index: Path, listener: socket.socket, limits: Limits, processes: int) -> int:
    """Run `processes` workers until Ctrl-C or SIGTERM (0), replacing any that dies; 1 when
    they die MAX_RESTARTS times within RESTART_WINDOW seconds."""
    stopping = False

    def start() -> int:
        pid = os.fork()
        if pid == 0:  # a worker: serve until told to stop
            signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
            try:
                _run_one(index, listener, limits)
            finally:
                os._exit(0)
        return pid

    def stop(*_) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    children = {start() for _ in range(processes)}
    signal.signal(signal.SIGTERM, stop)
    deaths: list[float] = []
    code = 0
    while children:
        try:
            pid, status = os.wait()
        except KeyboardInterrupt:
            stop()
            continue
        except ChildProcessError:
            break
        children.discard(pid)
        if stopping:
            continue
        now = time.monotonic()
        deaths = [t for t in deaths if t > now - RESTART_WINDOW] + [now]
        print(f"A server process (pid {pid}) ended ({_how(status)}); ", end="", file=sys.stderr)
        if len(deaths) >= MAX_RESTARTS:
            print(f"{len(deaths)} have ended within {RESTART_WINDOW:.0f} s, so the server stops.", file=sys.stderr)
            code = 1
            stop()
            continue
        print("starting another.", file=sys.stderr, flush=True)
        children.add(start())
    listener.close()
    return code


def _how(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit code {os.WEXITSTATUS(status)}" if os.WIFEXITED(status) else f"status {status}"


def _interrupt(*_):
    raise KeyboardInterrupt


def _family(host: str) -> int:
    return socket.AF_INET6 if ":" in host else socket.AF_INET
