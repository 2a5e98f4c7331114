"""A bounded load test of `search serve` on loopback, while a rebuild swaps in.

    python benchmarks/load.py                                   # 20,000 requests, 16 clients, ../shared/archive
    python benchmarks/load.py --index /tmp/wh-index             # start from a copy of an existing index
    python benchmarks/load.py --requests 2000 --clients 8       # a quicker run
    python benchmarks/load.py --random-words --no-rebuild       # searches of random words: memory must level off
    python benchmarks/load.py --attack                          # 16 clients sending the worst queries, and one plain

It copies (or builds) an index in a temporary folder, starts the real `search serve` on it,
and sends a fixed number of requests from concurrent keep-alive clients (client processes
with threads, so that the clients do not share one interpreter lock): searches, searches with
filters, sorting and paging, document pages and their JSON, and hostile requests (traversal,
control characters, over-long and deeply nested queries, bad dates, huge pages). Meanwhile
`search index` rebuilds the same index again and again, so new generations swap in under the
load. Every answer is checked against the status its kind must have; anything else, a 5xx,
a dropped connection or a timeout is an error.

It prints a table, and writes the figures to benchmarks/results/load.json: requests, clients,
throughput, p50/p99 latency (in all and by kind), errors, the swaps seen, and the resident
memory of the server and its worker processes after a warm-up and after the run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SHARED = Path(os.environ.get("SEARCH_SHARED", REPO.parent / "shared"))
WORDS = ["ukraine", "climate", "semiconductors", "Maui wildfire", "DPRK Russia", "inflation reduction act",
         "vaccine", "border security", "infrastructure", "Kishida", "budget", "clean energy jobs"]


@dataclass
class Request:
    kind: str
    path: str
    expect: tuple[int, ...]


@dataclass
class LoadReport:
    requests: int
    clients: int
    seconds: float
    throughput: float  # requests a second
    p50_ms: float
    p99_ms: float
    errors: int
    error_samples: list = field(default_factory=list)
    by_kind: dict = field(default_factory=dict)
    swaps: int = 0  # rebuilds that swapped in while the load ran
    rss_before: dict = field(default_factory=dict)  # pid -> bytes, after the warm-up
    rss_after: dict = field(default_factory=dict)
    rss_timeline: list = field(default_factory=list)  # [seconds into the load, all processes' bytes]

    @property
    def rss_growth(self) -> int:
        return sum(self.rss_after.values()) - sum(self.rss_before.values())


# The worst queries a client can send: refused by the work budget at once, or accepted as the
# costliest the budget allows (a thousand characters of common words, eight fuzzy words, date
# ranges under AND, prefixes up to the budget's expansions).
COMMON = ("president biden administration american people united states support federal new year "
          "today world health care economy jobs security national help work families time act communities "
          "country nation law million including program state public energy climate").split()
WORST = [
    " ".join(f"{a}{b}*" for a in "sbmtlhcdpr" for b in "aeiou" * 4)[:999],  # the prefix attack
    " ".join(COMMON * 6)[:999],
    " ".join(f"{w}~2" for w in COMMON[:8]),
    " OR ".join(["(president AND date:[2021 to 2024])"] * 8),
    "president AND date:[0000 to 9999] AND NOT biden",
    " ".join(f"{w}*" for w in ("presid", "adminis", "econom", "secur", "communi", "nation")),
    '"' + " ".join(COMMON[:40]) + '"',
]


# --- The requests --------------------------------------------------------------------------


def _random_words(rnd: random.Random, vocabulary: list[str]) -> str:
    """Two to ten words, half of them from the archive, half made up: every query brings new
    words to the caches of stems and document frequencies."""
    words = []
    for _ in range(rnd.randint(2, 10)):
        if vocabulary and rnd.random() < 0.5:
            words.append(rnd.choice(vocabulary))
        else:
            words.append("".join(rnd.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rnd.randint(4, 10))))
    return " ".join(words)


def request_mix(paths: list[str], count: int, seed: int = 1, vocabulary: list[str] | None = None) -> list[Request]:
    """`count` requests: 40% searches, 20% filtered searches, 25% documents, 15% hostile.
    With a `vocabulary`, the searches are of random words (see `_random_words`)."""
    rnd = random.Random(seed)
    quote = urllib.parse.quote
    hostile = [
        Request("hostile", "/api/search?q=%00%01%02", (400,)),
        Request("hostile", "/api/search?q=" + "x" * 1001, (400,)),
        Request("hostile", "/api/search?q=" + "(" * 300 + "energy" + ")" * 300, (200, 400)),
        Request("hostile", "/api/search?q=a*", (400,)),
        Request("hostile", "/api/search?q=*", (200, 400)),
        Request("hostile", "/api/search?q=president~2", (200,)),
        Request("hostile", "/api/search?q=" + quote(" OR ".join(WORDS * 20)[:990]), (200, 400)),
        Request("hostile", "/api/search?q=energy&page=" + "9" * 40, (400,)),
        Request("hostile", "/api/search?q=energy&since=2024-13-45", (400,)),
        Request("hostile", "/api/search?q=energy&sort=random&sort=newest", (400,)),
        Request("hostile", "/api/search?q=energy&" + "&".join(f"tag=t{i}" for i in range(100)), (200,)),
        Request("hostile", "/?q=" + quote("<script>alert(1)</script>\"><svg onload=alert(1)>"), (200,)),
        Request("hostile", "/doc/..%2F..%2F..%2Fetc%2Fpasswd", (404,)),
        Request("hostile", "/api/doc/%2e%2e/%2e%2e/etc/passwd", (404,)),
        Request("hostile", "/doc//etc/passwd", (404,)),
        Request("hostile", "/api/doc/..%5C..%5Cwin.ini", (404,)),
        Request("hostile", "/api/doc/x.md%00.txt", (404,)),
        Request("hostile", "/api/search?q=" + quote("\ud7ff\ufffe\u202e energy"), (200, 400)),
    ]
    mix = []
    for _ in range(count):
        roll = rnd.random()
        words = quote(_random_words(rnd, vocabulary) if vocabulary is not None else rnd.choice(WORDS))
        if roll < 0.2:
            mix.append(Request("search page", f"/?q={words}", (200,)))
        elif roll < 0.4:
            mix.append(Request("search api", f"/api/search?q={words}", (200,)))
        elif roll < 0.6:
            tag = rnd.choice(["press-briefings", "statements-releases", "speeches-remarks", "blog"])
            sort = rnd.choice(["relevance", "newest", "oldest"])
            mix.append(Request("filtered", f"/api/search?q={words}&tag={tag}&since=2022-01-01&until=2024-12-31&sort={sort}",
                               (200,)))
        elif roll < 0.85:
            path = quote(rnd.choice(paths))
            if rnd.random() < 0.5:
                mix.append(Request("document page", f"/doc/{path}?q={words}", (200,)))
            else:
                mix.append(Request("document api", f"/api/doc/{path}", (200,)))
        else:
            mix.append(rnd.choice(hostile))
    return mix


# --- The clients ---------------------------------------------------------------------------


def _client_process(port: int, requests: list[Request], threads: int, out) -> None:
    """Send `requests` over `threads` keep-alive connections; put (kind, status, seconds, note)."""
    results, lock = [], threading.Lock()

    def client(share: list[Request]) -> None:
        mine = []
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for request in share:
            started = time.perf_counter()
            try:
                connection.request("GET", request.path)
                response = connection.getresponse()
                body = response.read()
                status = response.status
                note = "" if status in request.expect else body[:200].decode("utf-8", "replace")
            except Exception as exc:  # a dropped connection or a timeout: an error, then a new connection
                status, note = 0, f"{exc.__class__.__name__}: {exc}"
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append((request.kind, request.path, status, time.perf_counter() - started,
                         status in request.expect, note))
        connection.close()
        with lock:
            results.extend(mine)

    workers = [threading.Thread(target=client, args=(requests[i::threads],)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    out.put(results)


def run_load(port: int, requests: list[Request], clients: int) -> tuple[list[tuple], float]:
    """Send every request from `clients` concurrent connections; the results and the wall time."""
    context = multiprocessing.get_context("fork")
    processes = max(1, min(clients, (os.cpu_count() or 1) * 2, 4))
    per_process = [clients // processes + (i < clients % processes) for i in range(processes)]
    out = context.Queue()
    started = time.perf_counter()
    procs = []
    for i, threads in enumerate(per_process):
        share = requests[i::processes]
        procs.append(context.Process(target=_client_process, args=(port, share, threads, out)))
    for proc in procs:
        proc.start()
    results = []
    for _ in procs:
        results.extend(out.get())
    for proc in procs:
        proc.join()
    return results, time.perf_counter() - started


# --- The server ----------------------------------------------------------------------------


def start_server(index: Path, processes: int, threads: int, log: Path) -> tuple[subprocess.Popen, int]:
    handle = open(log, "w")
    server = subprocess.Popen([_search(), "serve", "--index", str(index), "--port", "0", "--processes", str(processes),
                               "--threads", str(threads)], stdout=subprocess.DEVNULL, stderr=handle)
    deadline = time.monotonic() + 60
    while not (match := re.search(r"Serving http://[^ ]+:(\d+)/", log.read_text())):
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"search serve did not start: {log.read_text()}")
        time.sleep(0.05)
    return server, int(match[1])


def server_rss(pid: int) -> dict[int, int]:
    """Resident memory in bytes of the server and each of its worker processes."""
    pids = [pid]
    try:
        pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        pass
    sizes = {}
    for p in pids:
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        if match:
            sizes[p] = int(match[1]) * 1024
    return sizes


class RssSampler:
    """The server's total resident memory every `every` seconds while the load runs, to tell
    caches filling towards their bounds (growth that levels off) from a leak (growth that
    goes on)."""

    def __init__(self, pid: int, every: float = 2.0):
        self.pid, self.every = pid, every
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "RssSampler":
        self._started = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _sample(self) -> None:
        self.samples.append((round(time.perf_counter() - self._started, 1), sum(server_rss(self.pid).values())))

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._sample()


class Rebuilds:
    """`search index` run again and again on the served index until stopped (or `limit` runs),
    counting swaps."""

    def __init__(self, archive: Path, index: Path, limit: int | None = None):
        self.archive, self.index, self.limit = archive, index, limit
        self.swaps, self.failures = 0, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def __enter__(self) -> "Rebuilds":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set() and (self.limit is None or self.swaps < self.limit):
            run = subprocess.Popen([_search(), "index", "-q", "--archive", str(self.archive), "--index", str(self.index)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            while run.poll() is None:
                if self._stop.wait(0.05):
                    run.terminate()  # the load is over: the run is cut short, and the index stays as it was
                    run.wait()
                    return
            if run.returncode != 0:
                self.failures.append(run.stderr.read().strip())
                return
            self.swaps += 1


def _served_copy(archive: Path, index: Path, work: Path) -> tuple[Path, list[str], list[str]]:
    """A copy of `index` (built from `archive` when it does not exist) to serve, its documents'
    paths and its spelling words."""
    served = work / "index"
    if index.exists():
        shutil.copytree(index, served, ignore=shutil.ignore_patterns("LOCK", "*.partial"))
    else:
        subprocess.run([_search(), "index", "-q", "--archive", str(archive), "--index", str(served)], check=True)
    from search import open_index

    with open_index(served) as ix:
        paths = [f["path"] for f in ix._searcher.all_stored_fields()]
        vocabulary = list(ix.lexicon.words)
    return served, paths, vocabulary


def load_test(archive: Path, index: Path, requests: int, clients: int, processes: int = 2, threads: int = 8,
              rebuild: bool = True, rebuilds: int | None = None, work: Path | None = None, seed: int = 1,
              random_words: bool = False) -> LoadReport:
    """The whole run on a copy of `index` (built from `archive` when it does not exist), with
    rebuilds one after another while it lasts (at most `rebuilds` of them, if given)."""
    work = Path(work or tempfile.mkdtemp(prefix="search-load-"))
    served, paths, vocabulary = _served_copy(archive, index, work)
    random.Random(seed).shuffle(paths)
    words = vocabulary if random_words else None
    mix = request_mix(paths[:500], requests, seed, words)
    server, port = start_server(served, processes, threads, work / "serve.log")
    try:
        run_load(port, request_mix(paths[:500], min(400, max(50, requests // 10)), seed + 1, words), clients)  # warm-up
        before = server_rss(server.pid)
        with RssSampler(server.pid) as sampler:
            if rebuild:
                with Rebuilds(archive, served, rebuilds) as running:
                    results, seconds = run_load(port, mix, clients)
                    # With a fixed number of rebuilds, the load goes on, in more rounds of the same
                    # requests, until they have all swapped in: a fast server must not finish first.
                    while rebuilds is not None and running.running():
                        more, more_seconds = run_load(port, mix, clients)
                        results, seconds = results + more, seconds + more_seconds
                if running.failures:
                    raise SystemExit(f"a rebuild failed under load: {running.failures[0]}")
                swaps = running.swaps
            else:
                results, seconds = run_load(port, mix, clients)
                swaps = 0
        after = server_rss(server.pid)
        alive = server.poll() is None
    finally:
        server.terminate()
        server.wait(timeout=30)
    errors = [r for r in results if not r[4]]
    if not alive:
        errors.append(("server", "", -1, 0, False, "the server died"))
    latencies = sorted(r[3] for r in results)
    by_kind = {}
    for kind in sorted({r[0] for r in results}):
        mine = sorted(r[3] for r in results if r[0] == kind)
        by_kind[kind] = {"requests": len(mine), "p50_ms": _ms(_pct(mine, 50)), "p99_ms": _ms(_pct(mine, 99)),
                         "errors": sum(1 for r in results if r[0] == kind and not r[4])}
    return LoadReport(
        requests=len(results), clients=clients, seconds=round(seconds, 2), throughput=round(len(results) / seconds, 1),
        p50_ms=_ms(_pct(latencies, 50)), p99_ms=_ms(_pct(latencies, 99)), errors=len(errors),
        error_samples=[{"kind": e[0], "path": e[1][:200], "status": e[2], "note": e[5]} for e in errors[:10]],
        by_kind=by_kind, swaps=swaps, rss_before=before, rss_after=after,
        rss_timeline=[list(sample) for sample in sampler.samples],
    )


@dataclass
class AttackReport:
    """`attackers` clients sending WORST for `seconds`, and one plain query every 0.2 s."""

    attackers: int
    seconds: float
    attack_statuses: dict  # status -> count
    attack_p50_ms: float
    attack_max_ms: float
    plain_requests: int
    plain_p50_ms: float
    plain_p99_ms: float
    plain_max_ms: float
    plain_errors: int
    rss_after: dict = field(default_factory=dict)
    burst_plain_ms: list = field(default_factory=list)  # a plain query right after each volley of the worst


def attack_test(archive: Path, index: Path, attackers: int = 16, seconds: float = 30.0, processes: int = 2,
                threads: int = 8, work: Path | None = None) -> AttackReport:
    """How a plain query fares while `attackers` clients send the worst queries at once."""
    work = Path(work or tempfile.mkdtemp(prefix="search-attack-"))
    served, _, _ = _served_copy(archive, index, work)
    server, port = start_server(served, processes, threads, work / "serve.log")
    quote = urllib.parse.quote
    attacks = [f"/api/search?q={quote(q)}" for q in WORST] + [f"/?q={quote(q)}" for q in WORST]
    stop = threading.Event()
    attack_results: list[tuple[int, float]] = []
    plain: list[tuple[int, float]] = []
    lock = threading.Lock()

    def attacker(n: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        i = n
        while not stop.is_set():
            started = time.perf_counter()
            try:
                connection.request("GET", attacks[i % len(attacks)])
                response = connection.getresponse()
                response.read()
                status = response.status
            except Exception:
                status = 0
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            with lock:
                attack_results.append((status, time.perf_counter() - started))
            i += 1
        connection.close()

    burst: list[float] = []
    try:
        run_load(port, request_mix(["x.md"], 100, 3), 4)  # warm-up
        # Bursts first: the worst queries from every attacker at once, and a plain query right
        # after them; then the sustained attack.
        for round_ in range(10):
            volley = [threading.Thread(target=_get_once, args=(port, attacks[(round_ + n) % len(attacks)])) for n in range(attackers)]
            for thread in volley:
                thread.start()
            time.sleep(0.01)
            begun = time.perf_counter()
            _get_once(port, "/api/search?q=" + quote(WORDS[round_ % len(WORDS)]))
            burst.append(time.perf_counter() - begun)
            for thread in volley:
                thread.join()
        threads_ = [threading.Thread(target=attacker, args=(n,)) for n in range(attackers)]
        for thread in threads_:
            thread.start()
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            begun = time.perf_counter()
            try:
                connection.request("GET", "/api/search?q=" + quote(random.choice(WORDS)))
                response = connection.getresponse()
                response.read()
                status = response.status
            except Exception:
                status = 0
            plain.append((status, time.perf_counter() - begun))
            connection.close()
            time.sleep(0.2)
        stop.set()
        for thread in threads_:
            thread.join()
        rss = server_rss(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    statuses: dict = {}
    for status, _ in attack_results:
        statuses[status] = statuses.get(status, 0) + 1
    attack_times = sorted(t for _, t in attack_results)
    plain_times = sorted(t for _, t in plain)
    return AttackReport(
        attackers=attackers, seconds=seconds, attack_statuses=statuses, attack_p50_ms=_ms(_pct(attack_times, 50)),
        attack_max_ms=_ms(attack_times[-1] if attack_times else 0), plain_requests=len(plain),
        plain_p50_ms=_ms(_pct(plain_times, 50)), plain_p99_ms=_ms(_pct(plain_times, 99)),
        plain_max_ms=_ms(plain_times[-1] if plain_times else 0), plain_errors=sum(1 for s, _ in plain if s != 200),
        rss_after=rss, burst_plain_ms=[_ms(t) for t in burst],
    )


def _get_once(port: int, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    except Exception:
        return 0
    finally:
        connection.close()


def print_attack(report: AttackReport, out=sys.stdout) -> None:
    mb = 1024 * 1024
    if report.burst_plain_ms:
        ordered = sorted(report.burst_plain_ms)
        print(f"a plain query right after {report.attackers} of the worst queries at once, {len(ordered)} times: "
              f"median {ordered[len(ordered) // 2]:.1f} ms, slowest {ordered[-1]:.1f} ms", file=out)
    print(f"{report.attackers} clients sending the {len(WORST)} worst queries for {report.seconds:.0f} s: "
          f"{sum(report.attack_statuses.values()):,} requests, statuses {dict(sorted(report.attack_statuses.items()))}, "
          f"p50 {report.attack_p50_ms:.1f} ms, slowest {report.attack_max_ms:.1f} ms", file=out)
    print(f"a plain query every 0.2 s meanwhile: {report.plain_requests} requests, p50 {report.plain_p50_ms:.1f} ms, "
          f"p99 {report.plain_p99_ms:.1f} ms, slowest {report.plain_max_ms:.1f} ms, {report.plain_errors} errors; "
          f"server RSS after {sum(report.rss_after.values()) / mb:.1f} MB", file=out)


def _pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def _at_fraction(timeline: list, fraction: float) -> list:
    """The first sample at or after `fraction` of the run's length."""
    end = timeline[-1][0]
    return next(sample for sample in timeline if sample[0] >= fraction * end)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _search() -> str:
    found = shutil.which("search")
    if not found:
        raise SystemExit("the search command is not installed (pip install . puts it on PATH)")
    return found


def print_report(report: LoadReport, out=sys.stdout) -> None:
    mb = 1024 * 1024
    print(f"{report.requests:,} requests from {report.clients} clients in {report.seconds:.1f} s: "
          f"{report.throughput:,.0f} requests/s, p50 {report.p50_ms:.1f} ms, p99 {report.p99_ms:.1f} ms, "
          f"{report.errors} errors, {report.swaps} rebuilds swapped in", file=out)
    print(f"\n{'kind':<15} {'requests':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}", file=out)
    for kind, row in report.by_kind.items():
        print(f"{kind:<15} {row['requests']:>9,} {row['p50_ms']:>8.1f} {row['p99_ms']:>8.1f} {row['errors']:>7}", file=out)
    print(f"\n{'process':<15} {'RSS before':>11} {'RSS after':>10}", file=out)
    for pid in sorted(set(report.rss_before) | set(report.rss_after)):
        print(f"{pid:<15} {report.rss_before.get(pid, 0) / mb:>9.1f} MB {report.rss_after.get(pid, 0) / mb:>7.1f} MB", file=out)
    print(f"{'all':<15} {sum(report.rss_before.values()) / mb:>9.1f} MB {sum(report.rss_after.values()) / mb:>7.1f} MB "
          f"({report.rss_growth / mb:+.1f} MB)", file=out)
    if report.rss_timeline:
        quarters = [_at_fraction(report.rss_timeline, q) for q in (0.25, 0.5, 0.75, 1.0)]
        print("all processes' RSS at a quarter, half, three quarters and the end of the load: "
              + ", ".join(f"{rss / mb:.1f} MB ({seconds:.0f} s)" for seconds, rss in quarters)
              + f"; growth over the second half {(quarters[3][1] - quarters[1][1]) / mb:+.1f} MB", file=out)
    for sample in report.error_samples:
        print(f"error: {sample}", file=out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archive", type=Path, default=SHARED / "archive", help="the archive the rebuilds read")
    parser.add_argument("--index", type=Path, help="an index to start from (copied, never changed); else built")
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--processes", type=int, default=2, help="search serve --processes")
    parser.add_argument("--threads", type=int, default=4, help="search serve --threads")
    parser.add_argument("--no-rebuild", action="store_true", help="no rebuilds during the load")
    parser.add_argument("--random-words", action="store_true", help="searches of random words (memory must level off)")
    parser.add_argument("--attack", action="store_true", help="16 clients send the worst queries; time a plain one")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long --attack lasts")
    parser.add_argument("--out", type=Path, default=None, help="default: benchmarks/results/load.json (attack.json)")
    args = parser.parse_args()
    if not args.archive.is_dir():
        raise SystemExit(f"no archive at {args.archive}; give --archive DIR")
    if args.attack:
        with tempfile.TemporaryDirectory(prefix="search-attack-") as work:
            attack = attack_test(args.archive, args.index or Path(work) / "none", args.clients, args.seconds,
                                 args.processes, args.threads, work=Path(work))
        print_attack(attack)
        out = args.out or HERE / "results" / "attack.json"
        out.write_text(json.dumps({**asdict(attack), "command": " ".join(["python", *sys.argv]),
                                   "date": time.strftime("%Y-%m-%d %H:%M:%S")}, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {out}")
        return
    with tempfile.TemporaryDirectory(prefix="search-load-") as work:
        report = load_test(args.archive, args.index or Path(work) / "none", args.requests, args.clients,
                           args.processes, args.threads, rebuild=not args.no_rebuild, work=Path(work),
                           random_words=args.random_words)
    print_report(report)
    data = {**asdict(report), "rss_growth": report.rss_growth, "command": " ".join(["python", *sys.argv]),
            "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
            "date": time.strftime("%Y-%m-%d %H:%M:%S")}
    out = args.out or HERE / "results" / ("load-random-words.json" if args.random_words else "load.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {out}")
    if report.errors:
        sys.exit(1)


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
