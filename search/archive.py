"""Finding an archive's document files, and reading their bytes without trusting them.

A folder is walked without recursion; symbolic links are followed only where they lead inside
the archive; a file is opened without blocking and checked once open, so that only a regular
file inside the archive is ever read. A file that cannot be used raises `Unreadable` with the
reason the indexer reports.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from .settings import DOCUMENT_SUFFIXES, MAX_DOCUMENT_BYTES


@dataclass
class FileProblem:
    """A file that was skipped, or indexed with a warning, and why."""

    path: str
    reason: str


@dataclass
class ArchiveFile:
    """A document file found in the archive, with what `--update` compares."""

    path: str  # relative, forward slashes
    abspath: str
    size: int
    mtime_ns: int
    root: str | None = None  # the archive's real path: what the file must still be inside when read
    collection: str | None = None  # the name of the archive it comes from (sources.py)


class Unreadable(Exception):
    """The file cannot be used at all; the message is the reason."""


# --- Finding files ---------------------------------------------------------------------


def list_archive(root: Path, collection: str | None = None, prefix: str = "") -> tuple[list[ArchiveFile], list[FileProblem]]:
    """Every document file under `root`, sorted by path, and the folders that could not be read;
    each path starts with `prefix` (a collection's name and a slash, in an index of several).

    Symbolic links are followed only where they lead to a place inside the archive: a link to
    a file or folder elsewhere (`/etc/passwd`, `/`) is reported and skipped, so nothing outside
    the archive is ever indexed or served. A folder is entered once only, so a link loop ends
    the walk of that branch (and is reported) instead of hanging it.
    """
    files: list[ArchiveFile] = []
    problems: list[FileProblem] = []
    seen_dirs: set[tuple[int, int]] = set()
    real_root = os.path.realpath(root)
    # Folders still to visit, depth first; a stack rather than recursion, so that no depth of
    # folders can exhaust Python's recursion limit.
    folders: list[tuple[str, str]] = [(os.fspath(root), "")]
    while folders:
        folder, rel = folders.pop()
        try:
            st = os.stat(folder)
        except OSError as exc:
            problems.append(FileProblem(_shown(rel or "."), f"cannot read folder: {_os_reason(exc)}"))
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen_dirs:
            problems.append(FileProblem(_shown(rel), "folder already visited through a symbolic link (a link loop?); skipped"))
            continue
        seen_dirs.add(key)
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            problems.append(FileProblem(_shown(rel or "."), f"cannot list folder: {_os_reason(exc)}"))
            continue
        subfolders = []
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue  # hidden files and folders, including the index if it lives inside
            child_rel = f"{rel}/{name}" if rel else name
            try:
                is_link = entry.is_symlink()
                is_dir = entry.is_dir(follow_symlinks=True)
            except OSError:
                is_link, is_dir = False, False
            if is_link and (is_dir or name.lower().endswith(DOCUMENT_SUFFIXES)):
                outside = _outside(entry.path, real_root)
                if outside:
                    problems.append(FileProblem(_shown(child_rel), outside))
                    continue
            if is_dir:
                subfolders.append((entry.path, child_rel))
                continue
            if not name.lower().endswith(DOCUMENT_SUFFIXES):
                continue
            problem = path_problem(child_rel)
            if problem:
                problems.append(FileProblem(_shown(child_rel), problem))
                continue
            try:
                st = entry.stat(follow_symlinks=True)
            except OSError as exc:
                problems.append(FileProblem(child_rel, f"cannot read file: {_os_reason(exc)}"))
                continue
            if not stat.S_ISREG(st.st_mode):
                problems.append(FileProblem(child_rel, "not a regular file"))
                continue
            files.append(ArchiveFile(child_rel, entry.path, st.st_size, st.st_mtime_ns, real_root, collection))
        folders.extend(reversed(subfolders))  # the first in name order is visited next
    if prefix:
        for file in files:
            file.path = prefix + file.path
        for trouble in problems:
            trouble.path = prefix + trouble.path
    files.sort(key=lambda f: f.path)
    return files, problems


def _outside(path: str, real_root: str) -> str | None:
    """Why a symbolic link may not be followed: it leads outside the archive; None if it
    stays inside (a loop inside the archive is reported later, when it is read)."""
    target = os.path.realpath(path)
    if _inside(target, real_root):
        return None
    return f"a symbolic link to {_shown(target)}, outside the archive; skipped"


def _inside(path: str, real_root: str) -> bool:
    return path == real_root or path.startswith(real_root.rstrip(os.sep) + os.sep)


_PATH_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # C0 and C1 control characters


# A path of plain parts (none empty, ".", "..", nor a drive letter) needs no other check.
_PLAIN_PATH = re.compile(r"(?![A-Za-z]:)(?:(?!\.\.?/)(?!\.\.?$)[\w\-.]+/)*(?!\.\.?$)[\w\-.]+", re.ASCII)


def path_problem(path: str) -> str | None:
    """Why `path` cannot be a document's identity, or None when it can.

    The identity is text relative to the archive, with forward slashes, and the search page
    serves the document at /doc/PATH; it refuses any path that could name something outside
    the archive. So the indexer skips, with this reason, a file whose path the page would
    refuse: it would be found but could not be opened.
    """
    if _PLAIN_PATH.fullmatch(path):  # the usual case, in one test: letters, digits, - _ . and /
        return None
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return "the file name is not valid UTF-8"
    if _PATH_CONTROL.search(path):
        return "the file name has a control character (such as a line break) in it"
    if "\\" in path:
        return "the file name has a backslash in it"
    if path.startswith("/") or any(part in ("", ".", "..") for part in path.split("/")):
        return "the path is absolute or has an empty, '.' or '..' part"
    if re.match(r"[A-Za-z]:", path):
        return "the path starts with a drive letter"
    return None


def _shown(rel: str) -> str:
    """A path as text: bytes of the name that are not UTF-8 (which Python holds as lone
    surrogates, and no UTF-8 output can write) shown as \\xNN escapes."""
    return os.fsencode(rel).decode("utf-8", "backslashreplace")


def _os_reason(exc: OSError) -> str:
    return exc.strerror or exc.__class__.__name__


def read_bytes(file: ArchiveFile) -> bytes:
    """A document file's bytes, or `Unreadable` with the reason.

    What was listed may have changed since: the file is opened without blocking (a FIFO put
    in its place would wait for a writer for ever, holding the index's lock) and checked again
    once open, so that only a regular file inside the archive is read.
    """
    try:
        file.path.encode("utf-8")
    except UnicodeEncodeError:
        raise Unreadable("the file name is not valid UTF-8") from None
    try:
        fd = os.open(file.abspath, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise Unreadable("the file disappeared before it could be read") from None
    except IsADirectoryError:
        raise Unreadable("not a regular file") from None
    except OSError as exc:
        raise Unreadable(f"cannot read file: {_os_reason(exc)}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise Unreadable("not a regular file")
        if file.root is not None:
            where = _opened_path(fd, file.abspath)
            if not _inside(where, file.root):
                raise Unreadable(f"a symbolic link to {_shown(where)}, outside the archive; skipped")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as exc:
        raise Unreadable(f"cannot read file: {_os_reason(exc)}") from None
    finally:
        os.close(fd)


def _opened_path(fd: int, path: str) -> str:
    """Where an open file really is: the kernel's word on Linux, else its resolved path."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return os.path.realpath(path)
