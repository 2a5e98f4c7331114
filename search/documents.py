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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import yaml
from frontmatter.default_handlers import YAMLHandler

from .settings import DOCUMENT_SUFFIXES, MAX_DOCUMENT_BYTES


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


class Unreadable(Exception):
    """The file cannot be used at all; the message is the reason."""


# --- Finding files ---------------------------------------------------------------------


def list_archive(root: Path) -> tuple[list[ArchiveFile], list[FileProblem]]:
    """Every document file under `root`, sorted by path, and the folders that could not be read.

    Symbolic links are followed, but a folder is entered once only, so a link loop ends the walk
    of that branch (and is reported) instead of hanging it.
    """
    files: list[ArchiveFile] = []
    problems: list[FileProblem] = []
    seen_dirs: set[tuple[int, int]] = set()
    root_str = os.fspath(root)

    def visit(folder: str, rel: str) -> None:
        try:
            st = os.stat(folder)
        except OSError as exc:
            problems.append(FileProblem(rel or ".", f"cannot read folder: {_os_reason(exc)}"))
            return
        key = (st.st_dev, st.st_ino)
        if key in seen_dirs:
            problems.append(FileProblem(rel, "folder already visited through a symbolic link (a link loop?); skipped"))
            return
        seen_dirs.add(key)
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            problems.append(FileProblem(rel or ".", f"cannot list folder: {_os_reason(exc)}"))
            return
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue  # hidden files and folders, including the index if it lives inside
            child_rel = f"{rel}/{name}" if rel else name
            try:
                is_dir = entry.is_dir(follow_symlinks=True)
            except OSError:
                is_dir = False
            if is_dir:
                visit(entry.path, child_rel)
                continue
            if not name.lower().endswith(DOCUMENT_SUFFIXES):
                continue
            try:
                st = entry.stat(follow_symlinks=True)
            except OSError as exc:
                problems.append(FileProblem(child_rel, f"cannot read file: {_os_reason(exc)}"))
                continue
            if not stat.S_ISREG(st.st_mode):
                problems.append(FileProblem(child_rel, "not a regular file"))
                continue
            files.append(ArchiveFile(child_rel, entry.path, st.st_size, st.st_mtime_ns))

    visit(root_str, "")
    files.sort(key=lambda f: f.path)
    return files, problems


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
    """A document file's bytes, or `Unreadable` with the reason."""
    try:
        file.path.encode("utf-8")
    except UnicodeEncodeError:
        raise Unreadable("the file name is not valid UTF-8") from None
    try:
        with open(file.abspath, "rb") as handle:
            return handle.read(MAX_DOCUMENT_BYTES + 1)
    except FileNotFoundError:
        raise Unreadable("the file disappeared before it could be read") from None
    except IsADirectoryError:
        raise Unreadable("not a regular file") from None
    except OSError as exc:
        raise Unreadable(f"cannot read file: {_os_reason(exc)}") from None


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
    return Document(
        path=path,
        title=title,
        date=date,
        tags=_tags(meta.get("tags"), warnings),
        source_url=_text_value(meta, "source_url", warnings) or None,
        published_time=published,
        modified_time=modified,
        body=clean_body(content),
        doc_id=str(doc_id) if isinstance(doc_id, (str, int)) and not isinstance(doc_id, bool) else None,
        warnings=warnings,
    )


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
    tags: list[str] = []
    for item in items:
        if isinstance(item, (str, int, float)) and not isinstance(item, bool):
            tag = " ".join(str(item).split()).lower().replace(",", " ")
            if tag and tag not in tags:
                tags.append(tag)
        else:
            warnings.append(f"a tag is a {type(item).__name__}, not text; ignored")
    return tags


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
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_IMG_TAG = re.compile(r"<img\b[^<>]*>", re.IGNORECASE)
_IMG_ALT = re.compile(r"""\balt\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_MD_IMAGE = re.compile(r"!\[([^\]\n]*)\]\([^)\n]*\)")
_MD_LINK = re.compile(r"\[([^\]]*)\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+\"[^\"]*\")?\)")
_MD_SPAN = re.compile(r"\[([^\]]*)\]\{[^}\n]*\}")
_EMPHASIS = re.compile(r"(\*{1,3})(?=\S)(.+?)(?<=\S)\1")
# Regular expressions that begin with a literal character are the fast ones here.
_HARD_BREAK = re.compile(r"(?<=  )\n")
_HEADING = re.compile(r"(?m)^ {0,3}#{1,6}(?:[ ]+(.*?))?[ ]*$")
_BLANK_LINES = re.compile(r"\n[ ]*\n(?:[ ]*\n)*")
_LIST_ITEM = re.compile(r"\n(?=[ ]*(?:[-*+]|\d{1,3}(?:[.)]|\U000F002E))[ ])")


def clean_inline(text: str) -> str:
    """Clean a one-line value such as a title: plain spaces, no escapes, no runs of spaces."""
    text = _ESCAPE.sub(r"\1", _plain_spaces(text))
    return " ".join(text.split())


def _plain_spaces(text: str) -> str:
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
        text = _HTML_COMMENT.sub("", text)
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
        text = _HEADING.sub(lambda m: _BREAK + (m[1] or "") + _BREAK, text)
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
        text = _EMPHASIS.sub(r"\2", text)
    if "&" in text:
        text = html.unescape(text)
    return _UNPROTECT.sub(lambda m: chr(ord(m[0]) - _PROTECT_BASE), text)


def _img_alt(match: re.Match) -> str:
    alt = _IMG_ALT.search(match[0])
    return (alt[1] or alt[2] or "") if alt else ""
