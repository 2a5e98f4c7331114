"""Speed at archive scale: rebuild, update, query latency, the CLI and the web API, beside peers.

    pip install '.[bench]'
    python benchmarks/speed.py            # the full run over ../shared/archive (about 20 minutes)
    python benchmarks/speed.py --quick    # a quarter of the archive, fewer repeats (under 2 minutes)

Everything is measured on this machine in one run, and printed as tables; the same figures go
to benchmarks/results/speed.json (speed-quick.json with --quick).

- Rebuild: `search index` in a fresh process, wall seconds (median of --runs), documents and
  megabytes a second, peak resident memory of the parent and of the largest worker, index size.
- Update: `search index --update` as a process after adding 10 files, then after adding,
  changing and deleting 10 each, on a copy of the archive.
- Queries: the fixed set in benchmarks/speed_queries.tsv through `SearchIndex.search`, top 10,
  with and without snippets; p50/p95/p99 of each query's median over --repeats runs.
- The chart: what the results page's trend chart adds to it, over the query set: the search
  with its matches counted by period (timeline=True) beside the same search without, the
  chart's geometry (web/charts.py) and its SVG written by _chart.html; each a median of
  --repeats runs per query, then the median over the queries (`--chart-only INDEX` measures
  only this, on an index already built).
- The CLI: median wall time of `search query "DPRK Russia"` as a whole process.
- The web: `search serve` on loopback under a bounded load from 8 concurrent clients (a
  Python client with keep-alive connections), throughput, p50/p99 and errors.
- Peers: SQLite FTS5 (porter, bm25(), snippet()) and tantivy (en_stem, SnippetGenerator) on the
  same documents (parsed and cleaned the same way) and the same query words, with the ratio of
  the engine to each.
- Cost growth: rebuild time, index size, memory and query latency at 1/4, 1/2, all of the
  archive and 4 times the archive (every document under 4 paths, as symbolic links).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from search import open_index  # noqa: E402
from search.archive import list_archive  # noqa: E402
from search.documents import read_document  # noqa: E402
from search.errors import QueryError  # noqa: E402

SHARED = Path(os.environ.get("SEARCH_SHARED", REPO.parent / "shared"))
PYTHON = sys.executable


def search_command() -> list[str]:
    found = shutil.which("search")
    return [found] if found else [PYTHON, "-c", "from search.cli import main; main()"]


# --- Archives -------------------------------------------------------------------------------


def scaled_archive(source: Path, target: Path, fraction: float = 1.0, copies: int = 1) -> int:
    """A tree of a share of the archive's files, or of each file `copies` times under new
    paths: hard links where the filesystem allows, else copies (a symbolic link out of the
    archive is skipped by the indexer). Returns the number of files."""
    files, _ = list_archive(source)
    step = max(1, round(1 / fraction)) if fraction < 1 else 1
    chosen = files[::step]
    for copy in range(copies):
        for file in chosen:
            link = target / (f"copy{copy}" if copies > 1 else "") / file.path
            link.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(file.abspath, link)
            except OSError:
                shutil.copyfile(file.abspath, link)
    return len(chosen) * copies


def archive_bytes(archive: Path) -> int:
    files, _ = list_archive(archive)
    return sum(f.size for f in files)


# --- Rebuild and update -----------------------------------------------------------------------

_BUILD = """
import json, resource, sys, time
from pathlib import Path
from search import build_index
t = time.perf_counter()
report = build_index(Path(sys.argv[1]), Path(sys.argv[2]), speakers=sys.argv[3] == "speakers")
print(json.dumps({"seconds": time.perf_counter() - t, "documents": report.documents,
    "parent_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "worker_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def rebuild(archive: Path, index: Path, speakers: bool = True) -> dict:
    """One rebuild in a fresh process: its own timing (after imports) and the process's wall time."""
    started = time.perf_counter()
    done = subprocess.run([PYTHON, "-c", _BUILD, str(archive), str(index), "speakers" if speakers else "none"],
                          capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = time.perf_counter() - started
    result["index_mb"] = dir_mb(index / (index / "CURRENT").read_text().strip())
    return result


def dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def measure_rebuilds(archive: Path, work: Path, runs: int) -> dict:
    """`runs` rebuilds, each followed by one without speakers' turns (`--no-speakers`), so
    that what the turns cost is measured in the same conditions."""
    results, plain = [], []
    for n in range(runs):
        index = work / f"rebuild-{n}"
        results.append(rebuild(archive, index))
        if n < runs - 1:
            shutil.rmtree(index)
        plain.append(rebuild(archive, work / "rebuild-no-speakers", speakers=False))
        shutil.rmtree(work / "rebuild-no-speakers")
    size = archive_bytes(archive)
    seconds = statistics.median(r["seconds"] for r in results)
    return {
        "runs": runs,
        "documents": results[0]["documents"],
        "archive_mb": round(size / 1e6, 1),
        "seconds_median": round(seconds, 2),
        "seconds_all": [round(r["seconds"], 2) for r in results],
        "process_wall_median": round(statistics.median(r["wall_seconds"] for r in results), 2),
        "docs_per_second": round(results[0]["documents"] / seconds, 1),
        "mb_per_second": round(size / 1e6 / seconds, 2),
        "parent_rss_mb": round(max(r["parent_rss_mb"] for r in results), 1),
        "worker_rss_mb": round(max(r["worker_rss_mb"] for r in results), 1),
        "index_mb": round(results[0]["index_mb"], 1),
        "index": str(work / f"rebuild-{runs - 1}"),
        "no_speakers": {
            "seconds_median": round(statistics.median(r["seconds"] for r in plain), 2),
            "seconds_all": [round(r["seconds"], 2) for r in plain],
            "index_mb": round(plain[0]["index_mb"], 1),
        },
    }


def measure_update(source: Path, work: Path) -> dict:
    """--update on a real copy of the archive: 10 added; then 10 added, 10 changed, 10 deleted."""
    archive = work / "update-archive"
    shutil.copytree(source, archive, symlinks=False)
    index = work / "update-index"
    rebuild(archive, index)
    files = sorted(p for p in archive.rglob("*.md"))
    out = {}

    def run_update() -> dict:
        started = time.perf_counter()
        done = subprocess.run([*search_command(), "index", "--update", "--json", "--archive", str(archive), "--index", str(index)],
                              capture_output=True, text=True, check=True)
        report = json.loads(done.stdout)
        return {"process_seconds": round(time.perf_counter() - started, 3), "library_seconds": round(report["seconds"], 3),
                "added": report["added"], "updated": report["updated"], "removed": report["removed"]}

    for n, source_file in enumerate(files[:10]):
        text = source_file.read_text(encoding="utf-8")
        (source_file.parent / f"zz-added-{n}.md").write_text(text + f"\n\nAdded paragraph zyxwadd{n}.\n", encoding="utf-8")
    out["add_10"] = run_update()
    for n, path in enumerate(files[10:20]):
        path.write_text(path.read_text(encoding="utf-8") + f"\n\nChanged paragraph zyxwchg{n}.\n", encoding="utf-8")
    for path in files[20:30]:
        path.unlink()
    for n, source_file in enumerate(files[30:40]):
        (source_file.parent / f"zz-more-{n}.md").write_text(source_file.read_text(encoding="utf-8"), encoding="utf-8")
    out["add_change_delete_10"] = run_update()
    shutil.rmtree(archive)
    return out


# --- Queries ------------------------------------------------------------------------------------


def load_queries(limit: int | None = None) -> list[tuple[str, str, dict]]:
    queries = []
    for line in (HERE / "speed_queries.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        kind, text, options = (line.split("\t") + ["", ""])[:3]
        queries.append((kind, text, json.loads(options) if options.strip() else {}))
    return queries[::max(1, len(queries) // limit)] if limit else queries


def percentiles(values: list[float]) -> dict:
    ordered = sorted(values)

    def at(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]

    return {"p50_ms": round(at(0.50) * 1000, 2), "p95_ms": round(at(0.95) * 1000, 2), "p99_ms": round(at(0.99) * 1000, 2)}


def measure_queries(index: Path, queries, repeats: int) -> dict:
    with open_index(index) as ix:
        for _, text, options in queries:  # warm: first-use loads (word list, facet maps) and caches
            _search(ix, text, options, True)
        with_snippets, without = [], []
        for _, text, options in queries:
            with_snippets.append(statistics.median(_timed(ix, text, options, True) for _ in range(repeats)))
            without.append(statistics.median(_timed(ix, text, options, False) for _ in range(repeats)))
    highlight = [a - b for a, b in zip(with_snippets, without)]
    by_kind = {}
    for kind in sorted({k for k, _, _ in queries}):
        times = [t for (k, _, _), t in zip(queries, with_snippets) if k == kind]
        by_kind[kind] = round(statistics.median(times) * 1000, 2)
    return {
        "queries": len(queries),
        "repeats": repeats,
        "with_snippets": percentiles(with_snippets),
        "without_snippets": percentiles(without),
        "snippets_only_p50_ms": round(statistics.median(highlight) * 1000, 2),
        "median_ms_by_kind": by_kind,
    }


def _search(ix, text, options, snippets):
    try:
        return ix.search(text, limit=10, snippets=snippets, **options)
    except QueryError:
        return None


def _timed(ix, text, options, snippets) -> float:
    started = time.perf_counter()
    _search(ix, text, options, snippets)
    return time.perf_counter() - started


def measure_cli(index: Path, runs: int) -> dict:
    def wall(argv) -> float:
        started = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True)
        return time.perf_counter() - started

    command = search_command()
    python = statistics.median(wall([PYTHON, "-c", "pass"]) for _ in range(runs))
    query = statistics.median(wall([*command, "query", "--index", str(index), "DPRK Russia"]) for _ in range(runs))
    modules = subprocess.run(
        [PYTHON, "-X", "importtime", *(["-m", "search.cli"] if False else ["-c", "import search.cli"])],
        capture_output=True, text=True,
    ).stderr
    return {
        "runs": runs,
        "query_process_median_s": round(query, 3),
        "python_startup_median_s": round(python, 3),
        "imports_flask": " flask" in modules,
    }


# --- Web --------------------------------------------------------------------------------------


def measure_web(index: Path, queries, requests: int, clients: int = 8, options: tuple[str, ...] = (), rounds: int = 3) -> dict:
    """`rounds` runs of `requests` each against a fresh `search serve`; the round of median
    throughput is reported, with every round's figures (the machine's speed drifts)."""
    runs = sorted((_web_round(index, queries, requests, clients, options) for _ in range(rounds)),
                  key=lambda r: r["requests_per_second"])
    middle = runs[len(runs) // 2]
    return {**middle, "rounds": [{k: r[k] for k in ("requests_per_second", "p50_ms", "p99_ms", "errors")} for r in runs]}


def _web_round(index: Path, queries, requests: int, clients: int, options: tuple[str, ...]) -> dict:
    process = subprocess.Popen([*search_command(), "serve", "--index", str(index), "--port", "0", *options],
                               stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        line = process.stderr.readline()
        while line and "Serving http" not in line:
            line = process.stderr.readline()
        port = int(re.search(r"http://[^:/]+:(\d+)/", line).group(1))
        # Keep reading the server's stderr: a full pipe would stop it.
        threading.Thread(target=process.stderr.read, daemon=True).start()
        paths = [_api_path(text, options) for _, text, options in queries]
        for path in paths[:20]:  # warm every server thread's index a little
            _get(port, path)
        rss_before = _rss_mb(process.pid)
        latencies: list[float] = []
        errors = []
        lock = threading.Lock()
        per_client = requests // clients

        def client(n: int) -> None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine, failed = [], []
            for i in range(per_client):
                path = paths[(n * per_client + i) % len(paths)]
                started = time.perf_counter()
                try:
                    connection.request("GET", path)
                    response = connection.getresponse()
                    body = response.read()
                    if response.status != 200 or not body.startswith(b'{"ok":true'):
                        failed.append(f"{response.status} {path}")
                except OSError as exc:
                    failed.append(f"{exc.__class__.__name__} {path}")
                    connection.close()
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                mine.append(time.perf_counter() - started)
            connection.close()
            with lock:
                latencies.extend(mine)
                errors.extend(failed)

        started = time.perf_counter()
        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        rss_after = _rss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=10)
    return {
        "requests": len(latencies),
        "clients": clients,
        "requests_per_second": round(len(latencies) / elapsed, 1),
        **percentiles(latencies),
        "errors": len(errors),
        "error_examples": errors[:5],
        "server_rss_mb_before": rss_before,
        "server_rss_mb_after": rss_after,
    }


def measure_pages(index: Path, queries, documents: int = 200) -> dict:
    """The search page and the document page (with its more-like-this) in process, through the
    app's test client: the median of each over the query set and over `documents` documents
    opened once each (after others have warmed the process, as a running server is)."""
    import random

    from web import create_app

    app = create_app({"SEARCH_INDEX": str(index), "TESTING": True})
    client = app.test_client()
    with open_index(index) as ix:
        paths = [fields["path"] for fields in ix.searcher.all_stored_fields()]
    random.Random(5).shuffle(paths)
    searches = ["/?" + _api_path(text, options).split("?", 1)[1] for _, text, options in queries]
    documents_ = ["/doc/" + urllib.parse.quote(path) for path in paths[: documents * 2]]
    for url in searches[:20] + documents_[documents:]:  # warm-up, on other documents than those timed
        client.get(url)

    def median_ms(urls: list[str]) -> float:
        times = []
        for url in urls:
            started = time.perf_counter()
            client.get(url)
            times.append(time.perf_counter() - started)
        return round(statistics.median(times) * 1000, 2)

    search_ms, document_ms = median_ms(searches), median_ms(documents_[:documents])
    app.extensions["search"].close()
    return {"search_page_ms": search_ms, "document_page_ms": document_ms, "documents": documents,
            "ratio": round(document_ms / search_ms, 2)}


def measure_chart(index: Path, queries, repeats: int) -> dict:
    """The chart's cost on the results page: counting by period in the search, then drawing."""
    from flask import render_template

    from web import charts, create_app

    app = create_app({"SEARCH_INDEX": str(index), "TESTING": True})
    counted, drawn, plain, with_chart = [], [], [], []
    with open_index(index) as ix, app.test_request_context("/?q=x"):
        for _, text, options in queries:
            _search(ix, text, {**options, "facets": True}, True)  # warm
            base = statistics.median(_timed(ix, text, {**options, "facets": True}, True) for _ in range(repeats))
            full = statistics.median(_timed(ix, text, {**options, "facets": True, "timeline": True}, True) for _ in range(repeats))
            results = _search(ix, text, {**options, "facets": True, "timeline": True}, True)
            if results is None or results.timeline is None:
                continue
            plain.append(base)
            with_chart.append(full)
            counted.append(full - base)

            def draw(trend=results.timeline) -> None:
                chart = charts.chart(trend, lambda _, point: f"/?q=x&since={point.since}&until={point.until}")
                render_template("_chart.html", chart=chart, chart_caption="Matches by month")

            drawn.append(statistics.median(_clock(draw) for _ in range(repeats)))
    app.extensions["search"].close()
    counting = statistics.median(counted)
    drawing = statistics.median(drawn)
    return {
        "queries": len(counted), "repeats": repeats,
        "search_ms": round(statistics.median(plain) * 1000, 3),
        "search_with_timeline_ms": round(statistics.median(with_chart) * 1000, 3),
        "counting_ms": round(counting * 1000, 3),
        "drawing_ms": round(drawing * 1000, 3),
        "chart_ms": round((counting + drawing) * 1000, 3),
        "drawing_p95_ms": round(sorted(drawn)[int(0.95 * (len(drawn) - 1))] * 1000, 3),
    }


def _api_path(text: str, options: dict) -> str:
    params = [("q", text)] + [("tag", t) for t in options.get("tags", [])] + [("speaker", s) for s in options.get("speakers", [])]
    params += [(k, options[k]) for k in ("since", "until", "sort") if k in options]
    return "/api/search?" + urllib.parse.urlencode(params)


def _get(port: int, path: str) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path)
    connection.getresponse().read()
    connection.close()


def _rss_mb(pid: int) -> float | None:
    """The resident memory of a process and its children (the server's worker processes)."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return round(total / 1024, 1) if total else None


# --- Peers ------------------------------------------------------------------------------------


def _documents(archive: Path):
    files, _ = list_archive(archive)
    for file in files:
        try:
            document = read_document(file)
        except Exception:
            continue
        yield document


def _words(text: str) -> list[str]:
    """The query's plain words: what every peer is asked (no syntax, no filters)."""
    text = re.sub(r"\b(?:title|body|tags|date|speaker):\S*", " ", text)
    return [w for w in re.findall(r"\w+", text.lower()) if w not in {"and", "or", "not"}]


def peer_fts5(archive: Path, work: Path, queries, repeats: int) -> dict:
    db = sqlite3.connect(work / "fts5.sqlite")
    started = time.perf_counter()
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(path UNINDEXED, title, body, tokenize='porter')")
    db.executemany("INSERT INTO docs VALUES (?, ?, ?)", ((d.path, d.title, d.body) for d in _documents(archive)))
    db.commit()
    build = time.perf_counter() - started
    times = []
    for _, text, _ in queries:
        words = _words(text)
        if not words:
            continue
        match = " OR ".join('"' + w + '"' for w in words)
        sql = ("SELECT path, title, snippet(docs, 2, '[', ']', '…', 40) FROM docs WHERE docs MATCH ? "
               "ORDER BY bm25(docs) LIMIT 10")
        db.execute(sql, (match,)).fetchall()
        times.append(statistics.median(_clock(lambda: db.execute(sql, (match,)).fetchall()) for _ in range(repeats)))
    db.close()
    return {"build_seconds": round(build, 2), "index_mb": round((work / "fts5.sqlite").stat().st_size / 1e6, 1), **percentiles(times)}


def peer_tantivy(archive: Path, work: Path, queries, repeats: int) -> dict:
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("path", stored=True, tokenizer_name="raw")
    builder.add_text_field("title", stored=True, tokenizer_name="en_stem")
    builder.add_text_field("body", stored=True, tokenizer_name="en_stem")
    schema = builder.build()
    folder = work / "tantivy"
    folder.mkdir()
    started = time.perf_counter()
    index = tantivy.Index(schema, path=str(folder))
    writer = index.writer(heap_size=256 * 1024 * 1024, num_threads=2)
    for d in _documents(archive):
        writer.add_document(tantivy.Document(path=d.path, title=d.title, body=d.body))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    build = time.perf_counter() - started
    searcher = index.searcher()
    times = []
    for _, text, _ in queries:
        words = _words(text)
        if not words:
            continue
        query = index.parse_query(" ".join(words), ["title", "body"])
        generator = tantivy.SnippetGenerator.create(searcher, query, schema, "body")

        def run():
            for _, address in searcher.search(query, 10).hits:
                generator.snippet_from_doc(searcher.doc(address)).to_html()

        run()
        times.append(statistics.median(_clock(run) for _ in range(repeats)))
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6
    return {"build_seconds": round(build, 2), "index_mb": round(size, 1), **percentiles(times)}


def _clock(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


# --- Growth -----------------------------------------------------------------------------------


def measure_growth(source: Path, work: Path, scales, queries) -> list[dict]:
    rows = []
    for label, fraction, copies in scales:
        archive = work / f"scale-{label}"
        count = scaled_archive(source, archive, fraction, copies)
        index = work / f"scale-{label}-index"
        built = rebuild(archive, index)
        latency = measure_queries(index, queries, repeats=1)
        rows.append({
            "scale": label, "documents": built["documents"], "files": count,
            "rebuild_seconds": round(built["seconds"], 2), "index_mb": round(built["index_mb"], 1),
            "parent_rss_mb": round(built["parent_rss_mb"], 1), "worker_rss_mb": round(built["worker_rss_mb"], 1),
            "query_p50_ms": latency["with_snippets"]["p50_ms"], "query_p99_ms": latency["with_snippets"]["p99_ms"],
        })
        shutil.rmtree(index)
        shutil.rmtree(archive)
    return rows


# --- Report -----------------------------------------------------------------------------------


def table(title: str, header: list[str], rows: list[list]) -> None:
    widths = [max(len(str(x)) for x in [h] + [r[i] for r in rows]) for i, h in enumerate(header)]
    print(f"\n{title}")
    print("  ".join(str(h).ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths)))


def show_rebuild(report: dict) -> None:
    rb = report["rebuild"]
    table("Rebuild (search index, fresh process)",
          ["runs", "docs", "MB", "median s", "docs/s", "MB/s", "parent RSS MB", "worker RSS MB", "index MB"],
          [[rb["runs"], rb["documents"], rb["archive_mb"], rb["seconds_median"], rb["docs_per_second"], rb["mb_per_second"],
            rb["parent_rss_mb"], rb["worker_rss_mb"], rb["index_mb"]]])
    plain = rb.get("no_speakers")
    if plain:
        print(f"without speakers' turns (--no-speakers), alternating with the above: median {plain['seconds_median']} s, "
              f"index {plain['index_mb']} MB; the turns cost {rb['seconds_median'] / plain['seconds_median'] - 1:+.1%} "
              f"time and {rb['index_mb'] / plain['index_mb'] - 1:+.1%} size")


def show_update(report: dict) -> None:
    table("Update (search index --update as a process, on a copy of the archive)",
          ["change", "process s", "library s", "added", "changed", "removed"],
          [[k, v["process_seconds"], v["library_seconds"], v["added"], v["updated"], v["removed"]]
           for k, v in report["update"].items()])


def show_queries(report: dict) -> None:
    qr = report["queries"]
    table(f"Library queries ({qr['queries']} queries, median of {qr['repeats']} runs each, top 10)",
          ["", "p50 ms", "p95 ms", "p99 ms"],
          [["with snippets", *qr["with_snippets"].values()], ["without snippets", *qr["without_snippets"].values()]])
    table("Median ms by kind of query (with snippets)", list(qr["median_ms_by_kind"]), [list(qr["median_ms_by_kind"].values())])
    print(f"snippets alone: p50 {qr['snippets_only_p50_ms']} ms a query")


def show_cli(report: dict) -> None:
    cli = report["cli"]
    table('The CLI: search query "DPRK Russia" as a process', ["runs", "median s", "python -c pass s", "imports Flask"],
          [[cli["runs"], cli["query_process_median_s"], cli["python_startup_median_s"], cli["imports_flask"]]])


def show_pages(report: dict) -> None:
    pages = report["pages"]
    table("Pages in process (median; each document opened once)", ["search page ms", "document page ms", "document/search"],
          [[pages["search_page_ms"], pages["document_page_ms"], f"{pages['ratio']:.2f}x"]])


def show_chart(report: dict) -> None:
    chart = report["chart"]
    table(f"The results page's chart ({chart['queries']} queries; medians of {chart['repeats']} runs, then over the queries)",
          ["search ms", "with timeline ms", "counting ms", "drawing ms", "drawing p95 ms", "chart adds ms"],
          [[chart["search_ms"], chart["search_with_timeline_ms"], chart["counting_ms"], chart["drawing_ms"],
            chart["drawing_p95_ms"], chart["chart_ms"]]])


def show_web(report: dict) -> None:
    web = report["web"]
    table("The web: /api/search under search serve, 8 concurrent clients (the median of its rounds)",
          ["requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "RSS MB before", "after"],
          [[web["requests"], web["requests_per_second"], web["p50_ms"], web["p95_ms"], web["p99_ms"], web["errors"],
            web["server_rss_mb_before"], web["server_rss_mb_after"]]])
    if web.get("rounds"):
        print("rounds: " + "; ".join(f"{r['requests_per_second']} req/s, p99 {r['p99_ms']} ms" for r in web["rounds"]))


def show_peers(report: dict) -> None:
    rb, qr = report["rebuild"], report["queries"]
    engine = {"build_seconds": rb["seconds_median"], "index_mb": rb["index_mb"], **qr["with_snippets"]}
    rows = [["engine", engine["build_seconds"], engine["index_mb"], engine["p50_ms"], engine["p99_ms"], "", "", ""]]
    for name, peer in report["peers"].items():
        rows.append([name, peer["build_seconds"], peer["index_mb"], peer["p50_ms"], peer["p99_ms"],
                     f"{engine['build_seconds'] / peer['build_seconds']:.1f}x",
                     f"{engine['p50_ms'] / peer['p50_ms']:.1f}x", f"{engine['p99_ms'] / peer['p99_ms']:.1f}x"])
    table("Peers on the same documents and query words (top 10 with snippets)",
          ["system", "build s", "index MB", "p50 ms", "p99 ms", "engine/peer build", "p50", "p99"], rows)


def show_growth(report: dict) -> None:
    table("Cost growth (one rebuild each; 60 queries, top 10 with snippets)",
          ["scale", "docs", "rebuild s", "index MB", "parent RSS MB", "worker RSS MB", "query p50 ms", "p99 ms"],
          [[g["scale"], g["documents"], g["rebuild_seconds"], g["index_mb"], g["parent_rss_mb"], g["worker_rss_mb"],
            g["query_p50_ms"], g["query_p99_ms"]] for g in report["growth"]])


SECTIONS = {"rebuild": show_rebuild, "update": show_update, "queries": show_queries, "pages": show_pages,
            "chart": show_chart, "cli": show_cli, "web": show_web, "peers": show_peers, "growth": show_growth}


def show(report: dict) -> None:
    """Print the tables of a saved run, so the README can quote them without running again."""
    print(f"{report['mode']} run of {report['when']}: Python {report['machine']['python']}, "
          f"{report['machine']['cpus']} CPUs, {report['machine']['memory_gb']} GB")
    for key, printer in SECTIONS.items():
        if key in report:
            printer(report)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Speed of the engine at archive scale, beside peers.")
    parser.add_argument("--quick", action="store_true", help="a quarter of the archive, one rebuild, fewer queries and requests")
    parser.add_argument("--archive", type=Path, default=SHARED / "archive")
    parser.add_argument("--runs", type=int, default=None, help="rebuilds to take the median of (default 3; 1 with --quick)")
    parser.add_argument("--repeats", type=int, default=None, help="runs of each query (default 5; 3 with --quick)")
    parser.add_argument("--requests", type=int, default=None, help="web requests (default 4000; 400 with --quick)")
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--show", type=Path, default=None, metavar="JSON", help="print the tables of a saved run and exit")
    parser.add_argument("--chart-only", type=Path, default=None, metavar="INDEX",
                        help="measure only the results page's chart, on this index (to speed-chart.json)")
    args = parser.parse_args(argv)
    if args.show:
        show(json.loads(args.show.read_text(encoding="utf-8")))
        return 0
    if args.chart_only:
        report = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "index": str(args.chart_only),
                  "chart": measure_chart(args.chart_only, load_queries(), args.repeats or 5)}
        show_chart(report)
        output = args.output or HERE / "results" / "speed-chart.json"
        output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {output}", file=sys.stderr)
        return 0
    if not args.archive.is_dir():
        print(f"no archive at {args.archive}", file=sys.stderr)
        return 1
    quick = args.quick
    runs = args.runs or (1 if quick else 3)
    repeats = args.repeats or (3 if quick else 5)
    requests = args.requests or (400 if quick else 4000)
    queries = load_queries(60 if quick else None)
    output = args.output or HERE / "results" / ("speed-quick.json" if quick else "speed.json")
    report = {
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
                    "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)},
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "mode": "quick" if quick else "full",
    }
    with tempfile.TemporaryDirectory(prefix="speed-") as tmp:
        work = Path(tmp)
        archive = args.archive
        if quick:
            archive = work / "quarter"
            scaled_archive(args.archive, archive, 0.25)
        print(f"archive: {archive} ({'a quarter of ' + str(args.archive) if quick else 'all of it'})", file=sys.stderr)

        print("rebuild ...", file=sys.stderr)
        report["rebuild"] = rb = measure_rebuilds(archive, work, runs)
        index = Path(rb.pop("index"))
        show_rebuild(report)

        print("update ...", file=sys.stderr)
        report["update"] = measure_update(args.archive if not quick else archive, work)
        show_update(report)

        print("queries ...", file=sys.stderr)
        report["queries"] = measure_queries(index, queries, repeats)
        show_queries(report)

        print("pages ...", file=sys.stderr)
        report["pages"] = measure_pages(index, queries, 50 if quick else 200)
        show_pages(report)

        print("chart ...", file=sys.stderr)
        report["chart"] = measure_chart(index, queries, repeats)
        show_chart(report)

        print("cli ...", file=sys.stderr)
        report["cli"] = measure_cli(index, 5 if quick else 10)
        show_cli(report)

        print("web ...", file=sys.stderr)
        report["web"] = measure_web(index, queries, requests)
        show_web(report)

        print("peers ...", file=sys.stderr)
        peers = {}
        peers["fts5"] = peer_fts5(archive, work, queries, repeats)
        try:
            peers["tantivy"] = peer_tantivy(archive, work, queries, repeats)
        except ImportError as exc:
            print(f"tantivy: skipped ({exc}; pip install '.[bench]')", file=sys.stderr)
        report["peers"] = peers
        show_peers(report)

        if not quick:
            print("growth ...", file=sys.stderr)
            scales = [("1/4", 0.25, 1), ("1/2", 0.5, 1), ("1x", 1.0, 1), ("4x", 1.0, 4)]
            report["growth"] = measure_growth(args.archive, work, scales, load_queries(60))
            show_growth(report)

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
