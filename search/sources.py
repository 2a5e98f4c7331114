"""The archives an index is built from: each a named collection of documents.

`search index --archive NAME=DIR` may be repeated; `--archive DIR` alone is one collection named
after the folder. A document's identity is `NAME/relative/path` when the index holds several
collections, and the relative path alone when it holds one, so that the paths and URLs of a
one-archive index stay as they were.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import SearchError

# A collection's name: what `collection:NAME`, `--collection` and `?collection=` take, and the
# first part of its documents' paths in an index of several.
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")


@dataclass(frozen=True)
class Source:
    """One archive folder, indexed as the collection `name`."""

    name: str
    folder: Path


def check_name(name: str) -> str:
    """`name` if it can name a collection; else a one-line error saying what can."""
    if not _NAME.fullmatch(name):
        raise SearchError(
            f"{name[:40]!r} cannot name a collection: use lowercase letters, digits, '-' and '_' (up to 63), "
            "starting with a letter or a digit"
        )
    return name


def name_for(folder: Path) -> str:
    """The collection name of a folder given without one: its name, lowercased, with anything
    but letters, digits, '-' and '_' made '-' (`../shared/archive` is `archive`)."""
    base = Path(os.path.abspath(folder)).name.lower()
    name = re.sub(r"[^a-z0-9_-]+", "-", base).strip("-_")[:63]
    return name or "archive"


def parse_source(text: str, relative_to: Path | None = None) -> Source:
    """`NAME=DIR` or `DIR`, as `--archive` takes it. A folder whose own name holds '=' is
    taken whole when it exists and what stands before the '=' cannot be a name."""
    name, sep, folder = text.partition("=")
    if sep and _NAME.fullmatch(name) and folder:
        path = Path(folder)
    else:
        if sep and not Path(text).exists() and not _NAME.fullmatch(name):
            check_name(name)  # says what a name may be
        path, name = Path(text), ""
    if relative_to is not None and not path.is_absolute():
        path = relative_to / path
    return Source(name or name_for(path), path)


def sources_from(texts: list[str] | tuple[str, ...]) -> list[Source]:
    """The sources of repeated `--archive` options; two of one name are an error."""
    sources = [parse_source(t) for t in texts]
    seen: dict[str, Source] = {}
    for source in sources:
        if source.name in seen:
            raise SearchError(
                f"two archives are named {source.name!r} ({seen[source.name].folder} and {source.folder}); "
                "name them apart with --archive NAME=DIR"
            )
        seen[source.name] = source
    return sources


def identity(source_count: int, collection: str, relative: str) -> str:
    """A document's path in the index: `collection/relative` in an index of several
    collections, `relative` in an index of one."""
    return f"{collection}/{relative}" if source_count > 1 else relative


def recorded(meta: dict) -> dict[str, str]:
    """The collections an index's metadata records, {name: folder}; an index built before
    collections had one archive, named after its folder."""
    found = meta.get("collections")
    if isinstance(found, dict) and found:
        return {str(k): str(v) for k, v in found.items()}
    archive = meta.get("archive")
    return {name_for(Path(archive)): str(archive)} if archive else {}
