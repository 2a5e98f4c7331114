"""Building the index from an archive: a full rebuild, or an incremental update.

Both write a new generation beside the current one and swap it in only when it is complete
(see `storage`), so a crash, Ctrl-C or a full disk leaves the previous index searchable.

A rebuild splits the files among worker processes; each parses, analyzes and writes one
Whoosh segment of its own, and the parent joins the segments into one index. An update copies
the current generation by hard links and applies only the changes.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import multiprocessing
import os
import shutil
import signal
import threading
import time
import traceback
import zlib
from collections import Counter
from queue import Empty
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from whoosh import index as whoosh_index
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter

from . import storage
from .analysis import index_terms
from .documents import ArchiveFile, FileProblem, Unreadable, list_archive, parse_document, read_bytes
from .errors import ArchiveNotFound, IndexDamaged, IndexIncompatible, IndexNotFound, IndexWriteError, SearchError
from .schema import make_schema
from .settings import build_workers

Progress = Callable[[int, int], None]  # (files done, files in all)

# A rebuild worker starts a new segment after this much document text: it bounds the memory
# a rebuild holds, whatever the archive's size.
SEGMENT_TEXT_BYTES = 48 * 1024 * 1024
# Memory for the posting pool of Whoosh's own writer, used by --update.
WRITER_LIMIT_MB = 128
# Below this many files, worker processes cost more than they save.
MIN_FILES_PER_WORKER = 400
# A file whose mtime is this close to the last run's start may have changed again within the
# filesystem's timestamp resolution, so --update compares its content hash.
RACY_SECONDS = 2.0


@dataclass
class IndexReport:
    """What an indexing run did."""

    archive: str
    index: str
    mode: str  # "rebuild", "update", or "up to date"
    documents: int  # documents in the index after the run
    added: int = 0
    updated: int = 0
    removed: int = 0
    skipped: list[FileProblem] = field(default_factory=list)
    warnings: list[FileProblem] = field(default_factory=list)
    seconds: float = 0.0
    note: str | None = None  # why an update became a rebuild, for example


@dataclass
class _PartResult:
    segments: list = field(default_factory=list)
    indexed: int = 0
    skipped: list[FileProblem] = field(default_factory=list)
    warnings: list[FileProblem] = field(default_factory=list)
    manifest: dict[str, list] = field(default_factory=dict)
    words: Counter = field(default_factory=Counter)  # word -> documents, for spelling


# --- Public API -----------------------------------------------------------------------------


def build_index(
    archive: Path, index: Path, progress: Progress | None = None, workers: int | None = None
) -> IndexReport:
    """Rebuild the index at `index` from every document under `archive`."""
    started = time.time()
    archive = _check_archive(archive)
    with storage.locked(index):
        storage.remove_leftovers(index)
        return _rebuild(archive, index, progress, workers, started, note=None)


def update_index(archive: Path, index: Path, progress: Progress | None = None) -> IndexReport:
    """Bring the index up to date with the archive: add new files, re-index changed ones,
    remove deleted ones. Falls back to a rebuild (and says why) when there is no usable index.

    A file that changes into one that cannot be read is reported, and its old version is
    removed from the index: the index never shows text the archive no longer has.
    """
    started = time.time()
    archive = _check_archive(archive)
    with storage.locked(index):
        storage.remove_leftovers(index)
        try:
            current = storage.current_generation(index)
            manifest = _load_manifest(current.path)
        except IndexNotFound:
            return _rebuild(archive, index, progress, None, started, note="no index yet; did a full rebuild")
        except IndexIncompatible:
            note = "the index was built by another version; did a full rebuild"
            return _rebuild(archive, index, progress, None, started, note=note)
        except IndexDamaged as exc:
            return _rebuild(archive, index, progress, None, started, note=f"{exc}; did a full rebuild")
        if current.meta.get("archive") != str(archive):
            note = f"the index was built from {current.meta.get('archive')}; did a full rebuild"
            return _rebuild(archive, index, progress, None, started, note=note)
        return _update(archive, index, current, manifest, progress, started)


# --- Rebuild --------------------------------------------------------------------------------


def _check_archive(archive: Path) -> Path:
    if not archive.is_dir():
        raise ArchiveNotFound(archive)
    return archive.resolve()


def _rebuild(
    archive: Path, index: Path, progress: Progress | None, workers: int | None, started: float, note: str | None
) -> IndexReport:
    files, problems = list_archive(archive)
    if not files:
        raise SearchError(f"no documents in {archive} (looked for *.md, *.markdown and *.txt files)")
    workers = workers or build_workers()
    workers = max(1, min(workers, len(files) // MIN_FILES_PER_WORKER))
    partial = storage.new_partial(index)
    try:
        schema = make_schema()
        ix = whoosh_index.create_in(os.fspath(partial), schema)
        parts = _split(files, workers)
        if workers == 1:
            results = [_index_part(os.fspath(partial), parts[0], progress and _counter(progress, len(files)))]
        else:
            results = _run_workers(os.fspath(partial), parts, progress, len(files))
        indexed = sum(r.indexed for r in results)
        skipped = problems + [p for r in results for p in r.skipped]
        if not indexed:
            raise SearchError(
                f"none of the {len(files)} files in {archive} could be indexed; the previous index is unchanged"
            )
        shutil.rmtree(partial / f"{ix.indexname}.tmp", ignore_errors=True)
        segments = [segment for r in results for segment in r.segments]
        whoosh_index.TOC(schema, segments, ix.latest_generation() + 1).write(ix.storage, ix.indexname)
        manifest = {path: entry for r in results for path, entry in r.manifest.items()}
        _save_manifest(partial, manifest, started)
        words = Counter()
        for r in results:
            words.update(r.words)
        _save_words(partial, words)
        storage.publish(index, partial, _meta(archive, indexed, started))
    except OSError as exc:  # a full disk, a read-only folder: the previous index stays
        shutil.rmtree(partial, ignore_errors=True)
        raise IndexWriteError(index, storage._reason(exc)) from None
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    storage.remove_leftovers(index)
    return IndexReport(
        archive=str(archive),
        index=str(index),
        mode="rebuild",
        documents=indexed,
        added=indexed,
        skipped=sorted(skipped, key=lambda p: p.path),
        warnings=sorted((w for r in results for w in r.warnings), key=lambda p: p.path),
        seconds=time.time() - started,
        note=note,
    )


def _split(files: list[ArchiveFile], parts: int) -> list[list[ArchiveFile]]:
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


def _counter(progress: Progress, total: int) -> Callable[[int], None]:
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        progress(done, total)

    return advance


def _run_workers(folder: str, parts: list[list[ArchiveFile]], progress: Progress | None, total: int) -> list[_PartResult]:
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    queue = context.Queue()
    procs = [
        context.Process(target=_worker_main, args=(folder, number, part, queue, os.getpid()), daemon=True)
        for number, part in enumerate(parts)
    ]
    for proc in procs:
        proc.start()
    results: dict[int, _PartResult] = {}  # by part: the segments' order, so the index's, never varies
    done = 0
    silent = False
    try:
        while len(results) < len(procs):
            try:
                kind, payload = queue.get(timeout=1.0)
            except Empty:  # check that no worker ended without a word
                ended = [p for n, p in enumerate(procs) if n not in results and p.exitcode is not None]
                if ended and silent:  # its last word would have arrived by now: there is none
                    raise IndexWriteError(Path(folder).parent, f"an indexing worker died (exit code {ended[0].exitcode})")
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
        result = _index_part(folder, files, lambda n: queue.put(("progress", n)))
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


def _index_part(folder: str, files: list[ArchiveFile], advance: Callable[[int], None] | None) -> _PartResult:
    """Index some files into new segments of the index in `folder`."""
    ix = whoosh_index.open_dir(folder)
    result = _PartResult()
    writer = None
    segment_bytes = step = 0
    for file in files:
        if writer is None:
            writer = _SegmentBuilder(ix)
            segment_bytes = 0
        _add_file(writer, file, result, update=False)
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


class _SegmentBuilder(SegmentWriter):
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
        raise NotImplementedError("a _SegmentBuilder only writes new segments; see finish()")


def _stored_length(length: int) -> int:
    """A field length as Whoosh reads it back from its one-byte column."""
    code = length_to_byte(length)
    return byte_to_length(code) if code else 0


def _add_file(writer, file: ArchiveFile, result: _PartResult, update: bool) -> bool:
    """Read one file and add it to the writer; record a problem instead when it is unusable."""
    try:
        raw = read_bytes(file)
        digest = hashlib.blake2b(raw, digest_size=16).hexdigest()
        result.manifest[file.path] = [file.size, file.mtime_ns, digest, None]
        document = parse_document(file.path, raw)
    except Unreadable as exc:
        result.skipped.append(FileProblem(file.path, str(exc)))
        entry = result.manifest.setdefault(file.path, [file.size, file.mtime_ns, None, None])
        entry[3] = str(exc)
        return False
    terms = index_terms(document.body)
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
    )
    (writer.update_document if update else writer.add_document)(**fields)
    result.indexed += 1
    result.words.update(terms.words)
    result.warnings.extend(FileProblem(document.path, w) for w in document.warnings)
    return True


def _meta(archive: Path, documents: int, started: float) -> dict:
    return {
        "archive": str(archive),
        "documents": documents,
        "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "started": started,
    }


# --- Update ---------------------------------------------------------------------------------


def _load_manifest(generation: Path) -> dict:
    try:
        with open(generation / storage.MANIFEST, encoding="utf-8") as handle:
            data = json.load(handle)
        return data
    except (OSError, ValueError) as exc:
        raise IndexDamaged(generation.parent, f"its file list is unreadable: {exc}") from None


def _save_manifest(folder: Path, files: dict[str, list], started: float) -> None:
    storage.write_json(folder / storage.MANIFEST, {"started": started, "files": files})


def _save_words(folder: Path, words: Counter) -> None:
    """The archive's words with their document counts, sorted: the "did you mean" lexicon."""
    with open(folder / storage.WORDS, "w", encoding="utf-8") as handle:
        handle.writelines(f"{word}\t{count}\n" for word, count in sorted(words.items()))


def _load_words(folder: Path) -> Counter:
    words: Counter = Counter()
    try:
        with open(folder / storage.WORDS, encoding="utf-8") as handle:
            for line in handle:
                word, _, count = line.rstrip("\n").partition("\t")
                words[word] = int(count or 0)
    except (OSError, ValueError):
        pass
    return words


def _words_of(generation: Path, paths: list[str]) -> Counter:
    """The spelling words of some indexed documents, from their stored text (the same
    `index_terms` that counted them when they were added)."""
    words: Counter = Counter()
    if not paths:
        return words
    with whoosh_index.open_dir(os.fspath(generation)).searcher() as searcher:
        for path in dict.fromkeys(paths):
            docnum = searcher.document_number(path=path)
            if docnum is not None:
                content = searcher.stored_fields(docnum).get("content")
                if content:
                    words.update(index_terms(zlib.decompress(content).decode("utf-8")).words)
    return words


def _update(
    archive: Path, index: Path, current: storage.Generation, manifest: dict, progress: Progress | None, started: float
) -> IndexReport:
    known: dict[str, list] = manifest.get("files", {})
    racy_after = float(manifest.get("started", 0)) - RACY_SECONDS
    files, problems = list_archive(archive)
    present = {f.path for f in files}
    removed = [path for path in known if path not in present]
    to_read: list[ArchiveFile] = []
    unchanged: dict[str, list] = {}
    for file in files:
        entry = known.get(file.path)
        if entry is None:
            to_read.append(file)
        elif entry[0] == file.size and entry[1] == file.mtime_ns and file.mtime_ns / 1e9 < racy_after:
            unchanged[file.path] = entry
        elif entry[0] == file.size and entry[2] and _digest(file) == entry[2]:
            unchanged[file.path] = [file.size, file.mtime_ns, entry[2], entry[3]]
        else:
            to_read.append(file)
    # Skipped files that did not change are still skipped: report them again.
    skipped = problems + [FileProblem(p, e[3]) for p, e in unchanged.items() if e[3]]
    if not removed and not to_read:
        return IndexReport(
            archive=str(archive), index=str(index), mode="up to date",
            documents=int(current.meta.get("documents", 0)), skipped=sorted(skipped, key=lambda p: p.path),
            seconds=time.time() - started,
        )

    partial = storage.new_partial(index)
    try:
        storage.link_copy(current.path, partial, skip={storage.META, storage.MANIFEST, storage.WORDS, "_MAIN_WRITELOCK"})
        ix = whoosh_index.open_dir(os.fspath(partial))
        writer = ix.writer(limitmb=WRITER_LIMIT_MB, compound=False)
        result = _PartResult()
        added = updated = 0
        for path in removed:
            writer.delete_by_term("path", path)
        for n, file in enumerate(to_read, 1):
            was_known = file.path in known and known[file.path][3] is None
            if _add_file(writer, file, result, update=was_known):
                added += not was_known
                updated += was_known
            elif was_known:
                writer.delete_by_term("path", file.path)
                removed.append(file.path)
            if progress:
                progress(n, len(to_read))
        writer.commit()
        with ix.searcher() as searcher:
            documents = searcher.doc_count()
        _save_manifest(partial, {**unchanged, **result.manifest}, started)
        # The spelling words stay true to the index: those of the removed documents, and of the
        # old versions of changed ones, are taken out ("did you mean" offered deleted words).
        replaced = [f.path for f in to_read if f.path in known and known[f.path][3] is None]
        old_words = _load_words(current.path) - _words_of(current.path, removed + replaced)
        _save_words(partial, old_words + result.words)
        storage.publish(index, partial, _meta(archive, documents, started))
    except OSError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        raise IndexWriteError(index, storage._reason(exc)) from None
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    storage.remove_leftovers(index)
    return IndexReport(
        archive=str(archive),
        index=str(index),
        mode="update",
        documents=documents,
        added=added,
        updated=updated,
        removed=len(removed),
        skipped=sorted(skipped + result.skipped, key=lambda p: p.path),
        warnings=sorted(result.warnings, key=lambda p: p.path),
        seconds=time.time() - started,
    )


def _digest(file: ArchiveFile) -> str | None:
    try:
        return hashlib.blake2b(read_bytes(file), digest_size=16).hexdigest()
    except Unreadable:
        return None

