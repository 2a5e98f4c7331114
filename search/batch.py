"""Running many queries in one process and writing their hits as JSON lines, CSV or a TREC run.

Every query goes through `SearchIndex.search`, the path `search query` uses, so a batch ranks
exactly as the command does.
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, TextIO

from .errors import QueryError
from .searching import Hit, open_index
from .serialize import to_dict

FORMATS = ("jsonl", "csv", "trec")
CSV_FIELDS = ["qid", "query", "rank", "path", "doc_id", "title", "date", "tags", "source_url", "score", "snippet"]
RUN_TAG = "search"


@dataclass
class BatchReport:
    queries: int
    rows: int
    failed: int
    seconds: float


def read_queries(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """(id, text) pairs from `id<TAB>text` lines, or plain lines numbered from 1."""
    number = 0
    for line in lines:
        line = line.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        number += 1
        if "\t" in line:
            qid, text = line.split("\t", 1)
            yield qid.strip(), text
        else:
            yield str(number), line


def run_batch(
    index: Path,
    queries: Iterable[tuple[str, str]],
    out: TextIO,
    *,
    limit: int = 10,
    format: str = "jsonl",
    on_error: Callable[[str, Exception], None] | None = None,
) -> BatchReport:
    """Search every query and write its hits to `out`; a query that fails is reported and
    skipped, and the others still run."""
    if format not in FORMATS:
        raise QueryError(f"unknown format {format!r}; use one of: {', '.join(FORMATS)}")
    started = time.perf_counter()
    write = _writer(format, out)
    count = rows = failed = 0
    with open_index(index) as ix:
        for qid, text in queries:
            count += 1
            try:
                results = ix.search(text, limit=limit, snippets=format != "trec")
            except QueryError as exc:
                failed += 1
                if on_error:
                    on_error(qid, exc)
                continue
            for hit in results.results:
                write(qid, text, hit)
                rows += 1
    out.flush()
    return BatchReport(count, rows, failed, round(time.perf_counter() - started, 3))


def _writer(format: str, out: TextIO) -> Callable[[str, str, Hit], None]:
    if format == "trec":
        def write_trec(qid: str, text: str, hit: Hit) -> None:
            docid = hit.doc_id or hit.path
            out.write(f"{qid} Q0 {docid.replace(' ', '_')} {hit.rank} {hit.score:.4f} {RUN_TAG}\n")

        return write_trec
    if format == "csv":
        writer = csv.DictWriter(out, fieldnames=CSV_FIELDS)
        writer.writeheader()

        def write_csv(qid: str, text: str, hit: Hit) -> None:
            row = {"qid": qid, "query": text, **to_dict(hit)}
            row["tags"] = ";".join(hit.tags)
            row["snippet"] = hit.snippet.text
            writer.writerow({k: row.get(k) for k in CSV_FIELDS})

        return write_csv

    def write_jsonl(qid: str, text: str, hit: Hit) -> None:
        out.write(json.dumps({"qid": qid, "query": text, **to_dict(hit)}, ensure_ascii=False) + "\n")

    return write_jsonl
