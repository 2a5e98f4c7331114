"""Reading one document: its front matter parsed, its text cleaned.

A document is one Markdown or text file with YAML front matter. This module never raises on
a bad file: `read_document` raises `Unreadable` with a reason the indexer reports, and soft
problems (a missing title, a date that is not a date) become warnings on the document.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from frontmatter.default_handlers import YAMLHandler

from .archive import ArchiveFile, Unreadable, read_bytes
from .cleaning import TEXT_CONTROL, clean_body, clean_inline
from .facets import values_of
from .settings import MAX_DOCUMENT_BYTES, MAX_TAG_CHARS, MAX_TAGS_PER_DOCUMENT, MAX_TITLE_CHARS
from .speakers import Turn


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
    turns: list[Turn] = field(default_factory=list)  # a transcript's turns (from the index)
    collection: str | None = None  # the archive it comes from, by name
    facets: dict[str, list[str]] = field(default_factory=dict)  # the declared facets' values (`--facet`)
    copies: list[str] = field(default_factory=list)  # the paths of its copies in the index (from the index)


class _YAMLHandler(YAMLHandler):
    """python-frontmatter's YAML handler, with libyaml's safe loader when it is installed."""

    def load(self, fm: str, **kwargs: Any) -> Any:
        kwargs.setdefault("Loader", getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        return super().load(fm, **kwargs)


_HANDLER = _YAMLHandler()
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def read_document(file: ArchiveFile, facets: tuple[str, ...] = ()) -> Document:
    """Read, parse and clean one file. Raises `Unreadable` with the reason when it is unusable."""
    document = parse_document(file.path, read_bytes(file), facets)
    document.collection = file.collection
    return document


def parse_document(path: str, raw: bytes, facets: tuple[str, ...] = ()) -> Document:
    """Turn a file's bytes into a Document; `path` is its identity in the index. `facets`
    are the front-matter keys whose values it keeps (`search index --facet`)."""
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
    source_url = TEXT_CONTROL.sub("", _text_value(meta, "source_url", warnings))[:MAX_TITLE_CHARS * 4]
    return Document(
        path=path,
        title=title,
        date=date,
        tags=_tags(meta.get("tags"), warnings),
        source_url=source_url or None,
        published_time=published,
        modified_time=modified,
        body=clean_body(content),
        doc_id=TEXT_CONTROL.sub(" ", str(doc_id)) if isinstance(doc_id, (str, int)) and not isinstance(doc_id, bool) else None,
        warnings=warnings,
        facets={key: values_of(meta.get(key), key, warnings) for key in facets},
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
        items: list[object] = list(value.split(","))
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
            tag = " ".join(TEXT_CONTROL.sub(" ", str(item)).split()).lower().replace(",", " ")
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
