"""Answering queries: ranked, filtered, sorted, paged results with snippets and suggestions.

`open_index` gives a `SearchIndex`, which keeps one Whoosh searcher open and notices when a
rebuild has swapped in a new generation. The CLI, the batch runner and the web app all search
through `SearchIndex.search`, so they rank identically.

A search reads the query (`querying`), checks its cost against the work budget, plans it
(`plan`) and scores every match term at a time (`executor`); the filters, facet counts and date
order are array operations on the matches (`columns`); the page's hits get their snippets
(`highlighting`).
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import index as whoosh_index
from whoosh import query

from . import deadline as deadlines
from . import executor, lexicon, storage, trends
from .columns import Columns, Filters, shared_columns, shared_groups
from .documents import Document
from .duplicates import Groups
from .errors import DocumentNotFound, IndexDamaged, QueryError, QueryTooCostly
from .facets import declared
from .highlighting import Marker, Snippet
from .narrowing import Selection, check_filters, select, year_facet
from .plan import Node, cost, describe, make_plan
from .postings import check_codec, forget_other_generations, length_bytes, read_field_stats
from .querying import ParsedQuery, QueryReader
from .ranking import Ranking
from .results import ArchiveOverview, Hit, SearchResults, finite, first_value, stored_body, stored_document, stored_tags, top_counts
from .scoring import Weighting, key_terms
from .settings import DEFAULT_LIMIT, MAX_LIMIT, WorkBudget

SORTS = ("relevance", "newest", "oldest")


def open_index(path: Path, budget: WorkBudget | None = None, ranking: Ranking | None = None) -> "SearchIndex":
    """Open the index at `path` (the folder `search index` writes). `budget` bounds what one
    search may cost (the default: `WorkBudget()`, with no deadline); `ranking` sets how
    documents are ranked (the default: `Ranking()`; its index-time settings must be the
    index's)."""
    return SearchIndex(path, budget, ranking)


class SearchIndex:
    """An open index. Not shared between threads: give each thread its own."""

    def __init__(self, root: Path, budget: WorkBudget | None = None, ranking: Ranking | None = None):
        self.root = Path(root)
        self.budget = budget or WorkBudget()
        self.ranking = ranking or Ranking()
        self._searcher: Any = None
        check_codec()
        self._open()

    def _open(self) -> None:
        generation = storage.current_generation(self.root)
        self.ranking.check_index(generation.meta.get("ranking"), str(self.root))
        try:
            ix = whoosh_index.open_dir(str(generation.path))
            searcher = ix.searcher(weighting=Weighting(self.ranking))
        except Exception as exc:  # Whoosh raises many kinds on damaged files
            raise IndexDamaged(self.root, f"{exc.__class__.__name__}: {exc}"[:200]) from None
        if self._searcher is not None:
            self._searcher.close()
        forget_other_generations(generation.path)
        self.generation = generation.path.name
        self.meta = generation.meta
        self._searcher = searcher
        self.schema = ix.schema
        self.facet_keys = declared(ix.schema)  # the declared facets (search index --facet)
        self.lexicon = lexicon.shared_lexicon(generation.path)
        self.reader = QueryReader(self.schema, self.lexicon, self.budget, self.ranking)
        self._columns: Columns | None = None
        self._groups: Groups | None = None

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

    @property
    def searcher(self):
        """The open Whoosh searcher (for tests and the reference path)."""
        return self._searcher

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
        explain: bool = False,
        exact: bool = False,
        deadline: deadlines.Deadline | None = None,
        speakers: list[str] | tuple[str, ...] = (),
        collections: list[str] | tuple[str, ...] = (),
        filters: Mapping[str, Sequence[str]] | None = None,
        keep_duplicates: bool = False,
        timeline: bool = False,
    ) -> SearchResults:
        """Run one query. Raises QueryError for a query or an option that cannot be read (and
        QueryTooCostly, one of them, for a query past the work budget), and QueryTimeout when
        the search passes its deadline: `deadline`, else the budget's `seconds`. With
        `explain`, the results say how the query was read and how each score was made. A query
        that finds nothing runs again as its suggestion, unless `exact`. `speakers` narrows the
        words to what those people said, as `speaker:NAME` does; `collections` and `filters`
        (declared facets' values, as {"president": ["Abraham Lincoln"]}) narrow the documents,
        as `collection:NAME` and `president:"Abraham Lincoln"` do. Copies of one document are
        shown once, unless `keep_duplicates`. With `timeline`, the results count the matches by
        period (`trends`), from the same matches as `total`."""
        if deadline is None:
            deadline = deadlines.current() or (deadlines.Deadline(self.budget.seconds) if self.budget.seconds else None)
        with deadlines.running(deadline):
            started = time.perf_counter()
            if sort not in SORTS:
                raise QueryError(f"unknown sort {sort!r}; use one of: {', '.join(SORTS)}")
            _check_page(page, limit)
            wanted, hints = check_filters(self._searcher.reader(), tags, since, until, collections, filters)
            parsed, postings = self._read(text, speakers)
            costly = postings > self.budget.costly_postings or parsed.expanded > self.budget.costly_words
            run = functools.partial(self._run, wanted=wanted, sort=sort, page=page, limit=limit, facets=facets,
                                    snippets=snippets, explain=explain, fold=not keep_duplicates, timeline=timeline)
            with deadline.admitted(costly) if deadline is not None else contextlib.nullcontext():
                results = run(parsed)
                suggestion = self.suggest(text)
                corrected = False
                if results.total == 0 and suggestion and not exact:
                    try:
                        retry, _ = self._read(suggestion, speakers)
                    except QueryError:
                        retry = None
                    if retry is not None:
                        again = run(retry)
                        if again.total:
                            results, corrected = again, True
            results.query = text
            results.suggestion = suggestion
            results.corrected = corrected
            results.search_instead = text if corrected else None
            results.hints = hints + parsed.hints
            if results.timeline is not None:  # named as typed (the parsed text has its speaker: words)
                results.timeline.series[0].query = results.suggestion if corrected and results.suggestion else text
            results.seconds = round(time.perf_counter() - started, 4)
            return results

    def browse(self, *, tags: list[str] | tuple[str, ...] = (), since: str | None = None, until: str | None = None,
               collections: list[str] | tuple[str, ...] = (), filters: Mapping[str, Sequence[str]] | None = None,
               page: int = 1, limit: int = DEFAULT_LIMIT, facets: bool = False, timeline: bool = False,
               keep_duplicates: bool = False) -> SearchResults:
        """Every document within the filters, newest first: the search page without words."""
        _check_page(page, limit)
        started = time.perf_counter()
        wanted, hints = check_filters(self._searcher.reader(), tags, since, until, collections, filters)
        results = self._run(None, wanted=wanted, sort="newest", page=page, limit=limit, facets=facets, snippets=True,
                            explain=False, fold=not keep_duplicates, timeline=timeline)
        results.hints = hints
        results.seconds = round(time.perf_counter() - started, 4)
        return results

    def trends(self, texts: list[str] | tuple[str, ...], *, tags: list[str] | tuple[str, ...] = (),
               since: str | None = None, until: str | None = None, speakers: list[str] | tuple[str, ...] = (),
               collections: list[str] | tuple[str, ...] = (), filters: Mapping[str, Sequence[str]] | None = None,
               by: str | None = None) -> trends.Trend:
        """Each search's matches by month, year or decade (`by`; chosen from their span when
        None), on one axis: the documents its `total` counts. An empty text counts every
        document within the filters."""
        if not 1 <= len(texts) <= trends.MAX_QUERIES:
            raise QueryError(f"a trend compares 1 to {trends.MAX_QUERIES} searches, not {len(texts)}")
        trends.check_by(by)
        wanted, _ = check_filters(self._searcher.reader(), tags, since, until, collections, filters)
        read = [self._read(text, speakers) if text else (None, 0) for text in texts]
        costly = any(p is not None and (n > self.budget.costly_postings or p.expanded > self.budget.costly_words) for p, n in read)
        deadline = deadlines.current()
        with deadline.admitted(costly) if deadline is not None else contextlib.nullcontext():  # as search() is
            chosen = [self._select(p, wanted, "relevance", False) for p, _ in read]
        group = next((c.group for c in chosen if c.group is not None), None)  # when the archive has copies
        matched = [c.counted.docnums for c in chosen]
        return trends.build(texts, matched, self.columns(), by, group)

    def _read(self, text: str, speakers: list[str] | tuple[str, ...] = ()) -> tuple[ParsedQuery, int]:
        """The query read, and its cost: the postings it will read, checked against the
        budget before any is read."""
        reader = self._searcher.reader()
        parsed = self.reader.read(text, reader, speakers)
        postings = cost(parsed.query, reader)
        if postings > self.budget.postings:
            raise QueryTooCostly(
                f"the query would read {postings:,} postings, more than the {self.budget.postings:,} one search may; "
                "use fewer or rarer words"
            )
        return parsed, postings

    def matches(self, q: query.Query) -> executor.Matches:
        """Every match of a query, scored: by the executor, or by Whoosh's own matchers for a
        query it cannot plan."""
        return self._scored(q)[1]

    def _scored(self, q: query.Query) -> tuple[Node | None, executor.Matches]:
        plan = make_plan(q, self._searcher, self.ranking)
        if plan is not None:
            return plan, executor.run(plan, self._searcher)
        # Every match, not Whoosh's top N: its collector prunes sub-matchers that can no longer
        # reach the top, and its count then misses their documents.
        collector = deadlines.TimedCollector()
        self._searcher.search_with_collector(q, collector)
        found = sorted((docnum, score) for score, docnum in collector.results().top_n)
        return None, executor.Matches(np.array([d for d, _ in found], dtype=np.int64), np.array([s for _, s in found], dtype=np.float64))

    def _run(self, parsed: ParsedQuery | None, *, wanted: Filters, sort: str, page: int, limit: int, facets: bool,
             snippets: bool, explain: bool, fold: bool, timeline: bool = False) -> SearchResults:
        """One scored pass over every match; filters, counts and date order are then applied to
        the matched documents, so the total and the facets cost no second query."""
        chosen = self._select(parsed, wanted, sort, facets, fold)
        matches, counts = chosen.matches, chosen.counts
        total = len(matches)
        first = (page - 1) * limit
        if sort == "relevance":
            order = executor.best(matches, page * limit) if first < total else np.zeros(0, np.int64)
        else:
            order = self.columns().date_order(matches.docnums, matches.scores, newest=sort == "newest")
        marker = Marker(parsed.stems, parsed.phrases) if parsed is not None else Marker(set(), set())
        marker.speakers = frozenset(parsed.named_speakers) if parsed is not None else frozenset()
        plan = make_plan(parsed.query, self._searcher, self.ranking) if explain and parsed is not None else None
        hits = []
        for rank, position in enumerate(order[first : first + limit], start=first + 1):
            deadlines.check()
            docnum = int(matches.docnums[position])
            hit = self._hit(rank, docnum, float(matches.scores[position]), marker if snippets else None, marker)
            if plan is not None:
                hit.explanation = executor.explain(plan, self._searcher, docnum)
            hits.append(hit)
        return SearchResults(
            query=parsed.text if parsed is not None else "", total=total, page=page, pages=max(1, -(-total // limit)), limit=limit, sort=sort,
            suggestion=None, corrected=False, seconds=0.0, results=hits,
            tags=top_counts(counts["tags"]) if facets else None,
            years=year_facet(counts["years"], wanted) if facets else None,
            speakers=top_counts(counts.get("speaker", Counter())) if facets else None,
            collections=top_counts(counts["collection"]) if facets and "collection" in counts else None,
            facets={k: top_counts(counts[k]) for k in self.facet_keys} if facets else None,
            folded=chosen.folded,
            reading=((describe(plan) if plan is not None else [str(parsed.query)]) + _left_out(parsed))
            if explain and parsed is not None else None,
            note=chosen.note,
            timeline=trends.build([parsed.text if parsed is not None else ""], [chosen.counted.docnums],
                                  self.columns(), group=chosen.group) if timeline else None,
        )

    def _select(self, parsed: ParsedQuery | None, wanted: Filters, sort: str, facets: bool, fold: bool = True) -> Selection:
        """The documents a search finds, scored, after its filters and with copies folded: what
        its `total` counts (and a trend over time counts by period), with the facet counts when
        asked (narrowing.py). With no query (None): every live document, scored 0, for browsing."""
        plan, matches = self._scored(parsed.query) if parsed is not None else (None, self._every())
        note = None
        if sort != "relevance" and plan is not None:
            matches, note = self._every_word(plan, matches)
        chosen = select(self.columns, matches, wanted, self._searcher.reader(), facets, self.groups() if fold else None)
        chosen.note = note
        return chosen

    def _every(self) -> executor.Matches:
        docnums = np.flatnonzero(self.columns().live).astype(np.int64)
        return executor.Matches(docnums, np.zeros(len(docnums), np.float64))

    def _every_word(self, plan: Node, matches: executor.Matches) -> tuple[executor.Matches, str | None]:
        """Sorted by date, plain words mean every word: an OR of them would list, newest first,
        any document with any one of them. The documents with every word (an alias or a form
        of a word counting as the word) are kept; when none has them all, those with the most,
        with a note saying so."""
        covered = executor.coverage(plan, self._searcher)
        if covered is None:
            return matches, None
        held, words = covered
        inside = np.isin(held.docnums, matches.docnums)
        if not inside.any():
            return matches, None
        most = int(held.scores[inside].max())
        keep = np.isin(matches.docnums, held.docnums[inside & (held.scores == most)])
        note = None if most == words else f"No document has all {words} of the words; these have {most} of them."
        return executor.Matches(matches.docnums[keep], matches.scores[keep]), note

    def _hit(self, rank: int, docnum: int, score: float, snippets: Marker | None, titles: Marker | None) -> Hit:
        """A result, from the document's stored fields: the one place a Hit is made."""
        stored = self._searcher.stored_fields(docnum)
        title = stored.get("title", "")
        snippet = snippets.snippet(stored_body(stored), stored.get("turns"), snippets.speakers) if snippets is not None \
            else Snippet("")
        return Hit(
            rank=rank,
            path=stored["path"],
            title=title,
            date=stored.get("date"),
            tags=stored_tags(stored),
            source_url=stored.get("source_url"),
            score=finite(score),
            snippet=snippet,
            title_matches=titles.spans(title) if titles is not None else [],
            doc_id=stored.get("doc_id"),
            speaker=snippet.speaker,
            collection=first_value(stored.get("collection")),
            copies=self._copies(docnum),
            facets={k: list(stored.get(k) or ()) for k in self.facet_keys},
        )

    def _copies(self, docnum: int) -> list[str]:
        """The paths of a document's copies, in path order."""
        groups = self.groups()
        return sorted(self._searcher.stored_fields(d)["path"] for d in groups.copies(docnum)) if groups.any else []

    def warm(self) -> None:
        """Read now what the first searches would otherwise read one at a time: the dates and
        categories, the text fields' term statistics and lengths (a server's worker does this
        as it starts, so that its first requests do not wait for it)."""
        self.columns()
        for sub, _ in self._searcher.leaf_searchers():
            reader = sub.reader()
            for fieldname in ("title", "body", "tags"):
                if fieldname in reader.schema:
                    read_field_stats(reader, fieldname)
                    length_bytes(reader, fieldname)

    def columns(self) -> Columns:
        """Each document's date and categories, read once per generation and process (the
        threads of a server share them)."""
        if self._columns is None:
            self._columns = shared_columns(self.root / self.generation, self._searcher.reader())
        return self._columns

    def groups(self) -> Groups:
        """The generation's groups of copies (duplicates.py), read once per process."""
        if self._groups is None:
            self._groups = shared_groups(self.root / self.generation, self._searcher.reader())
        return self._groups

    def mark(self, text: str, query_text: str) -> list[list[int]]:
        """The [start, end) offsets in `text` of the words `query_text` matches, read as
        `search` reads it; [] when the query cannot be read."""
        try:
            parsed = self.reader.read(query_text, self._searcher.reader())
        except QueryError:
            return []
        return Marker(parsed.stems, parsed.phrases).spans(text)

    def suggest(self, text: str) -> str | None:
        """The query with each word the archive lacks replaced by its nearest common word
        (`Kishda` -> `Kishida`), and a rare spelling by a far more common one (`Zelensky` ->
        `Zelenskyy`); None when there is nothing to change. A word an alias stands in for is
        known when the alias is in the archive (`DPRK`, with "North Korea" there: not `DARK`)."""
        return lexicon.suggest_in(self._searcher.reader(), text, self.lexicon, self.reader.alias_stems)

    # --- Documents -------------------------------------------------------------------------

    def document(self, path: str) -> Document:
        """One document as indexed, by its path; DocumentNotFound if the index lacks it."""
        docnum = self._docnum(path)
        return stored_document(self._searcher.stored_fields(docnum), self.facet_keys, self._copies(docnum))

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
        25 key terms, OR-ed with their weights), scored by the executor: the same ranking as
        `Searcher.more_like` (a test checks), which every document page shows."""
        docnum = self._docnum(path)
        searcher = self._searcher
        text = stored_body(searcher.stored_fields(docnum))[:20000]  # the key terms are all in the first pages
        terms = key_terms(searcher, "body", text, 25)  # as more_like
        if not terms:
            return []
        found = self.matches(query.Or([query.Term("body", word, boost=weight) for word, weight in terms]))
        groups = self.groups()
        others = groups.group[found.docnums] != groups.group[docnum]  # never the document or a copy of it
        found = executor.Matches(found.docnums[others], found.scores[others])
        kept = groups.fold(found.docnums, found.scores)  # and each other document once
        found = executor.Matches(found.docnums[kept], found.scores[kept])
        order = executor.best(found, limit)[:limit]
        return [self._hit(rank, int(found.docnums[p]), float(found.scores[p]), None, None)
                for rank, p in enumerate(order, start=1)]

    def overview(self) -> ArchiveOverview:
        """What the archive holds: documents, date range, categories, collections, facets."""
        from .describe import overview

        return overview(self)


def _check_page(page: int, limit: int) -> None:
    if not isinstance(page, int) or page < 1:
        raise QueryError("page must be a positive whole number")
    if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise QueryError(f"limit must be between 1 and {MAX_LIMIT}")


def _left_out(parsed: ParsedQuery) -> list[str]:
    if not parsed.dropped:
        return []
    why = "the framing of a question" if parsed.question else "the ranking's stop words"
    return [f"left out, as {why}: {', '.join(parsed.dropped)}"]
