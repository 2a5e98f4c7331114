"""Running many queries in one process and writing their hits as JSON lines, CSV or a TREC run.

Every query goes through `SearchIndex.search`, the path `search query` uses, so a batch ranks
exactly as the command does.
"""

from __future__ import annotations

import csv
import json
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from . import storage
from .errors import QueryError, SearchError
from .searching import Hit, open_index
from .serialize import to_dict

FORMATS = ("jsonl", "csv", "trec")
CSV_FIELDS = ["qid", "query", "rank", "path", "doc_id", "title", "date", "tags", "source_url", "score", "speaker", "snippet",
              "collection", "copies"]
RUN_TAG = "search"


@dataclass
class BatchReport:
    queries: int
    rows: int
    failed: int
    seconds: float


def read_queries(lines: Iterable[str | bytes]) -> Iterator[tuple[str, str | QueryError]]:
    """(id, text) pairs from `id<TAB>text` lines, or plain lines numbered from 1. A line of
    bytes that are not UTF-8 comes as (`on line N`, the QueryError saying so): `run_batch`
    reports it as a failed query, and the others still run."""
    number = 0
    for line_number, raw in enumerate(lines, 1):
        if isinstance(raw, bytes):
            try:
                line = raw.decode("utf-8-sig" if line_number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                number += 1
                yield f"on line {line_number}", QueryError(
                    f"not UTF-8 text (invalid byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); skipped")
                continue
        else:
            line = raw
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
    queries: Iterable[tuple[str, str | QueryError]],
    out: TextIO,
    *,
    limit: int = 10,
    format: str = "jsonl",
    on_error: Callable[[str, Exception], None] | None = None,
    keep_duplicates: bool = False,
) -> BatchReport:
    """Search every query and write its hits to `out`; a query that fails is reported and
    skipped, and the others still run. Copies of a document show once, as a search shows them
    (a row's `copies` lists the others), unless `keep_duplicates`."""
    if format not in FORMATS:
        raise QueryError(f"unknown format {format!r}; use one of: {', '.join(FORMATS)}")
    started = time.perf_counter()
    write = writer(format, out)
    count = rows = failed = 0
    with open_index(index) as ix:
        for qid, text in queries:
            count += 1
            if isinstance(text, QueryError):  # a line that could not be read
                failed += 1
                if on_error:
                    on_error(qid, text)
                continue
            try:
                results = ix.search(text, limit=limit, snippets=format != "trec", keep_duplicates=keep_duplicates)
            except SearchError as exc:
                failed += 1
                if on_error:
                    on_error(qid, exc)
                continue
            except Exception as exc:  # a bug must not cost the rest of the batch; damage stops it
                damage = storage.diagnose(index)
                if damage is not None:
                    raise damage from None
                failed += 1
                if on_error:
                    on_error(qid, RuntimeError(f"failed ({exc.__class__.__name__}: {exc})"[:300]))
                continue
            for hit in results.results:
                write(qid, text, hit)
                rows += 1
    out.flush()
    return BatchReport(count, rows, failed, round(time.perf_counter() - started, 3))


def writer(format: str, out: TextIO) -> Callable[[str, str, Hit], None]:
    if format == "trec":
        def write_trec(qid: str, text: str, hit: Hit) -> None:
            docid = hit.doc_id or hit.path
            out.write(f"{trec_word(qid)} Q0 {trec_word(docid)} {hit.rank} {hit.score:.4f} {RUN_TAG}\n")

        return write_trec
    if format == "csv":
        writer = csv.DictWriter(out, fieldnames=CSV_FIELDS)
        writer.writeheader()

        def write_csv(qid: str, text: str, hit: Hit) -> None:
            row = {"qid": qid, "query": text, **to_dict(hit)}
            row["tags"] = ";".join(hit.tags)
            row["snippet"] = hit.snippet.text
            row["copies"] = ";".join(hit.copies)
            writer.writerow({k: csv_cell(row.get(k)) for k in CSV_FIELDS})

        return write_csv

    def write_jsonl(qid: str, text: str, hit: Hit) -> None:
        out.write(json.dumps({"qid": qid, "query": text, **to_dict(hit)}, ensure_ascii=False, allow_nan=False) + "\n")

    return write_jsonl


_WHITESPACE = re.compile(r"\s+")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def trec_word(text: str) -> str:
    """One field of a TREC run line: any whitespace in it (a tab or a line break in a
    document's `id` would forge a field or a line) becomes an underscore."""
    return _WHITESPACE.sub("_", text) or "_"


def csv_cell(value: object) -> object:
    """A CSV cell that a spreadsheet shows as text: a value starting with =, +, -, @, a tab
    or a carriage return is a formula to Excel and LibreOffice, so it gets a leading
    apostrophe, as OWASP's guidance on CSV injection says."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
