"""The real `search serve` against hostile clients, round two: slow and idle connections, the
answers waitress makes itself, and worker processes that die.

The promises:
- Idle and half-sent connections are closed after the request timeout, so a few hundred of
  them do not stop the server from answering others.
- Every answer, waitress's own 400s and 431s included, carries the security headers.
- A worker process that dies is replaced; when they keep dying, `search serve` stops with a
  non-zero exit code, so that a supervisor restarts it.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import socket
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

from search import build_index
from web import SECURITY_HEADERS

from .conftest import serve_process, write_doc
from .test_hostile_queries import PREFIX_ATTACK, PREFIXES


def children(pid: int) -> set[int]:
    try:
        return {int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}
    except OSError:
        return set()


def get(port: int, target: str = "/api/search?q=Russia", timeout: float = 30) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", target)
        response = connection.getresponse()
        body = response.read()
        return response.status, json.loads(body) if response.getheader("Content-Type", "").startswith("application/json") else {}
    finally:
        connection.close()


def raw(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(data)  # no half-close: the server would take it for a client that left
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:  # closed with some of the request unread: the answer came first
            pass
    return b"".join(chunks)


WAITRESS_ERRORS = {
    "a bad Content-Length": b"POST /api/search HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    "a duplicate Content-Length": b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    "a bad chunked body": b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    "a bad header name": b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n",
    "a bad request line": b"GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n",
    "headers too large": b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 300_000 + b"\r\n\r\n",
}


def test_the_answers_waitress_makes_itself_carry_the_security_headers(small_index, tmp_path):
    with serve_process(small_index, tmp_path, "--processes", "1") as server:
        for what, request in WAITRESS_ERRORS.items():
            answer = raw(server.port, request)
            head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")
            status = int(head.split()[1])
            assert 400 <= status < 500, (what, head[:100])
            headers = {line.split(":", 1)[0].lower(): line.split(":", 1)[1].strip() for line in head.split("\r\n")[1:]}
            for name, value in SECURITY_HEADERS.items():
                assert headers.get(name.lower()) == value, (what, name, head)
        assert get(server.port)[0] == 200


def test_idle_and_trickling_connections_are_closed_and_others_still_answered(small_index, tmp_path):
    """Slowloris: more idle connections than the server takes at once, and some that send a
    header byte now and then to look alive. Before, 205 such connections stopped it answering."""
    limit, timeout = 20, 2.0
    with serve_process(small_index, tmp_path, "--processes", "1", "--connection-limit", str(limit),
                       "--request-timeout", str(timeout)) as server:
        idle = [socket.create_connection(("127.0.0.1", server.port), timeout=30) for _ in range(limit + 10)]
        trickling = [socket.create_connection(("127.0.0.1", server.port), timeout=30) for _ in range(5)]
        stop = threading.Event()

        def trickle():
            for sock in trickling:
                sock.sendall(b"GET / HTTP/1.1\r\n")
            while not stop.wait(0.3):
                for sock in trickling:
                    try:
                        sock.sendall(b"X")
                    except OSError:
                        pass

        worker = threading.Thread(target=trickle, daemon=True)
        worker.start()
        try:
            status, data = get(server.port, timeout=30)  # waits for a slot, then answers
            assert status == 200 and data["ok"] is True
            for sock in idle[:5] + trickling:  # the server hung up on them
                sock.settimeout(30)
                try:
                    assert sock.recv(1024) == b""
                except ConnectionResetError:
                    pass
        finally:
            stop.set()
            worker.join()
            for sock in idle + trickling:
                sock.close()
        assert get(server.port)[0] == 200


def test_a_worker_that_dies_is_replaced_and_repeated_deaths_stop_the_server(small_index, tmp_path):
    with serve_process(small_index, tmp_path, "--processes", "2") as server:
        deadline = time.monotonic() + 30
        while len(children(server.process.pid)) < 2:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        first = children(server.process.pid)
        os.kill(next(iter(first)), signal.SIGKILL)
        deadline = time.monotonic() + 30
        while len(children(server.process.pid)) < 2 or children(server.process.pid) == first:
            assert time.monotonic() < deadline, server.stderr()
            time.sleep(0.05)
        assert "starting another" in server.stderr()
        for _ in range(4):
            assert get(server.port)[0] == 200
        for _ in range(10):  # keep killing them: the server gives up
            for pid in children(server.process.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if server.process.poll() is not None:
                break
            time.sleep(0.3)
        assert server.process.wait(timeout=30) == 1
        assert "so the server stops" in server.stderr()


def test_sixteen_refused_attacks_at_once_leave_a_plain_query_answered(tmp_path):
    """The prefix attack from sixteen clients while a plain query is asked: the attacks are
    refused (400) at once, and the plain query is answered. (How fast is measured by
    `benchmarks/load.py --attack`.)"""
    rng = random.Random(9)
    for n in range(120):
        words = " ".join(p + "".join(rng.choice("bcdfgklmnprst") + rng.choice("aeiou") for _ in range(3))
                         for p in rng.choices(PREFIXES, k=100))  # about 240 words a prefix: under its cap
        write_doc(tmp_path / "a", f"d{n:03d}.md", title=f"'Doc {n}'", date="'2024-02-02'", body=f"Russia {words}")
    build_index(tmp_path / "a", tmp_path / "ix")
    with serve_process(tmp_path / "ix", tmp_path, "--processes", "2", "--threads", "8") as server:
        statuses: list[int] = []
        attack = f"/api/search?q={urllib.parse.quote(PREFIX_ATTACK)}"

        def attacker():
            for _ in range(5):
                statuses.append(get(server.port, attack, timeout=60)[0])

        threads = [threading.Thread(target=attacker) for _ in range(16)]
        for thread in threads:
            thread.start()
        plain = get(server.port, timeout=60)
        for thread in threads:
            thread.join()
        assert plain[0] == 200 and plain[1]["total"] == 120
        assert set(statuses) == {400} and len(statuses) == 80


def test_a_busy_server_writes_a_line_or_two_not_one_for_each_queued_request(small_index, tmp_path):
    """Waitress warns "Task queue depth is N" for every request that waits for a thread: a
    line a request under load, which filled an unread stderr pipe and stalled the server
    (benchmarks/speed.py hung so). One such line is let through per 10 s, with a count."""
    with serve_process(small_index, tmp_path, "--threads", "1") as server:
        statuses: list[int] = []

        def client():
            for _ in range(25):
                statuses.append(get(server.port, "/api/search?q=Russia+sanctions+Maui")[0])

        threads = [threading.Thread(target=client) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert statuses == [200] * 200
        warnings = [line for line in server.stderr().splitlines() if "Task queue depth" in line]
        assert 1 <= len(warnings) <= 2, warnings


@pytest.mark.parametrize("option", ["--deadline", "--connection-limit", "--request-timeout"])
def test_serve_documents_its_limits(option):
    from click.testing import CliRunner

    from search.cli import cli

    result = CliRunner().invoke(cli, ["serve", "-h"])
    assert option in result.output
