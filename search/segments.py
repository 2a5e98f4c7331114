"""Writing documents into Whoosh segments: by worker processes for a rebuild, each writing
segments of its own, or into one writer for an update.

Each worker parses and analyzes its share of the files and writes them with `SegmentBuilder`,
which keeps each term's postings in memory, grouped by term, and writes Whoosh's own files with
its codec; the parent joins the segments into one index (`indexing`).
"""

from __future__ import annotations

import ctypes
import hashlib
import multiprocessing
import os
import signal
import threading
import time
import traceback
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from typing import Any

from whoosh import index as whoosh_index
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter

from . import storage
from .analysis import index_terms
from .archive import ArchiveFile, FileProblem, Unreadable, read_bytes
from .documents import parse_document
from .duplicates import body_digest
from .errors import IndexWriteError, SearchError
from .facets import declared
from .speakers import speaker_name, split_turns, word_spans
from .speakers import stored as stored_turns

Progress = Callable[[int, int], None]  # (files done, files in all)

# A rebuild worker starts a new segment after this much document text: it bounds the memory
# a rebuild holds, whatever the archive's size.
SEGMENT_TEXT_BYTES = 48 * 1024 * 1024


@dataclass
class PartResult:
    segments: list = field(default_factory=list)
    indexed: int = 0
    skipped: list[FileProblem] = field(default_factory=list)
    warnings: list[FileProblem] = field(default_factory=list)
    manifest: dict[str, list] = field(default_factory=dict)
    words: Counter = field(default_factory=Counter)  # word -> documents, for spelling


def split(files: list[ArchiveFile], parts: int) -> list[list[ArchiveFile]]:
    """Deal the files out so each part gets about the same number of bytes."""
    buckets: list[list[ArchiveFile]] = [[] for _ in range(parts)]
    sizes = [0] * parts
    for file in sorted(files, key=lambda f: f.size, reverse=True):
        i = sizes.index(min(sizes))
        buckets[i].append(file)
        sizes[i] += file.size
    for bucket in buckets:
        bucket.sort(key=lambda f: f.path)
    return buckets


def counter(progress: Progress, total: int) -> Callable[[int], None]:
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        progress(done, total)

    return advance


def run_workers(folder: str, parts: list[list[ArchiveFile]], progress: Progress | None, total: int) -> list[PartResult]:
    context: Any = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    queue = context.Queue()
    procs = [
        context.Process(target=_worker_main, args=(folder, number, part, queue, os.getpid()), daemon=True)
        for number, part in enumerate(parts)
    ]
    for proc in procs:
        proc.start()
    results: dict[int, PartResult] = {}  # by part: the segments' order, so the index's, never varies
    done = 0
    silent = False
    try:
        while len(results) < len(procs):
            try:
                kind, payload = queue.get(timeout=1.0)
            except Empty:  # check that no worker ended without a word
                ended = [p for n, p in enumerate(procs) if n not in results and p.exitcode is not None]
                if ended and silent:  # its last word would have arrived by now: there is none
                    raise IndexWriteError(Path(folder).parent, f"an indexing worker died (exit code {ended[0].exitcode})") from None
                silent = bool(ended)  # one more wait: it may have ended just after writing
                continue
            silent = False
            if kind == "progress":
                done += payload
                if progress:
                    progress(done, total)
            elif kind == "done":
                number, result = payload
                results[number] = result
            else:  # a worker's error: a SearchError, or the text of an unexpected one
                raise payload if isinstance(payload, SearchError) else IndexWriteError(Path(folder).parent, payload)
        for proc in procs:
            proc.join()
        return [results[number] for number in sorted(results)]
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
                proc.join()


def _worker_main(folder: str, number: int, files: list[ArchiveFile], queue, parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    _end_with(parent)
    try:
        result = index_part(folder, files, lambda n: queue.put(("progress", n)))
        queue.put(("done", (number, result)))
    except OSError as exc:
        queue.put(("error", IndexWriteError(Path(folder).parent, storage._reason(exc))))
    except BaseException as exc:  # a bug: the traceback to stderr, one line to the parent
        traceback.print_exc()
        queue.put(("error", f"an indexing worker failed ({exc.__class__.__name__}: {exc})"[:300]))


def _end_with(parent: int) -> None:
    """End this worker when the run that started it ends, even by kill -9: it would otherwise
    go on writing into a folder that the next run removes (and, with a full queue, never exit)."""
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # Linux's PR_SET_PDEATHSIG: the kernel sees to it
    except (OSError, AttributeError):  # elsewhere, a thread watches
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # it ended before this worker could ask
        os._exit(1)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(1)


def index_part(folder: str, files: list[ArchiveFile], advance: Callable[[int], None] | None) -> PartResult:
    """Index some files into new segments of the index in `folder`."""
    ix = whoosh_index.open_dir(folder)
    result = PartResult()
    writer = None
    segment_bytes = step = 0
    for file in files:
        if writer is None:
            writer = SegmentBuilder(ix)
            segment_bytes = 0
        add_file(writer, file, result, update=False)
        segment_bytes += file.size
        if segment_bytes >= SEGMENT_TEXT_BYTES:
            result.segments.append(writer.finish())
            writer = None
        step += 1
        if advance and step == 50:
            advance(step)
            step = 0
    if writer is not None and writer.docnum:
        result.segments.append(writer.finish())
    if advance and step:
        advance(step)
    return result


class SegmentBuilder(SegmentWriter):
    """Writes one new segment, with its postings held in memory and grouped by term.

    Whoosh's own writer sends every posting through a sorting pool that estimates its size,
    spills pickled runs to disk and reads them back, then looks each posting's document
    length up again in the column files while writing: together most of a rebuild's time.
    This writer keeps each term's postings in a list (documents arrive in order, so the lists
    are sorted) and remembers the lengths. The files are Whoosh's own, written by its codec;
    `finish()` returns the segment for the parent to put in the table of contents.
    """

    def __init__(self, ix):
        super().__init__(ix, _lk=False, compound=False)
        self._terms: dict[str, dict[bytes, list]] = {}

    def add_document(self, **fields):
        docnum = self.docnum
        perdoc = self.perdocwriter
        perdoc.start_doc(docnum)
        for fieldname in sorted(fields):
            value = fields[fieldname]
            if value is None:
                continue
            fieldobj = self.schema[fieldname]
            length = 0
            if fieldobj.indexed:
                items = list(fieldobj.index(value))
                if fieldobj.scorable:
                    length = sum(item[1] for item in items)
                stored_length = _stored_length(length)
                terms = self._terms.setdefault(fieldname, {})
                for tbytes, _, weight, vbytes in items:
                    posting = (docnum, weight, vbytes or b"", stored_length)
                    postings = terms.get(tbytes)
                    if postings is None:
                        terms[tbytes] = [posting]
                    else:
                        postings.append(posting)
            perdoc.add_field(fieldname, fieldobj, value if fieldobj.stored else None, length)
            if fieldobj.column_type:
                perdoc.add_column_value(fieldname, fieldobj.column_type, fieldobj.to_column_value(value))
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

    def finish(self):
        self.perdocwriter.close()
        writer = self.fieldwriter
        for fieldname in sorted(self._terms):
            writer.start_field(fieldname, self.schema[fieldname])
            terms = self._terms[fieldname]
            for tbytes in sorted(terms):
                writer.start_term(tbytes)
                for posting in terms[tbytes]:
                    writer.add(*posting)
                writer.finish_term()
            writer.finish_field()
        writer.close()
        self._terms = {}
        self.pool.cleanup()
        return self.get_segment()

    def commit(self, *args, **kwargs):
        raise NotImplementedError("a SegmentBuilder only writes new segments; see finish()")


def _stored_length(length: int) -> int:
    """A field length as Whoosh reads it back from its one-byte column."""
    code = length_to_byte(length)
    return byte_to_length(code) if code else 0


def add_file(writer, file: ArchiveFile, result: PartResult, update: bool) -> bool:
    """Read one file and add it to the writer; record a problem instead when it is unusable."""
    try:
        raw = read_bytes(file)
        digest = hashlib.blake2b(raw, digest_size=16).hexdigest()
        result.manifest[file.path] = [file.size, file.mtime_ns, digest, None]
        document = parse_document(file.path, raw, tuple(declared(writer.schema)))
    except Unreadable as exc:
        result.skipped.append(FileProblem(file.path, str(exc)))
        entry = result.manifest.setdefault(file.path, [file.size, file.mtime_ns, None, None])
        entry[3] = str(exc)
        return False
    turns = split_turns(document.body, document.title, document.date) if "turns" in writer.schema else []
    spans, owners = word_spans(turns, len(document.body)) if turns else (None, [])
    terms = index_terms(document.body, spans)
    positions = [bounds for bounds, owner in zip(terms.bounds, owners) if owner is not None]
    fields = dict(
        path=document.path,
        doc_id=document.doc_id,
        title=document.title,
        body=terms,
        tags=",".join(document.tags) or None,
        date=document.date,
        source_url=document.source_url,
        published_time=document.published_time,
        modified_time=document.modified_time,
        content=zlib.compress(document.body.encode("utf-8"), 6),
        collection=[file.collection] if file.collection else None,
        digest=body_digest(document.body),
        **{key: values or None for key, values in document.facets.items()},
        speaker=",".join(speaker_name(t.speaker) for t in turns) or None,
        turns=stored_turns(turns, positions) or None,
    )
    (writer.update_document if update else writer.add_document)(**fields)
    result.indexed += 1
    result.words.update(terms.words)
    result.warnings.extend(FileProblem(document.path, w) for w in document.warnings)
    return True
