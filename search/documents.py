"""Reading the archive: find the document files, parse their front matter, clean their text.

A document is one Markdown or text file with YAML front matter. This module never raises on
a bad file: `read_document` raises `Unreadable` with a reason the indexer reports, and soft
problems (a missing title, a date that is not a date) become warnings on the document.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import stat
from bisect import bisect_left
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import yaml
from frontmatter.default_handlers import YAMLHandler

from .settings import DOCUMENT_SUFFIXES, MAX_DOCUMENT_BYTES, MAX_TAG_CHARS, MAX_TAGS_PER_DOCUMENT, MAX_TITLE_CHARS


@dataclass
class Document:
    """One archive document, as read from its file or from the index."""

    path: str  # relative to the archive root, forward slashes: the document's identity
    title: str
    date: str | None  # YYYY-MM-DD
    tags: list[str]
    source_url: str | None
    published_time: str | None
    modified_time: str | None
    body: str  # cleaned text; paragraphs separated by blank lines
    doc_id: str | None = None  # the front matter's `id`, when it has one
    warnings: list[str] = field(default_factory=list)


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


class Unreadable(Exception):
    """The file cannot be used at all; the message is the reason."""


# --- Finding files ---------------------------------------------------------------------


def list_archive(root: Path) -> tuple[list[ArchiveFile], list[FileProblem]]:
    """Every document file under `root`, sorted by path, and the folders that could not be read.

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
            files.append(ArchiveFile(child_rel, entry.path, st.st_size, st.st_mtime_ns, real_root))
        folders.extend(reversed(subfolders))  # the first in name order is visited next
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


def path_problem(path: str) -> str | None:
    """Why `path` cannot be a document's identity, or None when it can.

    The identity is text relative to the archive, with forward slashes, and the search page
    serves the document at /doc/PATH; it refuses any path that could name something outside
    the archive. So the indexer skips, with this reason, a file whose path the page would
    refuse: it would be found but could not be opened.
    """
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


# --- Reading one document -------------------------------------------------------------------


class _YAMLHandler(YAMLHandler):
    """python-frontmatter's YAML handler, with libyaml's safe loader when it is installed."""

    def load(self, fm: str, **kwargs: object) -> object:
        kwargs.setdefault("Loader", getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        return super().load(fm, **kwargs)


_HANDLER = _YAMLHandler()
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def read_document(file: ArchiveFile) -> Document:
    """Read, parse and clean one file. Raises `Unreadable` with the reason when it is unusable."""
    return parse_document(file.path, read_bytes(file))


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


def parse_document(path: str, raw: bytes) -> Document:
    """Turn a file's bytes into a Document; `path` is its archive-relative identity."""
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise Unreadable(f"file larger than the {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB limit for one document")
    if not raw.strip():
        raise Unreadable("empty file")
    if b"\x00" in raw[:8192]:
        raise Unreadable("binary file (contains NUL bytes)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unreadable(f"not UTF-8 text (invalid byte 0x{raw[exc.start]:02x} at offset {exc.start})") from None
    if "\x00" in text:
        raise Unreadable("binary file (contains NUL bytes)")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    meta, content = _split_front_matter(text)

    warnings: list[str] = []
    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    title = _text_value(meta, "title", warnings)
    title = clean_inline(title) if title else ""
    if len(title) > MAX_TITLE_CHARS:
        title = _cut(title, MAX_TITLE_CHARS)
        warnings.append(f"the title is longer than {MAX_TITLE_CHARS:,} characters; cut")
    if not title:
        title = _title_from_name(stem)
        warnings.append("no title; using the file name")

    published = _timestamp(meta, "published_time", warnings)
    modified = _timestamp(meta, "modified_time", warnings)
    date = _date_value(meta.get("date"), warnings)
    if date is None:
        date = _date_from_timestamp(published) or _date_from_name(stem)
        where = "published_time" if date and _date_from_timestamp(published) else "the file name" if date else None
        warnings.append(f"no date; using {where}" if where else "no date")

    doc_id = meta.get("id")
    source_url = _TEXT_CONTROL.sub("", _text_value(meta, "source_url", warnings))[:MAX_TITLE_CHARS * 4]
    return Document(
        path=path,
        title=title,
        date=date,
        tags=_tags(meta.get("tags"), warnings),
        source_url=source_url or None,
        published_time=published,
        modified_time=modified,
        body=clean_body(content),
        doc_id=_TEXT_CONTROL.sub(" ", str(doc_id)) if isinstance(doc_id, (str, int)) and not isinstance(doc_id, bool) else None,
        warnings=warnings,
    )


def _cut(text: str, size: int) -> str:
    """`text` cut to at most `size` characters, at a space where one is near, with an ellipsis."""
    cut = text.rfind(" ", 0, size - 1)
    return text[: cut if cut > size // 2 else size - 1].rstrip() + "…"


def _split_front_matter(text: str) -> tuple[dict, str]:
    if not _HANDLER.detect(text):
        return {}, text
    try:
        fm, content = _HANDLER.split(text)
    except ValueError:
        raise Unreadable("front matter has no closing '---' line") from None
    try:
        meta = _HANDLER.load(fm)
    except yaml.YAMLError as exc:
        raise Unreadable(f"invalid YAML front matter: {_yaml_reason(exc)}") from None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        # Valid YAML that the loader still cannot turn into values (a date like 2024-02-31).
        raise Unreadable(f"invalid YAML front matter: {exc}") from None
    if meta is None:
        return {}, content
    if not isinstance(meta, dict):
        raise Unreadable(f"front matter is a {type(meta).__name__}, not a set of keys")
    return meta, content


def _yaml_reason(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    mark = getattr(exc, "problem_mark", None)
    # The front matter text starts right after the opening '---', on the file's first line.
    return f"{problem} (line {mark.line + 1})" if mark is not None else problem


def _text_value(meta: dict, key: str, warnings: list[str]) -> str:
    value = meta.get(key)
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (int, float, dt.date)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return " ".join(str(v) for v in value).strip()
    warnings.append(f"{key} is a {type(value).__name__}, not text; ignored")
    return ""


def _date_value(value: object, warnings: list[str]) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        parsed = _parse_iso_date(value.strip())
        if parsed:
            return parsed
    if not isinstance(value, (str, int, float)):
        # Never str() a list or a mapping: YAML aliases can make a small file an enormous one.
        warnings.append(f"date is a {type(value).__name__}, not a YYYY-MM-DD date; ignored")
        return None
    shown = str(value)
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    warnings.append(f"date {shown!r} is not a YYYY-MM-DD date; ignored")
    return None


def _parse_iso_date(text: str) -> str | None:
    match = _ISO_DATE.match(text)
    if not match:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3])).isoformat()
    except ValueError:
        return None


def _timestamp(meta: dict, key: str, warnings: list[str]) -> str | None:
    value = meta.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    warnings.append(f"{key} is not a timestamp; ignored")
    return None


def _date_from_timestamp(timestamp: str | None) -> str | None:
    return _parse_iso_date(timestamp) if timestamp else None


def _date_from_name(stem: str) -> str | None:
    return _parse_iso_date(stem[:10])


def _title_from_name(stem: str) -> str:
    words = re.sub(r"^\d{4}-\d{2}-\d{2}[-_ ]*", "", stem)
    words = re.sub(r"[-_]+", " ", words).strip() or stem
    return words[:1].upper() + words[1:]


def _tags(value: object, warnings: list[str]) -> list[str]:
    """Tags as a list of lowercase labels, from a string (comma-separated) or a YAML list."""
    if value is None:
        return []
    if isinstance(value, str):
        items: list[object] = value.split(",")
    elif isinstance(value, list):
        items = value
    else:
        items = [value]
    # Dicts keep the order and count each once (a list's `in` is quadratic in a long list).
    tags: dict[str, None] = {}
    ignored: dict[str, None] = {}
    extra = long = 0
    for item in items:
        if isinstance(item, (str, int, float)) and not isinstance(item, bool):
            tag = " ".join(_TEXT_CONTROL.sub(" ", str(item)).split()).lower().replace(",", " ")
            if len(tag) > MAX_TAG_CHARS:
                tag, long = tag[:MAX_TAG_CHARS].rstrip(), long + 1
            if tag and tag not in tags:
                if len(tags) < MAX_TAGS_PER_DOCUMENT:
                    tags[tag] = None
                else:
                    extra += 1
        else:
            ignored[type(item).__name__] = None
    warnings.extend(f"a tag is a {kind}, not text; ignored" for kind in ignored)
    if long:
        warnings.append(f"{long:,} tag{'s' if long > 1 else ''} longer than {MAX_TAG_CHARS} characters cut")
    if extra:
        warnings.append(f"{extra:,} tags beyond the first {MAX_TAGS_PER_DOCUMENT} ignored")
    return list(tags)


# --- Cleaning text --------------------------------------------------------------------------

# Spaces that Pandoc and the site put between words; all become plain spaces.
_ODD_SPACES = ("\u00a0", "\u202f", "\u2007", "\u2009", "\t")
# Invisible characters the site puts inside words ("COVID-\u206019"): removed.
_INVISIBLE = ("\u2060", "\u200b", "\u00ad", "\ufeff")
# A backslash before ASCII punctuation is a Pandoc escape. While the markup is removed, each
# escaped character stands in as a private-use character, so it is never read as markup.
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_PROTECT_BASE = 0xF0000
_UNPROTECT = re.compile("[\U000F0021-\U000F007E]")
_BREAK = "\u2028"  # a line break the author meant, kept inside a paragraph

_BLOCK_TAGS = "table|thead|tbody|tfoot|tr|p|div|figure|figcaption|blockquote|ul|ol|li|h[1-6]|hr"
_CELL_TAGS = "td|th|colgroup|col"
_INLINE_TAGS = "span|u|s|sup|sub|strong|em|b|i|a|small|mark|abbr|cite|code|del|ins"
_BLOCK_TAG = re.compile(rf"</?(?:{_BLOCK_TAGS})\b[^<>]*>", re.IGNORECASE)
_CELL_TAG = re.compile(rf"</?(?:{_CELL_TAGS})\b[^<>]*>", re.IGNORECASE)
_INLINE_TAG = re.compile(rf"</?(?:{_INLINE_TAGS})\b[^<>]*>", re.IGNORECASE)
_BR_TAG = re.compile(r"<br\b[^<>]*>", re.IGNORECASE)
_IMG_TAG = re.compile(r"<img\b[^<>]*>", re.IGNORECASE)
_IMG_ALT = re.compile(r"""\balt\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
# No bracket, brace or parenthesis inside the text or the target of a link: besides being
# Pandoc's own output, this keeps each match attempt short, so a file of a million "[" or "!["
# takes linear time, not quadratic.
_MD_IMAGE = re.compile(r"!\[([^\[\]\n]*)\]\([^()\n]*\)")
_MD_LINK = re.compile(r"\[([^\[\]]*)\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+\"[^\"\[\]]*\")?\)")
_MD_SPAN = re.compile(r"\[([^\[\]]*)\]\{[^{}\n]*\}")
# Regular expressions that begin with a literal character are the fast ones here.
_HARD_BREAK = re.compile(r"(?<=  )\n")
_HEADING = re.compile(r"(?m)^ {0,3}#{1,6}(?:[ ]+(.*))?$")  # trailing spaces are stripped after
# A decimal character reference too long for html.unescape, whose int() refuses more than
# 4,300 digits; with over 7 digits it is beyond Unicode anyway.
_LONG_DECIMAL_REF = re.compile(r"&#([0-9]{8,});?")
_BLANK_LINES = re.compile(r"\n[ ]*\n(?:[ ]*\n)*")
_LIST_ITEM = re.compile(r"\n(?=[ ]*(?:[-*+]|\d{1,3}(?:[.)]|\U000F002E))[ ])")


def clean_inline(text: str) -> str:
    """Clean a one-line value such as a title: plain spaces, no escapes, no runs of spaces."""
    text = _ESCAPE.sub(r"\1", _plain_spaces(text))
    return " ".join(text.split())


# Control characters other than tab and line feed (a stray \x01, a form feed, a lone CR):
# spaces, so that they neither glue words together nor reach a page or a terminal.
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _plain_spaces(text: str) -> str:
    if _TEXT_CONTROL.search(text):
        text = _TEXT_CONTROL.sub(" ", text.replace("\r\n", "\n"))
    for space in _ODD_SPACES:
        if space in text:
            text = text.replace(space, " ")
    for invisible in _INVISIBLE:
        if invisible in text:
            text = text.replace(invisible, "")
    return text


def clean_body(text: str) -> str:
    """Plain text from the archive's Pandoc Markdown.

    Escapes become their characters, non-breaking spaces plain spaces, formatting markup is
    removed, hard-wrapped lines are joined, and paragraphs stay apart (one blank line). Line
    breaks the author meant (two trailing spaces, a trailing backslash, <br>, list items,
    headings) stay as single newlines inside a paragraph. Tags that are not formatting,
    such as <script>, stay as text: the page that shows it escapes it.
    """
    text = _plain_spaces(text)
    text = _HARD_BREAK.sub(_BREAK, text.replace("\\\n", _BREAK))
    text = _ESCAPE.sub(lambda m: chr(_PROTECT_BASE + ord(m[1])), text)
    if "<" in text:
        text = _without_comments(text)
        text = _BR_TAG.sub(_BREAK, text)
        text = _IMG_TAG.sub(_img_alt, text)
        text = _BLOCK_TAG.sub("\n\n", text)
        text = _CELL_TAG.sub(" ", text)
        text = _INLINE_TAG.sub("", text)
    if "[" in text:
        text = _MD_IMAGE.sub(r"\1", text)
        text = _MD_LINK.sub(r"\1", text)
        text = _MD_SPAN.sub(r"\1", text)
    if "#" in text:
        text = _HEADING.sub(lambda m: _BREAK + (m[1] or "").rstrip(" ") + _BREAK, text)
    paragraphs = []
    for paragraph in _BLANK_LINES.split(text):
        paragraph = _LIST_ITEM.sub(_BREAK, paragraph).replace("\n", " ")
        lines = []
        for line in paragraph.split(_BREAK):
            line = " ".join(line.split())
            if line[:2] in ("* ", "+ "):
                line = "- " + line[2:]
            if line:
                lines.append(line)
        if lines:
            paragraphs.append("\n".join(lines))
    text = "\n\n".join(paragraphs)
    if "*" in text:
        text = "\n".join(_without_emphasis(line) if line.count("*") > 1 else line for line in text.split("\n"))
    if "&" in text:
        text = html.unescape(_LONG_DECIMAL_REF.sub(_decimal_ref, text))
        if _TEXT_CONTROL.search(text):  # `&#27;`, `&#13;`: a character reference is no way round
            text = _TEXT_CONTROL.sub(" ", text)
    return _UNPROTECT.sub(lambda m: chr(ord(m[0]) - _PROTECT_BASE), text)


def _img_alt(match: re.Match) -> str:
    alt = _IMG_ALT.search(match[0])
    return (alt[1] or alt[2] or "") if alt else ""


def _without_comments(text: str) -> str:
    """Text without its <!-- HTML comments -->. A loop of finds, where the regular expression
    `<!--.*?-->` would scan to the end of the text again for every unclosed `<!--`."""
    pieces, done = [], 0
    while (start := text.find("<!--", done)) != -1 and (end := text.find("-->", start + 4)) != -1:
        pieces.append(text[done:start])
        done = end + 3
    pieces.append(text[done:])
    return "".join(pieces)


def _without_emphasis(line: str) -> str:
    r"""One line with *emphasis*, **strong** and ***both*** unwrapped.

    It gives what `re.sub(r"(\*{1,3})(?=\S)(.+?)(?<=\S)\1", r"\2", line)` gives, in
    O(n log n) time: that expression rescans the rest of the line for every star without a
    closing one, which makes a line of a million stars take hours.
    """
    stars = [i for i, c in enumerate(line) if c == "*"]
    # Where a closing run of n stars may start: after a character that is not a space.
    closers = {n: [i for i in stars if line.startswith("*" * n, i) and i and not line[i - 1].isspace()] for n in (1, 2, 3)}
    pieces, done = [], 0
    for start in stars:
        if start < done:
            continue
        for n in (3, 2, 1):  # as many stars as the opening run has, then fewer
            inner = start + n
            if not line.startswith("*" * n, start) or inner >= len(line) or line[inner].isspace():
                continue
            ends = closers[n]
            k = bisect_left(ends, inner + 1)  # the emphasised text is one character or more
            if k < len(ends):
                pieces += [line[done:start], line[inner : ends[k]]]
                done = ends[k] + n
                break
    pieces.append(line[done:])
    return "".join(pieces)


def _decimal_ref(match: re.Match) -> str:
    digits = match[1].lstrip("0") or "0"
    return "\ufffd" if len(digits) > 7 else f"&#{digits};"
