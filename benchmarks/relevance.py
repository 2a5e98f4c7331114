"""Ranking quality: the engine against BM25 peers on judged test collections, in one run.

    pip install '.[bench]'
    python benchmarks/relevance.py                       # the six collections and the archive queries
    python benchmarks/relevance.py --collections cranfield --systems engine
    python benchmarks/relevance.py --systems engine --set title_bonus=0.4 --set k1=1.0   # a sweep
    python benchmarks/relevance.py --split --archive-index /tmp/wh-index   # the archive's halves apart

`--set NAME=VALUE` changes one setting of the ranking (`search.Ranking`) without editing source;
the configuration is printed beside the results and written with them. `--split` reports the
archive's first 67 queries (ids A..) and the ones written after them (B..) apart, so that what
was tuned on one can be checked on the other.

For each collection the corpus is written as a temporary archive of front-matter documents
(`id`, `title`, body; no dates, so the missing-date path is exercised), indexed with the
engine's `build_index`, and queried with `SearchIndex.search`, the function behind
`search query` and `search batch`. The peers index the same title and text:

- bm25s with PyStemmer English stemming, English stop words and its defaults;
- SQLite FTS5 with the porter tokenizer and bm25(), the query an OR of the quoted terms;
- tantivy with its en_stem tokenizer.

Measures follow trec_eval: ranks are re-sorted by score (ties by descending docid), gains are
the judged grades, nDCG@10, Recall@100 and MAP (to depth 100) are averaged over every judged
query (a query with no results scores 0), and MRR@10 counts any grade above 0 as relevant.
The archive queries (benchmarks/archive_queries.tsv, judged by reading the documents) run
over ../shared/archive. Prints a table per collection and writes benchmarks/results/relevance.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from search import Ranking, build_index, open_index  # noqa: E402
from search.archive import list_archive  # noqa: E402
from search.documents import read_document  # noqa: E402
from search.errors import QueryError  # noqa: E402

SHARED = Path(os.environ.get("SEARCH_SHARED", REPO.parent / "shared"))
DEPTH = 100
SYSTEMS = ("engine", "bm25s", "fts5", "tantivy")
TRAINING = ("cranfield", "scifact", "med", "cacm", "npl", "lisa")
COLLECTIONS = TRAINING + ("archive",)
# The ranking the engine runs with (--set changes it), and an index of the archive to reuse.
RANKING = Ranking()
KEEP_DUPLICATES = False  # --keep-duplicates: every copy ranked, as the peers rank them
ARCHIVE_INDEX: Path | None = None


@dataclass
class Collection:
    name: str
    docs: dict[str, tuple[str, str]]  # id -> (title, text)
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    archive: Path | None = None  # an existing archive folder (the real one), else written from docs


@dataclass
class SystemResult:
    system: str
    index_seconds: float
    query_seconds: float
    run: dict[str, list[tuple[str, float]]] = field(repr=False)
    failed: int = 0


# --- Loading collections ----------------------------------------------------------------------


def load_beir(name: str) -> Collection:
    folder = SHARED / "relevance" / name
    docs = {}
    with open(folder / "corpus.jsonl", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            docs[str(row["_id"])] = (row.get("title") or "", row.get("text") or "")
    queries = {}
    with open(folder / "queries.jsonl", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            queries[str(row["_id"])] = row["text"]
    qrels = _read_qrels(folder / "qrels.tsv")
    queries = {q: t for q, t in queries.items() if q in qrels}
    return Collection(name, docs, queries, qrels)


def load_archive_queries() -> Collection:
    archive = SHARED / "archive"
    queries = {}
    for line in (HERE / "archive_queries.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            qid, text = line.split("\t", 1)
            queries[qid] = text
    files, _ = list_archive(archive)
    docs = {}
    for file in files:
        document = read_document(file)
        docs[document.path] = (document.title, document.body)
    return Collection("archive", docs, queries, _read_qrels(HERE / "archive_qrels.tsv"), archive=archive)


def _read_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    for line in lines:
        qid, docid, grade = line.split("\t")[:3]
        qrels.setdefault(qid, {})[docid] = int(grade)
    return qrels


def write_archive(collection: Collection, folder: Path) -> None:
    """The corpus as front-matter documents: `id`, `title` and the text as the body."""
    folder.mkdir(parents=True)
    for n, (docid, (title, text)) in enumerate(collection.docs.items()):
        meta = yaml.safe_dump({"id": docid, "title": title}, allow_unicode=True, sort_keys=False)
        (folder / f"{n:06d}.md").write_text(f"---\n{meta}---\n\n{text}\n", encoding="utf-8")


# --- Systems ----------------------------------------------------------------------------------


def run_engine(collection: Collection, work: Path) -> SystemResult:
    archive = collection.archive
    if archive is None:
        archive = work / "archive"
        write_archive(collection, archive)
    index = work / "engine-index"
    started = time.perf_counter()
    if collection.archive is not None and ARCHIVE_INDEX is not None:
        index = ARCHIVE_INDEX  # reused: its title boost must be the ranking's (open_index checks)
    else:
        report = build_index(archive, index, ranking=RANKING)
        assert report.documents == len(collection.docs), (report.documents, len(collection.docs))
    index_seconds = time.perf_counter() - started
    run, failed = {}, 0
    with open_index(index, ranking=RANKING) as ix:
        started = time.perf_counter()
        for qid, text in collection.queries.items():
            try:
                results = ix.search(text, limit=DEPTH, snippets=False, keep_duplicates=KEEP_DUPLICATES)
            except QueryError:
                failed += 1
                run[qid] = []
                continue
            run[qid] = [(h.doc_id or h.path, h.score) for h in results.results]
        query_seconds = time.perf_counter() - started
    return SystemResult("engine", index_seconds, query_seconds, run, failed)


def run_bm25s(collection: Collection, work: Path) -> SystemResult:
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    ids = list(collection.docs)
    started = time.perf_counter()
    tokens = bm25s.tokenize([f"{t} {x}" for t, x in collection.docs.values()], stopwords="en", stemmer=stemmer, show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)
    index_seconds = time.perf_counter() - started
    started = time.perf_counter()
    run = {}
    for qid, text in collection.queries.items():
        q = bm25s.tokenize([text], stopwords="en", stemmer=stemmer, show_progress=False)
        if not q.ids or not q.ids[0]:
            run[qid] = []
            continue
        k = min(DEPTH, len(ids))
        docs, scores = retriever.retrieve(q, k=k, show_progress=False, n_threads=1)
        run[qid] = [(ids[d], float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]
    return SystemResult("bm25s", index_seconds, time.perf_counter() - started, run)


def run_fts5(collection: Collection, work: Path) -> SystemResult:
    db = sqlite3.connect(work / "fts5.sqlite")
    started = time.perf_counter()
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(docid UNINDEXED, title, body, tokenize='porter')")
    db.executemany("INSERT INTO docs VALUES (?, ?, ?)", ((d, t, x) for d, (t, x) in collection.docs.items()))
    db.commit()
    index_seconds = time.perf_counter() - started
    started = time.perf_counter()
    run = {}
    for qid, text in collection.queries.items():
        terms = re.findall(r"\w+", text)
        if not terms:
            run[qid] = []
            continue
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
        rows = db.execute(
            "SELECT docid, bm25(docs) FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ?", (match, DEPTH)
        ).fetchall()
        run[qid] = [(d, -s) for d, s in rows]  # bm25() is lower-is-better
    db.close()
    return SystemResult("fts5", index_seconds, time.perf_counter() - started, run)


def run_tantivy(collection: Collection, work: Path) -> SystemResult:
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("docid", stored=True, tokenizer_name="raw")
    builder.add_text_field("title", stored=False, tokenizer_name="en_stem")
    builder.add_text_field("body", stored=False, tokenizer_name="en_stem")
    schema = builder.build()
    (work / "tantivy").mkdir()
    started = time.perf_counter()
    index = tantivy.Index(schema, path=str(work / "tantivy"))
    writer = index.writer(heap_size=256 * 1024 * 1024, num_threads=2)
    for docid, (title, text) in collection.docs.items():
        writer.add_document(tantivy.Document(docid=docid, title=title, body=text))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    index_seconds = time.perf_counter() - started
    searcher = index.searcher()
    started = time.perf_counter()
    run = {}
    for qid, text in collection.queries.items():
        words = " ".join(re.findall(r"\w+", text.lower()))  # plain words: no query syntax
        if not words:
            run[qid] = []
            continue
        query = index.parse_query(words, ["title", "body"])
        hits = searcher.search(query, DEPTH).hits
        run[qid] = [(searcher.doc(address)["docid"][0], score) for score, address in hits]
    return SystemResult("tantivy", index_seconds, time.perf_counter() - started, run)


RUNNERS = {"engine": run_engine, "bm25s": run_bm25s, "fts5": run_fts5, "tantivy": run_tantivy}


# --- Measures ------------------------------------------------------------------------------


def trec_order(ranked: list[tuple[str, float]]) -> list[str]:
    """trec_eval's order: by score, descending; ties by docid, descending."""
    return [d for d, _ in sorted(ranked, key=lambda ds: (-ds[1], _neg(ds[0])))]


def _neg(docid: str):
    return tuple(-ord(c) for c in docid)


def evaluate(run: dict[str, list[tuple[str, float]]], qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    totals = {"ndcg@10": 0.0, "recall@100": 0.0, "map": 0.0, "mrr@10": 0.0}
    for qid, judged in qrels.items():
        ranking = trec_order(run.get(qid, []))[:DEPTH]
        relevant = {d for d, g in judged.items() if g > 0}
        if not relevant:
            continue
        dcg = sum(judged.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranking[:10]))
        ideal = sorted((g for g in judged.values() if g > 0), reverse=True)[:10]
        idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
        totals["ndcg@10"] += dcg / idcg if idcg else 0.0
        totals["recall@100"] += len(relevant & set(ranking)) / len(relevant)
        hits, precision_sum = 0, 0.0
        for i, d in enumerate(ranking):
            if d in relevant:
                hits += 1
                precision_sum += hits / (i + 1)
        totals["map"] += precision_sum / len(relevant)
        first = next((i for i, d in enumerate(ranking[:10]) if d in relevant), None)
        totals["mrr@10"] += 1.0 / (first + 1) if first is not None else 0.0
    n = sum(1 for judged in qrels.values() if any(g > 0 for g in judged.values()))
    return {k: round(v / n, 4) for k, v in totals.items()}


# --- Main ----------------------------------------------------------------------------------


def measure(collection: Collection, systems: list[str], judged: list[tuple[str, dict]]) -> list[tuple[str, dict, list[dict]]]:
    """Each system's run over the collection, evaluated against each set of judgments."""
    results = []
    for system in systems:
        with tempfile.TemporaryDirectory(prefix=f"rel-{collection.name}-{system}-") as tmp:
            try:
                results.append(RUNNERS[system](collection, Path(tmp)))
            except ImportError as exc:
                print(f"  {system}: skipped ({exc}; pip install '.[bench]')", file=sys.stderr)
    tables = []
    for label, qrels in judged:
        rows = []
        for result in results:
            asked = [q for q in collection.queries if q in qrels]
            rows.append({
                "system": result.system,
                **evaluate(result.run, qrels),
                "index_seconds": round(result.index_seconds, 2),
                "query_seconds": round(result.query_seconds, 2),
                "queries": len(asked),
                "queries_without_results": sum(1 for q in asked if not result.run.get(q)),
                "failed": result.failed,
            })
        tables.append((label, qrels, rows))
    return tables


def print_table(name: str, rows: list[dict]) -> None:
    print(f"\n{name}")
    header = f"{'system':10} {'nDCG@10':>8} {'R@100':>7} {'MAP':>7} {'MRR@10':>7} {'index s':>8} {'query s':>8} {'empty':>6}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['system']:10} {r['ndcg@10']:8.4f} {r['recall@100']:7.4f} {r['map']:7.4f} {r['mrr@10']:7.4f} "
            f"{r['index_seconds']:8.2f} {r['query_seconds']:8.2f} {r['queries_without_results']:6d}"
        )


def subsets(collection: Collection, split: bool) -> list[tuple[str, dict[str, dict[str, int]]]]:
    """The judgments to evaluate a run against: all of them, and with `split` the archive's
    halves (query ids A.. and B..) apart."""
    found = [(collection.name, collection.qrels)]
    if split and collection.name == "archive":
        for prefix, label in (("A", "archive A (first 67)"), ("B", "archive B (new)")):
            part = {q: j for q, j in collection.qrels.items() if q.startswith(prefix)}
            if part:
                found.append((label, part))
    return found


def print_summary(report: dict, systems: list[str]) -> None:
    """The mean nDCG@10 over the six training collections, and the engine against the best
    peer on each collection."""
    tables = report["collections"]
    training = [name for name in TRAINING if name in tables]
    if training:
        print(f"\nmean nDCG@10 over {', '.join(training)}:")
        for system in systems:
            values = [_row(tables[name], system) for name in training]
            if all(v is not None for v in values):
                print(f"  {system:10} {sum(v['ndcg@10'] for v in values) / len(values):.4f}")
    print("\nthe engine against the best peer (nDCG@10; MRR@10 for the archive):")
    for name, table in tables.items():
        engine = _row(table, "engine")
        peers = [r for r in table["systems"] if r["system"] != "engine"]
        if engine is None or not peers:
            continue
        measure = "mrr@10" if name.startswith("archive") else "ndcg@10"
        best = max(peers, key=lambda r: r[measure])
        delta = engine[measure] - best[measure]
        verdict = "ahead of" if delta > 0 else "level with" if delta == 0 else "behind"
        print(f"  {name:22} {engine[measure]:.4f}  {verdict} {best['system']} ({best[measure]:.4f}, {delta:+.4f})")


def _row(table: dict, system: str) -> dict | None:
    return next((r for r in table["systems"] if r["system"] == system), None)


def main(argv: list[str] | None = None) -> int:
    global RANKING, ARCHIVE_INDEX, KEEP_DUPLICATES
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--collections", default=",".join(COLLECTIONS), help="comma-separated: " + ", ".join(COLLECTIONS))
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated: " + ", ".join(SYSTEMS))
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="NAME=VALUE",
                        help="change one ranking setting (search.Ranking), e.g. --set title_bonus=0.4")
    parser.add_argument("--keep-duplicates", action="store_true",
                        help="rank every copy (search query --keep-duplicates), not each group of copies once")
    parser.add_argument("--split", action="store_true", help="the archive's first 67 queries and the new ones apart")
    parser.add_argument("--archive-index", type=Path, help="reuse this index of ../shared/archive instead of building one")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "relevance.json")
    args = parser.parse_args(argv)
    RANKING = Ranking().changed(args.settings)
    ARCHIVE_INDEX = args.archive_index
    KEEP_DUPLICATES = args.keep_duplicates
    systems = [s for s in args.systems.split(",") if s]
    changed = {k: v for k, v in RANKING.describe().items() if v != Ranking().describe()[k]}
    print("ranking: " + (", ".join(f"{k}={v}" for k, v in changed.items()) if changed else "the defaults")
          + "  (" + ", ".join(f"{k}={v}" for k, v in RANKING.describe().items() if k not in changed) + ")")
    report = {
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": " ".join(["python", "benchmarks/relevance.py", *(argv if argv is not None else sys.argv[1:])]),
        "ranking": RANKING.describe(),
        "collections": {},
    }
    for name in [c for c in args.collections.split(",") if c]:
        if name == "archive":
            if not (SHARED / "archive").is_dir():
                print(f"archive: skipped ({SHARED / 'archive'} is absent)", file=sys.stderr)
                continue
            collection = load_archive_queries()
        else:
            if not (SHARED / "relevance" / name).is_dir():
                print(f"{name}: skipped ({SHARED / 'relevance' / name} is absent)", file=sys.stderr)
                continue
            collection = load_beir(name)
        for label, judged, rows in measure(collection, systems, subsets(collection, args.split)):
            queries = sum(1 for q in judged if q in collection.queries)
            print_table(f"{label}: {len(collection.docs):,} documents, {queries} judged queries", rows)
            report["collections"][label] = {"documents": len(collection.docs), "queries": queries, "systems": rows}
    print_summary(report, systems)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
