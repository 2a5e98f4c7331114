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

`meta.json` lists every file a reader uses, with its size and a digest: opening an index
checks the sizes (a truncated or missing file is `IndexDamaged` at once), and `diagnose`
checks the digests after an unexpected failure, to tell damage from a bug.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import stat
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from .errors import IndexBusy, IndexDamaged, IndexIncompatible, IndexNotFound, IndexWriteError, SearchError
from .schema import INDEX_FORMAT

T = TypeVar("T")
CURRENT = "CURRENT"
LOCK = "LOCK"
META = "meta.json"
MANIFEST = "manifest.json"
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
    problem = _check_files(path, meta.get("files"), deep=False)
    if problem:
        raise IndexDamaged(root, f"{name}/{problem}")
    return Generation(path, meta)


def diagnose(root: Path) -> SearchError | None:
    """Why the index cannot be read, after an unexpected failure while reading it: the error
    when a file is not as it was written (or there is no usable index); None when every file
    is intact, so the failure is not the index's fault. Reads every file: call it only then."""
    try:
        generation = current_generation(root)
    except SearchError as exc:
        return exc
    problem = _check_files(generation.path, generation.meta.get("files"), deep=True)
    return IndexDamaged(root, f"{generation.path.name}/{problem}") if problem else None


def _check_files(folder: Path, files: object, deep: bool) -> str | None:
    """What is wrong with a generation's files, by the list in its meta.json; None if nothing.
    An index written before the list existed has none and is not checked."""
    if files is None:
        return None
    try:
        expected = [(str(name), int(size), str(digest)) for name, (size, digest) in files.items()]  # type: ignore[attr-defined]
    except (AttributeError, TypeError, ValueError):
        return f"{META} has an unreadable file list"
    for name, size, digest in sorted(expected):
        try:
            actual = os.stat(folder / name).st_size
        except FileNotFoundError:
            return f"{name} is missing"
        except OSError as exc:
            return f"{name} cannot be read: {_reason(exc)}"
        if actual != size:
            return f"{name} is {actual:,} bytes, not {size:,}"
        if deep and _digest(folder / name) != digest:
            return f"{name} has changed since it was written"
    return None


def _file_list(folder: Path, previous: Path | None) -> dict[str, list]:
    """Each file a reader uses, with its size and digest. A file hard-linked from the previous
    generation (by --update) keeps the digest it had there: Whoosh never rewrites a file."""
    known = _read_meta(previous).get("files") if previous else None
    known = known if isinstance(known, dict) else {}
    files = {}
    for entry in os.scandir(folder):
        if not entry.is_file() or entry.name in (META, MANIFEST) or entry.name.endswith("LOCK"):
            continue
        st = entry.stat()
        try:
            linked = previous is not None and entry.name in known and os.path.samestat(st, os.stat(previous / entry.name))
        except OSError:
            linked = False
        files[entry.name] = known[entry.name] if linked else [st.st_size, _digest(Path(entry.path))]
    return files


def _digest(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return ""
    return digest.hexdigest()


def current_name(root: Path) -> str | None:
    """The name in CURRENT, cheaply, for readers checking whether a rebuild swapped in."""
    try:
        return (root / CURRENT).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None


# The lock files this process holds open. An flock belongs to the open file, which a forked
# child shares: a child closes its copies at once (`_forget_locks`), so that an indexing
# worker that outlives its parent (by kill -9, say) cannot keep the lock.
_held_locks: set[int] = set()


def _forget_locks() -> None:
    for fd in _held_locks:
        try:
            os.close(fd)
        except OSError:
            pass
    _held_locks.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_locks)


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
        _held_locks.add(fd)
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError as exc:
            raise IndexWriteError(root, _reason(exc)) from None
        try:
            yield
        finally:
            try:
                os.ftruncate(fd, 0)
            except OSError:
                pass
    finally:
        _held_locks.discard(fd)
        os.close(fd)  # releases the flock


def _lock_pid(fd: int) -> int | None:
    """The pid of the run holding the lock. The holder writes it just after taking the lock,
    so a run that lost the race by microseconds may find the file still empty (or naming the
    killed run before): it looks again, for up to half a second, until it names a live process."""
    for _ in range(25):
        try:
            text = os.pread(fd, 32, 0).decode().strip()
            pid = int(text) if text else None
        except (OSError, ValueError):
            pid = None
        if pid is not None and _alive(pid):
            return pid
        time.sleep(0.02)
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, as another user's
        return True
    return True


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
    previous = current_name(root)
    previous_path = root / previous if previous and _GENERATION.fullmatch(previous) else None
    try:
        files = _file_list(partial, previous_path)
        write_json(partial / META, {**meta, "format": INDEX_FORMAT, "files": files})
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
        if current_name(root) != final.name:  # not swapped in: nothing may keep its space
            shutil.rmtree(final, ignore_errors=True)
        raise IndexWriteError(root, _reason(exc)) from None
    return final


def _read_meta(generation: Path) -> dict:
    try:
        meta = json.loads((generation / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def write_json(path: Path, data: object) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        # dumps, not dump: json.dump streams through the pure-Python encoder (a manifest of
        # 12,000 files took a tenth of a second).
        handle.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
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


class PerGeneration(Generic[T]):
    """What a process keeps of a generation (its columns, its groups of copies, its word list),
    shared by its threads: made once, under a lock, and known by the identity of the file or
    folder it came from, not only its path (a deleted and rebuilt index reuses the names). The
    two most recent are kept: the current generation and the one a reader may still have open."""

    def __init__(self) -> None:
        self._kept: dict[tuple, T] = {}
        self._lock = threading.Lock()

    def get(self, path: Path, make: Callable[[], T]) -> T:
        st = os.stat(path)
        key = (os.path.abspath(path), st.st_dev, st.st_ino, st.st_mtime_ns if not stat.S_ISDIR(st.st_mode) else 0, st.st_size)
        with self._lock:
            found = self._kept.get(key)
            if found is None:
                found = self._kept[key] = make()
                while len(self._kept) > 2:
                    del self._kept[next(iter(self._kept))]
            return found
