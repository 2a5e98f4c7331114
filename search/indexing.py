"""Building the index from an archive: a full rebuild, or an incremental update.

Both write a new generation beside the current one and swap it in only when it is complete
(see `storage`), so a crash, Ctrl-C or a full disk leaves the previous index searchable.

A rebuild splits the files among worker processes; each parses, analyzes and writes one
Whoosh segment of its own, and the parent joins the segments into one index. An update copies
the current generation by hard links and applies only the changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index as whoosh_index

from . import lexicon, storage
from .analysis import index_terms
from .archive import ArchiveFile, FileProblem, Unreadable, list_archive, read_bytes
from .columns import read_groups
from .errors import ArchiveNotFound, IndexDamaged, IndexIncompatible, IndexNotFound, IndexWriteError, SearchError
from .facets import check_keys
from .ranking import Ranking
from .schema import make_schema
from .segments import PartResult, Progress, add_file, counter, index_part, run_workers, split
from .settings import archive_path, build_workers
from .sources import Source, check_name, identity, name_for, recorded

# Memory for the posting pool of Whoosh's own writer, used by --update.
WRITER_LIMIT_MB = 128
# Below this many files, worker processes cost more than they save.
MIN_FILES_PER_WORKER = 400
# A file whose mtime is this close to the last run's start may have changed again within the
# filesystem's timestamp resolution, so --update compares its content hash.
# (With timestamps finer than a second, as most filesystems keep them, a tenth of a second: the
# clock that stamps files ticks every few milliseconds.)
RACY_SECONDS = 2.0
RACY_SECONDS_FINE = 0.1


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
    collections: dict[str, str] = field(default_factory=dict)  # name -> archive folder
    facets: list[str] = field(default_factory=list)  # the declared facets (--facet)
    duplicate_groups: int = 0  # groups of copies (duplicates.py) in the index after the run
    duplicate_documents: int = 0  # documents in those groups


# --- Public API -----------------------------------------------------------------------------


def build_index(
    archive: Path | list[Source], index: Path, progress: Progress | None = None, workers: int | None = None,
    ranking: Ranking | None = None, speakers: bool = True, facets: tuple[str, ...] | list[str] = (),
) -> IndexReport:
    """Rebuild the index at `index` from every document under `archive`: a folder, or named
    collections (`sources.Source`), each document's path then starting with its collection's
    name. The ranking's index-time settings (the title boost) are built in, and recorded in the
    index's metadata. Without `speakers`, transcripts are not split into speakers' turns.
    `facets` are front-matter keys made value fields (`facets.py`)."""
    started = time.time()
    sources = _check_sources(archive)
    keys = check_keys(tuple(facets))
    with storage.locked(index):
        storage.remove_leftovers(index)
        return _rebuild(sources, index, progress, workers, started, note=None, ranking=ranking or Ranking(),
                        speakers=speakers, facets=keys)


def update_index(
    archive: Path | list[Source] | None, index: Path, progress: Progress | None = None,
    facets: tuple[str, ...] | list[str] | None = None,
) -> IndexReport:
    """Bring the index up to date with the archive: add new files, re-index changed ones,
    remove deleted ones; a collection added or left out is added or removed. Falls back to a
    rebuild (and says why) when there is no usable index, or when the document paths or the
    fields would change (one collection to several, other `facets`; None keeps the index's).
    `archive` None means the archives the index was built from (or ./seeds without an index).

    A file that changes into one that cannot be read is reported, and its old version is
    removed from the index: the index never shows text the archive no longer has.
    """
    started = time.time()
    if archive is None:
        archive = _recorded_sources(index) or archive_path()
    sources = _check_sources(archive)
    keys = check_keys(tuple(facets)) if facets is not None else None
    with storage.locked(index):
        storage.remove_leftovers(index)

        def rebuild(note: str, declared: tuple[str, ...] = keys or ()) -> IndexReport:
            return _rebuild(sources, index, progress, None, started, note=note, facets=declared)

        try:
            current = storage.current_generation(index)
            manifest = _load_manifest(current.path)
        except IndexNotFound:
            return rebuild("no index yet; did a full rebuild")
        except IndexIncompatible:
            return rebuild("the index was built by another version; did a full rebuild")
        except IndexDamaged as exc:
            return rebuild(f"{exc}; did a full rebuild")
        had = recorded(current.meta)
        had_facets = tuple(current.meta.get("facets") or ())
        if keys is not None and keys != had_facets:
            return rebuild(f"the declared facets changed ({', '.join(had_facets) or 'none'} -> {', '.join(keys) or 'none'}); did a full rebuild")
        now = {s.name: str(s.folder) for s in sources}
        if len(had) != 1 or len(now) != 1:
            if (len(had) > 1) != (len(now) > 1):
                return rebuild("the index goes from one collection to several or back, so every document's path changes; "
                               "did a full rebuild", had_facets)
        elif had != now:
            name, folder = next(iter(had.items()))
            return rebuild(f"the index was built from {folder} (as {name}); did a full rebuild", had_facets)
        return _update(sources, index, current, manifest, progress, started, had_facets)


# --- Rebuild --------------------------------------------------------------------------------


def _recorded_sources(index: Path) -> list[Source]:
    """The collections the current index was built from; none without a readable index."""
    try:
        meta = storage.current_generation(index).meta
    except SearchError:
        return []
    return [Source(name, Path(folder)) for name, folder in recorded(meta).items()]


def _check_sources(archive: Path | list[Source]) -> list[Source]:
    """The archives as named collections, each folder checked and resolved."""
    sources = [Source(name_for(archive), archive)] if isinstance(archive, (str, Path)) else list(archive)
    if not sources:
        raise SearchError("no archive to index")
    checked = []
    for source in sources:
        if not Path(source.folder).is_dir():
            raise ArchiveNotFound(Path(source.folder))
        checked.append(Source(check_name(source.name), Path(source.folder).resolve()))
    return checked


def _list_sources(sources: list[Source]) -> tuple[list[ArchiveFile], list[FileProblem]]:
    """Every document file of every collection, by path (each path its identity)."""
    files: list[ArchiveFile] = []
    problems: list[FileProblem] = []
    for source in sources:
        found, trouble = list_archive(source.folder, source.name, identity(len(sources), source.name, ""))
        files += found
        problems += trouble
    files.sort(key=lambda f: f.path)
    return files, problems


def _described(sources: list[Source]) -> str:
    if len(sources) == 1:
        return str(sources[0].folder)
    return ", ".join(f"{s.name}={s.folder}" for s in sources)


def _rebuild(
    sources: list[Source], index: Path, progress: Progress | None, workers: int | None, started: float, note: str | None,
    ranking: Ranking | None = None, speakers: bool = True, facets: tuple[str, ...] = (),
) -> IndexReport:
    ranking = ranking or Ranking()
    files, problems = _list_sources(sources)
    archive = _described(sources)
    if not files:
        raise SearchError(f"no documents in {archive} (looked for *.md, *.markdown and *.txt files)")
    workers = workers or build_workers()
    workers = max(1, min(workers, len(files) // MIN_FILES_PER_WORKER))
    partial = storage.new_partial(index)
    try:
        schema = make_schema(ranking.title_boost, speakers, facets)
        ix = whoosh_index.create_in(os.fspath(partial), schema)
        parts = split(files, workers)
        if workers == 1:
            results = [index_part(os.fspath(partial), parts[0], progress and counter(progress, len(files)))]
        else:
            results = run_workers(os.fspath(partial), parts, progress, len(files))
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
        words: Counter = Counter()
        for r in results:
            words.update(r.words)
        lexicon.write_words(partial / lexicon.WORDS, words)
        storage.publish(index, partial, _meta(sources, indexed, started, ranking.index_settings(), facets))
    except OSError as exc:  # a full disk, a read-only folder: the previous index stays
        shutil.rmtree(partial, ignore_errors=True)
        raise IndexWriteError(index, storage._reason(exc)) from None
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    storage.remove_leftovers(index)
    return _copies(index, IndexReport(
        archive=archive,
        index=str(index),
        mode="rebuild",
        documents=indexed,
        added=indexed,
        skipped=sorted(skipped, key=lambda p: p.path),
        warnings=sorted((w for r in results for w in r.warnings), key=lambda p: p.path),
        seconds=time.time() - started,
        note=note,
        collections={s.name: str(s.folder) for s in sources},
        facets=list(facets),
    ))


def _meta(sources: list[Source], documents: int, started: float, ranking: dict, facets: tuple[str, ...]) -> dict:
    return {
        "archive": str(sources[0].folder),  # the first collection's: what an older reader looks for
        "collections": {s.name: str(s.folder) for s in sources},
        "facets": list(facets),
        "documents": documents,
        "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "started": started,
        "ranking": ranking,  # the index-time settings of the ranking it was built with
    }


def _copies(index: Path, report: IndexReport) -> IndexReport:
    """The report, with the groups of copies the new index holds."""
    generation = storage.current_generation(index)
    with whoosh_index.open_dir(os.fspath(generation.path)).searcher() as searcher:
        groups = read_groups(searcher.reader())
    report.duplicate_groups = len(groups.members)
    report.duplicate_documents = sum(len(m) for m in groups.members.values())
    return report


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
    sources: list[Source], index: Path, current: storage.Generation, manifest: dict, progress: Progress | None, started: float,
    facets: tuple[str, ...],
) -> IndexReport:
    known: dict[str, list] = manifest.get("files", {})
    files, problems = _list_sources(sources)
    archive = _described(sources)
    fine = any(f.mtime_ns % 1_000_000_000 for f in files[:2000])  # coarse stamps (FAT, HFS+) are whole seconds
    racy_after = float(manifest.get("started", 0)) - (RACY_SECONDS_FINE if fine else RACY_SECONDS)
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
    collections = {s.name: str(s.folder) for s in sources}
    if not removed and not to_read and recorded(current.meta) == collections:
        return IndexReport(
            archive=archive, index=str(index), mode="up to date",
            documents=int(current.meta.get("documents", 0)), skipped=sorted(skipped, key=lambda p: p.path),
            seconds=time.time() - started, collections=collections, facets=list(facets),
        )

    partial = storage.new_partial(index)
    try:
        storage.link_copy(current.path, partial, skip={storage.META, storage.MANIFEST, lexicon.WORDS, "_MAIN_WRITELOCK"})
        ix = whoosh_index.open_dir(os.fspath(partial))
        writer = ix.writer(limitmb=WRITER_LIMIT_MB, compound=False)
        result = PartResult()
        added = updated = 0
        for path in removed:
            writer.delete_by_term("path", path)
        for n, file in enumerate(to_read, 1):
            was_known = file.path in known and known[file.path][3] is None
            if add_file(writer, file, result, update=was_known):
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
        words = lexicon.read_words(current.path / lexicon.WORDS)
        words.subtract(_words_of(current.path, removed + replaced))
        words.update(result.words)
        lexicon.write_words(partial / lexicon.WORDS, words)  # words counted 0 are left out
        settings = current.meta.get("ranking") or Ranking().index_settings()
        storage.publish(index, partial, _meta(sources, documents, started, settings, facets))
    except OSError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        raise IndexWriteError(index, storage._reason(exc)) from None
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    storage.remove_leftovers(index)
    return _copies(index, IndexReport(
        archive=archive,
        index=str(index),
        mode="update",
        documents=documents,
        added=added,
        updated=updated,
        removed=len(removed),
        skipped=sorted(skipped + result.skipped, key=lambda p: p.path),
        warnings=sorted(result.warnings, key=lambda p: p.path),
        seconds=time.time() - started,
        collections=collections,
        facets=list(facets),
    ))


def _digest(file: ArchiveFile) -> str | None:
    try:
        return hashlib.blake2b(read_bytes(file), digest_size=16).hexdigest()
    except Unreadable:
        return None

