"""What a search page's URL says: its parameters read leniently (the engine checks what it
reads itself), and the URLs of the same search with a filter, a page or an order changed.
Every state of the search page is a `Params`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask import url_for

from search import QueryError, SearchIndex
from search.narrowing import period_of
from search.settings import MAX_QUERY_CHARS

PER_PAGE = 10  # the page's results; the API takes limit=1..MAX_API_LIMIT
MAX_API_LIMIT = 100
MAX_TAGS = 20
MAX_PAGE_DIGITS = 12  # longer page numbers are beyond any archive's last page
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # C0 and C1 control characters


def text_param(value: str | None) -> str:
    """A parameter as text: control characters (NUL included) read as spaces, ends trimmed."""
    return _CONTROL.sub(" ", value or "").strip()


@dataclass
class Params:
    """The search parameters of a URL; every state of the page is one of these."""

    q: str = ""
    tags: list[str] = field(default_factory=list)
    speakers: list[str] = field(default_factory=list)  # only these people's words (speaker=)
    since: str = ""
    until: str = ""
    sort: str = "relevance"
    page: int = 1
    limit: int = PER_PAGE  # results a page: the API's `limit`, 1-100; the page keeps ten
    explain: bool = False  # the API says how the query was read and each score made
    exact: bool = False  # search the words as typed, never a correction
    problem: str | None = None  # a parameter that cannot be read (the page number)
    collections: list[str] = field(default_factory=list)  # only these collections (collection=)
    facets: dict[str, list[str]] = field(default_factory=dict)  # declared facets' values (KEY=value)
    keep_duplicates: bool = False  # every copy listed (duplicates=all), not each group once

    @classmethod
    def read(cls, args, facet_keys: list[str] | tuple[str, ...] = ()) -> "Params":
        """Lenient about everything the engine checks itself (dates, sort, the query); a
        repeated single-valued parameter counts once (the first). `facet_keys` are the index's
        declared facets, each filtering as ?KEY=value."""
        params = cls(
            q=text_param(args.get("q")),
            tags=_values(args, "tag"),
            speakers=_values(args, "speaker"),
            since=text_param(args.get("since")),
            until=text_param(args.get("until")),
            sort=text_param(args.get("sort")) or "relevance",
            explain=text_param(args.get("explain")).lower() in ("true", "1", "yes"),
            exact=text_param(args.get("exact")).lower() in ("true", "1", "yes"),
            collections=_values(args, "collection"),
            facets={key: found for key in facet_keys if (found := _values(args, key))},
            keep_duplicates=text_param(args.get("duplicates")).lower() == "all",
        )
        page = text_param(args.get("page")) or "1"
        digits = page.lstrip("0")
        if not re.fullmatch(r"[0-9]+", page) or not digits:
            params.problem = f"page must be a positive whole number, not {page[:30]!r}"
        else:
            params.page = int(digits) if len(digits) <= MAX_PAGE_DIGITS else 10**MAX_PAGE_DIGITS
        return params

    def search(self, ix: SearchIndex):
        """The search, with its facets and its matches over time; without words but with a
        category or a date, every document within them, newest first (browsing)."""
        if len(self.q) > MAX_QUERY_CHARS:
            raise QueryError(f"the query is too long ({len(self.q):,} characters; the limit is {MAX_QUERY_CHARS:,})")
        if self.browsing:
            return ix.browse(tags=self.tags, since=self.since or None, until=self.until or None, page=self.page,
                             limit=self.limit, facets=True, timeline=True, collections=self.collections,
                             filters=self.facets, keep_duplicates=self.keep_duplicates)
        return ix.search(
            self.q, tags=self.tags, since=self.since or None, until=self.until or None,
            sort=self.sort, page=self.page, limit=self.limit, facets=True, explain=self.explain, exact=self.exact,
            speakers=self.speakers, collections=self.collections, filters=self.facets, keep_duplicates=self.keep_duplicates,
            timeline=True,
        )

    @property
    def browsing(self) -> bool:
        """No words, but a category, a collection, a facet's value or dates: a list of
        documents (a speaker alone is a search of what they said)."""
        return not self.q and self.filtered and not self.speakers

    def bar_url(self, since: str, until: str) -> str:
        """This search narrowed to a period (within its own dates): a bar of its chart."""
        return self.url(since=max(since, self.since) if self.since else since, until=min(until, self.until) if self.until else until)

    def args(self, **changes) -> dict:
        """The query-string arguments, defaults left out, with `changes` applied."""
        values = {"q": self.q, "tag": self.tags, "speaker": self.speakers, "collection": self.collections, **self.facets,
                  "since": self.since, "until": self.until, "sort": self.sort, "page": self.page,
                  "exact": "1" if self.exact else "", "duplicates": "all" if self.keep_duplicates else ""}
        values.update(changes)
        if values["sort"] == "relevance":
            del values["sort"]
        if values["page"] == 1:
            del values["page"]
        return {k: v for k, v in values.items() if v not in (None, "", [])}

    def feed_url(self) -> str:
        """The Atom feed of this search's newest matches (its words and filters, not its page
        or order)."""
        return url_for("web.feed", **self.args(page=1, sort="relevance"))

    def url(self, **changes) -> str:
        """This search with some parameters changed; a change of filter goes back to page 1."""
        if "page" not in changes:
            changes["page"] = 1
        return url_for("web.search", **self.args(**changes))

    @property
    def year(self) -> str | None:
        """The year ("2024") or decade ("1860s") whose whole span since/until select, if they do."""
        for value in (self.since[:4], self.since[:3] + "0s"):
            if period_of(value) == (self.since, self.until):
                return value
        return None

    def period_url(self, value: str) -> str:
        """This search narrowed to a year facet's year or decade, or back to every date when
        it is the one chosen."""
        if self.year == value:
            return self.url(since="", until="")
        since, until = period_of(value) or ("", "")
        return self.url(since=since, until=until)

    def toggled_value(self, key: str, value: str) -> list[str]:
        """A collection's (key "collection") or a declared facet's values with `value` taken
        out, or put in."""
        return _toggled(self.collections if key == "collection" else self.facets.get(key, []), value)

    def chosen(self, key: str) -> list[str]:
        return self.collections if key == "collection" else self.facets.get(key, [])

    def toggled(self, tag: str) -> list[str]:
        return _toggled(self.tags, tag)

    def toggled_speaker(self, name: str) -> list[str]:
        return _toggled(self.speakers, name)

    @property
    def filtered(self) -> bool:
        return bool(self.tags or self.speakers or self.since or self.until or self.collections or self.facets)

    def unfiltered(self) -> dict:
        """The changes that clear every filter."""
        return {"tag": [], "speaker": [], "collection": [], "since": "", "until": "", **{k: [] for k in self.facets}}


def _values(args, name: str) -> list[str]:
    """A repeatable parameter's values, each once, at most MAX_TAGS of them."""
    values: list[str] = []
    for value in args.getlist(name):
        value = text_param(value)
        if value and value not in values and len(values) < MAX_TAGS:
            values.append(value)
    return values


def _toggled(values: list[str], value: str) -> list[str]:
    """The values with `value` taken out, or put in (a facet link)."""
    return [v for v in values if v != value] if value in values else values + [value]
