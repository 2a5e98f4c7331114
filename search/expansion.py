"""Words that stand for many words: prefixes (`immigra*`), wildcards and fuzzy words (`Kishda~`),
expanded through the archive's own word list, and their count against the work budget.

`Expansions` is the part of the query reader (`querying.QueryReader`) that does it: an
expansion that would be too large is refused with a message before any posting is read.
"""

from __future__ import annotations

import fnmatch
import re
from typing import TYPE_CHECKING, Any

from whoosh import query
from whoosh.support.levenshtein import damerau_levenshtein

from .analysis import is_stop, normalize, stem
from .errors import QueryError, QueryTooCostly
from .syntax import TEXT

if TYPE_CHECKING:
    from .querying import ParsedQuery

MAX_EXPANSION = 500  # words a prefix, wildcard or fuzzy term may stand for
MAX_FUZZY_DISTANCE = 2
MAX_FUZZY_WORD = 30


class Expansions:
    """Prefixes, wildcards and fuzzy words, for a reader with `lexicon`, `ranking` and `budget`."""

    lexicon: Any
    ranking: Any
    budget: Any

    def _expand(self, q: query.Query, reader, out: ParsedQuery, negated: bool) -> query.Query:
        """A prefix or wildcard becomes an OR of the stems of the archive's matching words. Stars
        with no letter (`**` in pasted Markdown, a footnote's `*`) are punctuation."""
        pattern = normalize(q.text)
        if not any(c.isalnum() for c in pattern):
            return query.NullQuery
        is_prefix = isinstance(q, query.Prefix)
        shown = q.text + ("*" if is_prefix else "")
        fields = ("title", "body", "tags") if q.fieldname == TEXT else (q.fieldname,)
        clauses: list[query.Query] = []
        if "tags" in fields:
            matcher = re.compile(fnmatch.translate(pattern + ("*" if is_prefix else "")))
            values = [v.decode() if isinstance(v, bytes) else v for v in reader.lexicon("tags")]
            clauses += [query.Term("tags", v, boost=self.ranking.tags_weight) for v in values if matcher.match(v)]
        text_fields = [f for f in fields if f in ("title", "body")]
        if text_fields:
            if is_prefix:
                if len(pattern) < 2:
                    raise QueryError(f"'{shown}' is too short a prefix; give at least two letters before the *")
                words = self.lexicon.with_prefix(pattern)
            else:
                literal = pattern.split("*", 1)[0]
                if len(literal) < 2:
                    raise QueryError(f"'{shown}' needs at least two letters before its first *")
                matcher = re.compile(fnmatch.translate(pattern))
                words = [w for w in self.lexicon.with_prefix(literal) if matcher.match(w)]
            if len(words) > 20 * MAX_EXPANSION:  # refused before stemming them all
                raise QueryError(f"'{shown}' matches too many words ({len(words):,}); make it longer")
            stems = sorted({stem(w) for w in words if not is_stop(w)})
            if len(stems) > MAX_EXPANSION:
                raise QueryError(f"'{shown}' matches too many words ({len(stems)}); make it longer")
            self._spend(out, len(stems))
            if not negated:
                out.stems.update(stems)
            for field in text_fields:
                clauses += [query.Term(field, s, boost=self.ranking.field_weight(field)) for s in stems]
        return query.Or(clauses, boost=q.boost).normalize() if clauses else query.NullQuery

    def _fuzzy(self, q: query.FuzzyTerm, reader, out: ParsedQuery, negated: bool) -> query.Query:
        """word~ and word~2: an OR of the stems of the archive's words at most two edits away
        that share the word's first letter (or its first N, with word~2/N); `tags:word~`, of
        the categories that are.

        The words come from the in-memory lexicon (`Lexicon.near`), not from Whoosh's
        FuzzyTerm: that walks a Levenshtein automaton over the on-disk term table in pure
        Python, about half a second a word on the full archive (2 s for four)."""
        word = normalize(q.text)
        if len(word) > MAX_FUZZY_WORD:
            raise QueryError(f"'{q.text[:20]}...~' is too long a word for a fuzzy search")
        out.fuzzy += 1
        if out.fuzzy > self.budget.fuzzy_words:
            raise QueryTooCostly(
                f"the query has more than {self.budget.fuzzy_words} fuzzy words (word~); use fewer"
            )
        maxdist = min(q.maxdist, MAX_FUZZY_DISTANCE)
        prefix = word[: max(q.prefixlength, 1)]
        weights_of_edits = self.ranking.fuzzy_weights
        if q.fieldname == "tags":
            values = [v.decode() if isinstance(v, bytes) else v for v in reader.lexicon("tags")] if "tags" in reader.schema else []
            near = [v for v in values if v.startswith(prefix) and damerau_levenshtein(word, v, maxdist) <= maxdist]
            self._spend(out, len(near))
            tags = [query.Term("tags", v, boost=self.ranking.tags_weight) for v in near]
            return query.Or(tags, boost=q.boost).normalize() if tags else query.Term("tags", word)
        fields = ("title", "body") if q.fieldname == TEXT else (q.fieldname,)
        # Each stem weighs by its closest word: the word as typed counts fully, a word an edit
        # or two away less, so that a rare misspelling does not outrank the word itself.
        weights: dict[str, float] = {stem(word): weights_of_edits[0]} if self.lexicon.count(word) else {}
        for candidate, distance in self.lexicon.near(word, maxdist, prefix).items():
            key = stem(candidate)
            weights[key] = max(weights.get(key, 0.0), weights_of_edits[distance])
        if len(weights) > MAX_EXPANSION:
            raise QueryError(f"'{q.text}~' matches too many words ({len(weights)}); make it longer")
        self._spend(out, len(weights))
        if not weights:  # no such word: a term that finds nothing, not "no words to search for"
            weights = {stem(word): 1.0}
        if not negated:
            out.stems.update(weights)
        clauses = [
            query.Term(f, s, boost=self.ranking.field_weight(f) * w) for f in fields for s, w in sorted(weights.items())
        ]
        return query.Or(clauses, boost=q.boost).normalize()

    def _spend(self, out: ParsedQuery, words: int) -> None:
        """Count what one prefix, wildcard or fuzzy word expanded to against the budget, and
        refuse the query as soon as they stand for too many words together."""
        out.expanded += words
        if out.expanded > self.budget.expanded_words:
            raise QueryTooCostly(
                f"the query's prefixes, wildcards and fuzzy words stand for more than "
                f"{self.budget.expanded_words:,} words together; use fewer of them, or longer ones"
            )
