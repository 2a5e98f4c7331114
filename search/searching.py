"""Answering queries: ranked, filtered, sorted, paged results with snippets and suggestions.

`open_index` gives a `SearchIndex`, which keeps one Whoosh searcher open and notices when a
rebuild has swapped in a new generation. The CLI, the batch runner and the web app all search
through `SearchIndex.search`, so they rank identically.
"""

from __future__ import annotations

import contextlib
import datetime
import heapq
from bisect import bisect_left
import math
import os
import re
import threading
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index as whoosh_index, query
from whoosh.collectors import UnlimitedCollector
from whoosh.spelling import ListCorrector

from . import deadline as deadlines, storage
from .analysis import TOKEN_RE, is_stop, normalize, stem
from .documents import Document
from .highlighting import Marker, Snippet
from .errors import DocumentNotFound, IndexDamaged, QueryError, QueryTooCostly
from .querying import Lexicon, ParsedQuery, QueryReader
from .ranking import CachedBM25F, best_first, estimated_postings, forget_other_generations, term_at_a_time
from .settings import DEFAULT_LIMIT, MAX_FACET_VALUES, MAX_LIMIT, WorkBudget

SORTS = ("relevance", "newest", "oldest")
BM25_B = 0.75
BM25_K1 = 1.2


@dataclass
class Hit:
    rank: int
    path: str
    title: str
    date: str | None
    tags: list[str]
    source_url: str | None
    score: float
    snippet: Snippet
    title_matches: list[list[int]] = field(default_factory=list)
    doc_id: str | None = None


@dataclass
class FacetCount:
    value: str
    count: int


@dataclass
class SearchResults:
    query: str
    total: int
    page: int
    pages: int
    limit: int
    sort: str
    suggestion: str | None  # a corrected query, when a word is not in the archive
    corrected: bool  # the results are for the suggestion, because the query found nothing
    seconds: float
    results: list[Hit]
    tags: list[FacetCount] | None = None  # counts with the other filters applied
    years: list[FacetCount] | None = None


@dataclass
class ArchiveOverview:
    documents: int
    first_date: str | None
    last_date: str | None
    tags: list[FacetCount]
    built: str | None


def open_index(path: Path, budget: WorkBudget | None = None) -> "SearchIndex":
    """Open the index at `path` (the folder `search index` writes). `budget` bounds what one
    search may cost (the default: `WorkBudget()`, with no deadline)."""
    return SearchIndex(path, budget)


class SearchIndex:
    """An open index. Not shared between threads: give each thread its own."""

    def __init__(self, root: Path, budget: WorkBudget | None = None):
        self.root = Path(root)
        self.budget = budget or WorkBudget()
        self._searcher = None
        self._open()

    def _open(self) -> None:
        generation = storage.current_generation(self.root)
        try:
            ix = whoosh_index.open_dir(str(generation.path))
            searcher = ix.searcher(weighting=CachedBM25F(B=BM25_B, K1=BM25_K1))
        except Exception as exc:  # Whoosh raises many kinds on damaged files
            raise IndexDamaged(self.root, f"{exc.__class__.__name__}: {exc}"[:200]) from None
        if self._searcher is not None:
            self._searcher.close()
        forget_other_generations(generation.path)
        self.generation = generation.path.name
        self.meta = generation.meta
        self._searcher = searcher
        self.schema = ix.schema
        self.lexicon = _shared_lexicon(generation.path / storage.WORDS)
        self.reader = QueryReader(self.schema, self.lexicon, self.budget)
        self._facet_maps: tuple[list[str], list[list[str]]] | None = None
        self._facet_keys_cache: tuple[list[int], list[str]] | None = None

    def refresh(self) -> bool:
        """Reopen if a rebuild swapped in a new generation since; True when it did."""
        if storage.current_name(self.root) == self.generation:
            return False
        self._open()
        return True

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None

    def __enter__(self) -> "SearchIndex":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- Searching ---------------------------------------------------------------------------

    def search(
        self,
        text: str,
        *,
        tags: list[str] | tuple[str, ...] = (),
        since: str | None = None,
        until: str | None = None,
        sort: str = "relevance",
        page: int = 1,
        limit: int = DEFAULT_LIMIT,
        facets: bool = False,
        snippets: bool = True,
        deadline: deadlines.Deadline | None = None,
    ) -> SearchResults:
        """Run one query. Raises QueryError for a query or an option that cannot be read (and
        QueryTooCostly, one of them, for a query past the work budget), and QueryTimeout when
        the search passes its deadline: `deadline`, else the budget's `seconds`."""
        if deadline is None:
            deadline = deadlines.current() or (deadlines.Deadline(self.budget.seconds) if self.budget.seconds else None)
        with deadlines.running(deadline):
            return self._search(text, tags, since, until, sort, page, limit, facets, snippets)

    def _search(self, text, tags, since, until, sort, page, limit, facets, snippets) -> SearchResults:
        started = time.perf_counter()
        if sort not in SORTS:
            raise QueryError(f"unknown sort {sort!r}; use one of: {', '.join(SORTS)}")
        if not isinstance(page, int) or page < 1:
            raise QueryError("page must be a positive whole number")
        if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise QueryError(f"limit must be between 1 and {MAX_LIMIT}")
        since, until = _check_day(since, "since"), _check_day(until, "until")
        parsed, cost = self._read(text)
        guard = deadlines.current()
        costly = cost > self.budget.costly_postings or parsed.expanded > self.budget.costly_words
        with guard.admitted(costly) if guard is not None else contextlib.nullcontext():
            return self._answer(text, parsed, tags, since, until, sort, page, limit, facets, snippets, started)

    def _answer(self, text, parsed, tags, since, until, sort, page, limit, facets, snippets, started) -> SearchResults:
        wanted = _Filters(frozenset(t.strip().lower() for t in tags if t.strip()), since, until)
        suggestion = self.suggest(text)
        corrected = False
        results = self._run(parsed, wanted, sort, page, limit, facets, snippets)
        if results.total == 0 and suggestion:
            try:
                retry, _ = self._read(suggestion)
            except QueryError:
                retry = None
            if retry is not None:
                again = self._run(retry, wanted, sort, page, limit, facets, snippets)
                if again.total:
                    results, corrected = again, True
        results.query = text
        results.suggestion = suggestion
        results.corrected = corrected
        results.seconds = round(time.perf_counter() - started, 4)
        return results

    def _read(self, text: str) -> tuple[ParsedQuery, int]:
        """The query read, and its cost: the postings it will read, checked against the
        budget before any is read."""
        reader = self._searcher.reader()
        parsed = self.reader.read(text, reader)
        cost = estimated_postings(parsed.query, reader)
        if cost > self.budget.postings:
            raise QueryTooCostly(
                f"the query would read {cost:,} postings, more than the {self.budget.postings:,} one search may; "
                "use fewer or rarer words"
            )
        return parsed, cost

    def _run(self, parsed: ParsedQuery, wanted: "_Filters", sort, page, limit, facets, snippets) -> SearchResults:
        """One scored pass over every match; filters, counts and date order are then applied to
        the matched documents, so the total and the facets cost no second query."""
        tag_counts: Counter = Counter()
        year_counts: Counter = Counter()
        matches = term_at_a_time(parsed.query, self._searcher)
        if matches is not None and not facets and not wanted.active:
            total = len(matches)
            ranked = best_first(matches, page * limit if sort == "relevance" else None)
        else:
            if matches is None:
                # Every match, not Whoosh's top N: its collector prunes sub-matchers that can
                # no longer reach the top, and its count then misses their documents.
                collector = _TimedCollector()
                self._searcher.search_with_collector(parsed.query, collector)
                matches = collector.results().top_n
            dates, tags_of = self._maps()
            dated = matches if wanted.since is None and wanted.until is None else [m for m in matches if wanted.date_ok(dates[m[1]])]
            ranked = dated if not wanted.tags else [m for m in dated if wanted.tags_ok(tags_of[m[1]])]
            total = len(ranked)
            if facets:
                # Each facet counts with the other filters only, so a user can see, and
                # switch to, the other categories and years.
                tagged = matches if not wanted.tags else [m for m in matches if wanted.tags_ok(tags_of[m[1]])]
                tag_counts, year_counts = self._facet_counts(dated, tagged)
            ranked = best_first(ranked, page * limit if sort == "relevance" else None)
        if sort != "relevance":
            # By date, then by score; undated documents last either way.
            dates, _ = self._maps()
            newest = sort == "newest"
            ranked.sort(key=lambda sd: (dates[sd[1]] != "", dates[sd[1]] if newest else _inverted(dates[sd[1]]), sd[0]), reverse=True)
        marker = Marker(parsed.stems, parsed.phrases)
        hits = []
        for rank, (score, docnum) in enumerate(ranked[(page - 1) * limit : page * limit], start=(page - 1) * limit + 1):
            deadlines.check()
            stored = self._searcher.stored_fields(docnum)
            title = stored.get("title", "")
            hits.append(
                Hit(
                    rank=rank,
                    path=stored["path"],
                    title=title,
                    date=stored.get("date"),
                    tags=_tags(stored),
                    source_url=stored.get("source_url"),
                    score=_finite(score),
                    snippet=marker.snippet(_body(stored)) if snippets else Snippet(""),
                    title_matches=marker.spans(title),
                    doc_id=stored.get("doc_id"),
                )
            )
        return SearchResults(
            query=parsed.text, total=total, page=page, pages=max(1, -(-total // limit)), limit=limit, sort=sort,
            suggestion=None, corrected=False, seconds=0.0, results=hits,
            tags=_top(tag_counts) if facets else None,
            years=[FacetCount(y, c) for y, c in sorted(year_counts.items(), reverse=True)] if facets else None,
        )

    def _facet_counts(self, dated: list[tuple[float, int]], tagged: list[tuple[float, int]]) -> tuple[Counter, Counter]:
        """Categories of the documents in `dated` and years of those in `tagged`, counted in
        C (`Counter` over `map`): a broad query matches thousands of documents."""
        dates, tags_of = self._maps()
        keys, years = self._facet_keys()
        by_key = Counter(map(keys.__getitem__, (d for _, d in dated)))
        tag_counts: Counter = Counter()
        for key, count in by_key.items():
            for tag in tags_of[key]:
                tag_counts[tag] += count
        year_counts = Counter(map(years.__getitem__, (d for _, d in tagged)))
        year_counts.pop("", None)  # undated documents have no year
        return tag_counts, year_counts

    def _facet_keys(self) -> tuple[list[int], list[str]]:
        """For each document, the number of the first document with the same tags (so that
        documents are counted by tag set, and each set expanded once), and its year."""
        if self._facet_keys_cache is None:
            dates, tags_of = self._maps()
            first: dict[tuple[str, ...], int] = {}
            keys = [first.setdefault(tuple(tags), docnum) for docnum, tags in enumerate(tags_of)]
            self._facet_keys_cache = (keys, [date[:4] if date else "" for date in dates])
        return self._facet_keys_cache

    def _maps(self) -> tuple[list[str], list[list[str]]]:
        """Each document's date and tags by document number, read once per generation."""
        if self._facet_maps is None:
            reader = self._searcher.reader()
            size = reader.doc_count_all()
            dates = list(reader.column_reader("date")) if reader.has_column("date") else [""] * size
            tags_of: list[list[str]] = [[] for _ in range(size)]
            for tag in reader.lexicon("tags"):
                value = tag.decode("utf-8") if isinstance(tag, bytes) else tag
                for docnum in reader.postings("tags", tag).all_ids():
                    tags_of[docnum].append(value)
            self._facet_maps = (dates, tags_of)
        return self._facet_maps

    def mark(self, text: str, query_text: str) -> list[list[int]]:
        """The [start, end) offsets in `text` of the words `query_text` matches, read as
        `search` reads it; [] when the query cannot be read."""
        try:
            parsed = self.reader.read(query_text, self._searcher.reader())
        except QueryError:
            return []
        return Marker(parsed.stems, parsed.phrases).spans(text)

    # --- Spelling --------------------------------------------------------------------------

    def suggest(self, text: str) -> str | None:
        """The query with each word the archive lacks replaced by its nearest common word
        (`Kishda` -> `Kishida`), or None when every word is known."""
        reader = self._searcher.reader()
        pieces: list[str] = []
        last = 0
        changed = False
        for match in TOKEN_RE.finditer(text):
            token = match.group()
            if token in _OPERATORS or text[match.end() : match.end() + 1] in (":", "*", "~"):
                continue
            word = normalize(token)
            if is_stop(word) or word.isdigit() or any(c.isdigit() for c in word):
                continue
            stemmed = stem(word)
            if reader.doc_frequency("body", stemmed) or reader.doc_frequency("title", stemmed):
                continue
            better = self._correct(word)
            if better:
                pieces.append(text[last : match.start()])
                pieces.append(_same_case(token, better))
                last = match.end()
                changed = True
        if not changed:
            return None
        pieces.append(text[last:])
        return "".join(pieces)

    def _correct(self, word: str) -> str | None:
        words = self.lexicon.words
        if not words or len(word) < 3:
            return None
        maxdist = 1 if len(word) <= 4 else 2
        corrector = _FrequencyCorrector(words, self.lexicon)
        found = corrector.suggest(word, limit=1, maxdist=maxdist, prefix=1)
        return found[0] if found else None

    # --- Documents -------------------------------------------------------------------------

    def document(self, path: str) -> Document:
        """One document as indexed, by its path; DocumentNotFound if the index lacks it."""
        docnum = self._docnum(path)
        stored = self._searcher.stored_fields(docnum)
        return Document(
            path=stored["path"],
            title=stored.get("title", ""),
            date=stored.get("date"),
            tags=_tags(stored),
            source_url=stored.get("source_url"),
            published_time=stored.get("published_time"),
            modified_time=stored.get("modified_time"),
            body=_body(stored),
            doc_id=stored.get("doc_id"),
        )

    def _docnum(self, path: str) -> int:
        if not isinstance(path, str) or not path or "\x00" in path:
            raise DocumentNotFound(str(path))
        try:
            path.encode("utf-8")
        except UnicodeEncodeError:  # undecodable bytes of a command-line argument: no indexed path has them
            raise DocumentNotFound(path) from None
        docnum = self._searcher.document_number(path=path)
        if docnum is None:
            raise DocumentNotFound(path)
        return docnum

    def similar(self, path: str, limit: int = 5) -> list[Hit]:
        """The documents most like one document: Whoosh's more-like-this over the body (its
        25 key terms, OR-ed with their weights), scored term at a time: the same ranking as
        `Searcher.more_like`, in a tenth of the time (185 -> 15 ms a document on the full
        archive), which matters because every document page shows it."""
        docnum = self._docnum(path)
        searcher = self._searcher
        text = _body(searcher.stored_fields(docnum))[:20000]  # the key terms are all in the first pages
        terms = searcher.key_terms_from_text("body", text, numterms=25, normalize=False)  # as more_like
        more_like = query.Or([query.Term("body", word, boost=weight) for word, weight in terms])
        matches = term_at_a_time(more_like, searcher) if terms else []
        if matches is None:  # not the plain query it should be: Whoosh's way
            found = searcher.more_like(docnum, "body", text=text, top=limit, numterms=25)
            best = [(hit.score, hit.docnum) for hit in found]
        else:
            best = best_first([m for m in matches if m[1] != docnum], limit)
        hits = []
        for rank, (score, number) in enumerate(best, start=1):
            stored = searcher.stored_fields(number)
            hits.append(Hit(
                rank=rank,
                path=stored["path"],
                title=stored.get("title", ""),
                date=stored.get("date"),
                tags=_tags(stored),
                source_url=stored.get("source_url"),
                score=_finite(score or 0.0),
                snippet=Snippet(""),
                doc_id=stored.get("doc_id"),
            ))
        return hits

    def overview(self) -> ArchiveOverview:
        """What the archive holds: documents, date range, categories."""
        dates, tags_of = self._maps()
        reader = self._searcher.reader()
        live = [d for d in range(len(dates)) if not reader.is_deleted(d)]
        known = sorted(dates[d] for d in live if dates[d])
        counts = Counter(tag for d in live for tag in tags_of[d])
        return ArchiveOverview(
            documents=len(live),
            first_date=known[0] if known else None,
            last_date=known[-1] if known else None,
            tags=_top(counts),
            built=self.meta.get("built"),
        )


_lexicons: dict[tuple, Lexicon] = {}
_lexicons_lock = threading.Lock()


def _shared_lexicon(path: Path) -> Lexicon:
    """One Lexicon (7 MB for the full archive, once loaded) per generation and process,
    shared by its threads: it is only read. It is known by the file's identity, not only its
    path (a deleted and rebuilt index reuses the names); the two most recent are kept."""
    try:
        st = os.stat(path)
        key = (os.fspath(path), st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)
    except OSError:
        return Lexicon(path)  # none to share: it reads as empty
    with _lexicons_lock:
        lexicon = _lexicons.get(key)
        if lexicon is None:
            lexicon = _lexicons[key] = Lexicon(path)
            while len(_lexicons) > 2:
                del _lexicons[next(iter(_lexicons))]
        return lexicon


class _FrequencyCorrector(ListCorrector):
    """Whoosh's list corrector, ranking by edit distance, then by how common the word is."""

    def __init__(self, words: list[str], lexicon: Lexicon):
        super().__init__(words)
        self.lexicon = lexicon

    def _suggestions(self, text, maxdist, prefix):
        for score, word in super()._suggestions(text, maxdist, prefix):
            yield score + min(self.lexicon.count(word), 10**6) / 10**7, word

    class Skipper:
        """The first word of the list at or after a string, for Whoosh's automaton walk.
        Whoosh's own steps past the list's first word before it looks, so the alphabetically
        first word of an archive could never be suggested."""

        def __init__(self, data: list[str]):
            self.data = data
            self.i = 0

        def __call__(self, w: str) -> str | None:
            self.i = bisect_left(self.data, w, self.i)
            return self.data[self.i] if self.i < len(self.data) else None


@dataclass(frozen=True)
class _Filters:
    """The tag and date filters of a search, tested against each matched document."""

    tags: frozenset[str]
    since: str | None
    until: str | None

    @property
    def active(self) -> bool:
        return bool(self.tags) or self.since is not None or self.until is not None

    def tags_ok(self, tags: list[str]) -> bool:
        return not self.tags or any(t in self.tags for t in tags)

    def date_ok(self, date: str) -> bool:
        if self.since is None and self.until is None:
            return True
        return bool(date) and (self.since is None or date >= self.since) and (self.until is None or date <= self.until)


class _TimedCollector(UnlimitedCollector):
    """Whoosh's collector of every match, checking the deadline as it goes."""

    def collect(self, sub_docnum):
        self._seen = getattr(self, "_seen", 0) + 1
        if not self._seen & 1023:
            deadlines.check()
        return super().collect(sub_docnum)


def _top(counts: Counter) -> list[FacetCount]:
    """The commonest values first, at most MAX_FACET_VALUES: a hostile archive's thousands of
    tags must not make every page enormous."""
    best = heapq.nsmallest(MAX_FACET_VALUES, counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [FacetCount(value, count) for value, count in best]


def _finite(score: float) -> float:
    """A score as JSON can carry it: boosts are bounded, so this is only a last guard."""
    value = float(score)
    return round(value, 4) if math.isfinite(value) else 0.0


_OPERATORS = ("AND", "OR", "NOT", "ANDNOT", "ANDMAYBE")  # Whoosh's, in capitals: never "corrected"

_INVERT = str.maketrans("0123456789", "9876543210")


def _inverted(date: str) -> str:
    """A YYYY-MM-DD date whose order is reversed, so one descending sort serves both orders."""
    return date.translate(_INVERT)


def _check_day(value: str | None, name: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise QueryError(f"{name} must be a date as YYYY-MM-DD, not {str(value)[:30]!r}")
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        raise QueryError(f"{name} {value} is not a real date") from None
    return value


def _same_case(original: str, word: str) -> str:
    if original.isupper() and len(original) > 1:
        return word.upper()
    if original[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def _tags(stored: dict) -> list[str]:
    value = stored.get("tags") or ""
    return [t for t in value.split(",") if t]


def _body(stored: dict) -> str:
    content = stored.get("content")
    return zlib.decompress(content).decode("utf-8") if content else ""
