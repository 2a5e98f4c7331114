"""An archive's own configuration: `search.toml`, beside the index folder or named by `--config`.

It describes the archive the site serves, so that nothing about one archive is written in code:

    facets = ["president"]            # front-matter keys indexed as facets (search index --facet)

    [site]
    title = "Briefing Room Search"
    description = "Full-text search of the White House briefing-room archive."
    examples = ["DPRK Russia", "Maui wildfire recovery"]
    office = "The White House"        # who issued the documents, for citations

    [archives]                        # collections: name = folder (relative to this file)
    briefing-room = "seeds"

    [categories]                      # display names of category slugs
    statements-releases = "Statements & releases"

    [collections]                     # display names of collections
    briefing-room = "Biden White House"

Every part is optional; command-line options win over the file. A file that cannot be read,
or that holds a key this version does not know, is a one-line error naming it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from .errors import SearchError
from .sources import Source, check_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

_TABLES = {"site": ("title", "description", "examples", "office"), "archives": None, "categories": None, "collections": None}


@dataclass(frozen=True)
class SiteConfig:
    """What `search.toml` says; empty where it says nothing (or there is no file)."""

    path: Path | None = None
    title: str | None = None
    description: str | None = None
    examples: tuple[str, ...] = ()
    office: str | None = None
    archives: tuple[Source, ...] = ()
    facets: tuple[str, ...] = ()
    categories: dict[str, str] = field(default_factory=dict)
    collections: dict[str, str] = field(default_factory=dict)


def load_config(path: Path | None, required: bool = False) -> SiteConfig:
    """The configuration in `path`; an empty one when `path` is None, or does not exist and is
    not `required` (the file beside an index is optional; one named by --config is not)."""
    if path is None:
        return SiteConfig()
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        if required:
            raise SearchError(f"no configuration file at {path}") from None
        return SiteConfig()
    except OSError as exc:
        raise SearchError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SearchError(f"{path} is not valid TOML: {exc}") from None
    return _read(Path(path), data)


def _read(path: Path, data: dict) -> SiteConfig:
    def wrong(what: str) -> SearchError:
        return SearchError(f"{path}: {what}")

    for key, value in data.items():
        if key == "facets":
            continue
        if key not in _TABLES:
            raise wrong(f"unknown key {key!r}; the file may have facets, {', '.join('[' + t + ']' for t in _TABLES)}")
        if not isinstance(value, dict):
            raise wrong(f"{key} must be a table, [{key}]")
    site = data.get("site", {})
    for key in site:
        if key not in (_TABLES["site"] or ()):
            raise wrong(f"unknown key site.{key}; [site] may have {', '.join(_TABLES['site'] or ())}")

    def text(table: dict, key: str, where: str) -> str | None:
        value = table.get(key)
        if value is not None and not isinstance(value, str):
            raise wrong(f"{where}{key} must be a string")
        return value.strip() if value else None

    def texts(value: object, where: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise wrong(f"{where} must be a list of strings")
        return tuple(v.strip() for v in value if v.strip())

    def names(key: str) -> dict[str, str]:
        table = data.get(key, {})
        if not all(isinstance(v, str) for v in table.values()):
            raise wrong(f"every value of [{key}] must be a string")
        return {str(k): v for k, v in table.items()}

    archives = tuple(Source(_name(path, k), (path.parent / v).resolve()) for k, v in names("archives").items())
    return SiteConfig(
        path=path, title=text(site, "title", "site."), description=text(site, "description", "site."),
        examples=texts(site.get("examples"), "site.examples"), office=text(site, "office", "site."),
        archives=archives, facets=texts(data.get("facets"), "facets"),
        categories=names("categories"), collections=names("collections"),
    )


def _name(path: Path, name: str) -> str:
    try:
        return check_name(name)
    except SearchError as exc:
        raise SearchError(f"{path}: [archives] {exc}") from None
