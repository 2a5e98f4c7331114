"""Where an index lives on disk, and how a new one replaces the old without a gap.

An index folder holds generations, each a complete Whoosh index in its own folder, and a
`CURRENT` file naming the one to read:

    index/
      CURRENT            "gen-000007"
      gen-000007/        the index readers open
      gen-000006/        the one before, kept for readers that still have it open
      gen-000008.partial/  a build in progress (or left by a crash, removed by the next run)
      LOCK               held by the indexing run, with its pid

A build writes a new `*.partial` folder, renames it when it is complete, then replaces
`CURRENT` in one atomic rename. A crash at any point leaves `CURRENT` naming a complete index.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .errors import IndexBusy, IndexDamaged, IndexIncompatible, IndexNotFound, IndexWriteError
from .schema import INDEX_FORMAT

CURRENT = "CURRENT"
LOCK = "LOCK"
META = "meta.json"
MANIFEST = "manifest.json"
WORDS = "words.tsv"
_GENERATION = re.compile(r"gen-(\d{6,})")
_PARTIAL = re.compile(r"gen-\d{6,}\.partial")


@dataclass
class Generation:
    """One complete index generation and what its builder recorded about it."""

    path: Path
    meta: dict


def current_generation(root: Path) -> Generation:
    """The generation readers should open; raises a one-line error when there is none usable."""
    try:
        name = (root / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise IndexNotFound(root) from None
    except NotADirectoryError:
        raise IndexNotFound(root) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexDamaged(root, f"cannot read {CURRENT}: {exc}") from None
    if not _GENERATION.fullmatch(name):
        raise IndexDamaged(root, f"{CURRENT} names {name[:40]!r}, which is not an index generation")
    path = root / name
    try:
        meta = json.loads((path / META).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexDamaged(root, f"{name}/{META} is missing") from None
    except (OSError, ValueError) as exc:
        raise IndexDamaged(root, f"{name}/{META} is unreadable: {exc}") from None
    if not isinstance(meta, dict):
        raise IndexDamaged(root, f"{name}/{META} is not an object")
    if meta.get("format") != INDEX_FORMAT:
        raise IndexIncompatible(root, meta.get("format"), INDEX_FORMAT)
    return Generation(path, meta)


def current_name(root: Path) -> str | None:
    """The name in CURRENT, cheaply, for readers checking whether a rebuild swapped in."""
    try:
        return (root / CURRENT).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None


@contextmanager
def locked(root: Path) -> Iterator[None]:
    """Hold the index's write lock; raise IndexBusy at once if another run holds it.

    The lock is an flock on `LOCK`: the kernel releases it when its process dies, even by
    kill -9, so a stale lock clears itself and the pid left in the file is only informative.
    """
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd = os.open(root / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise IndexWriteError(root, _reason(exc)) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexBusy(root, _lock_pid(fd)) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the flock


def _lock_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode().strip()
        return int(text) if text else None
    except (OSError, ValueError):
        return None


def remove_leftovers(root: Path) -> None:
    """Remove partial builds and generations older than the previous one. Call under the lock."""
    keep = current_name(root)
    generations = sorted(
        (entry.name for entry in _entries(root) if _GENERATION.fullmatch(entry.name)),
        key=lambda name: int(name[4:]),
    )
    if keep in generations:
        # Keep the current generation and the one before it, which a reader may still have open.
        i = generations.index(keep)
        stale = generations[: max(0, i - 1)] + generations[i + 1 :]
    else:
        stale = generations[:-1]
    for entry in _entries(root):
        if _PARTIAL.fullmatch(entry.name) or entry.name in stale:
            shutil.rmtree(entry.path, ignore_errors=True)


def new_partial(root: Path) -> Path:
    """A fresh folder for the next generation's build."""
    numbers = [int(m[1]) for e in _entries(root) if (m := re.match(r"gen-(\d{6,})", e.name))]
    path = root / f"gen-{max(numbers, default=0) + 1:06d}.partial"
    try:
        path.mkdir()
    except OSError as exc:
        raise IndexWriteError(root, _reason(exc)) from None
    return path


def publish(root: Path, partial: Path, meta: dict) -> Path:
    """Make a finished build the current generation, atomically."""
    final = partial.with_name(partial.name.removesuffix(".partial"))
    try:
        write_json(partial / META, {**meta, "format": INDEX_FORMAT})
        _fsync_dir(partial)
        os.rename(partial, final)
        tmp = root / f"{CURRENT}.tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(final.name + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, root / CURRENT)
        _fsync_dir(root)
    except OSError as exc:
        raise IndexWriteError(root, _reason(exc)) from None
    return final


def write_json(path: Path, data: object) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, separators=(",", ":"))
        handle.flush()
        os.fsync(handle.fileno())


def link_copy(source: Path, target: Path, skip: set[str]) -> None:
    """Copy a generation's files by hard links: Whoosh never rewrites a segment file in place."""
    for entry in os.scandir(source):
        if entry.name in skip or not entry.is_file():
            continue
        try:
            os.link(entry.path, target / entry.name)
        except OSError:
            shutil.copy2(entry.path, target / entry.name)


def _entries(root: Path) -> list[os.DirEntry]:
    try:
        with os.scandir(root) as it:
            return list(it)
    except OSError:
        return []


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on the device"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied (read-only folder?)"
    return exc.strerror or str(exc)
