"""How the text typed in a search box becomes a Whoosh query.

Whoosh's own query parser reads the syntax (phrases, AND/OR/NOT, -word, +word, parentheses,
field:, word*, word~, ranges), as `syntax.py` configures it; this module rewrites the tree:

- Plain words are joined by OR, so a natural-language query never comes back empty because
  one word is absent; documents that match every word get a bonus, so they rank first.
- A plain word is one BM25F term over title and body (`queries.FieldsTerm`), plus a smaller
  title-only score; a word that is also a category name matches the category too. The weights
  come from the `Ranking` the reader is given.
- `?`, `:` after a word that is not a field, and a `-` inside a word (COVID-19) are ordinary
  text, so natural-language questions read as words.
- Phrases allow for the stop words the index leaves out ("Department of State").
- `date:` takes a year, a month or a day, and ranges of them, matched exactly.
- Prefixes and wildcards expand through the archive's own word list, so `immigra*` finds
  "immigrants" even though the index holds the stem "immigr"; an expansion that would be
  too large is refused with a message.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from whoosh import query

from .aliases import alias_table
from .analysis import is_stop, normalize, text_analyzer
from .errors import QueryError
from .expansion import Expansions
from .facets import TermMatch, ValueSet, choose, field_values, hint, value_fields
from .lexicon import Lexicon
from .periods import with_period_bonus
from .plan import could_match
from .postings import frequency
from .queries import AllWordsBonus, Concept, Excluding, FieldPresent, FieldsTerm, SpokenWord
from .ranking import Ranking
from .settings import MAX_BOOST, WorkBudget
from .spoken import asked_about, named_speakers, where_they_speak
from .syntax import TEXT, NaturalOr, TextPhrase, check_fields, date_query, make_parser, operators_as_words, search_fields

# A question: it starts with a question word, or ends with a question mark.
_QUESTION = re.compile(r"^\W*(?:what|when|where|who|whom|whose|why|how|which)\b|\?\W*$", re.IGNORECASE)

_SPEAKER_FIELD = re.compile(r"(?<![\w:])speaker:(?=\S)")
# A question of what someone said, and words that are an office, not a name.



@dataclass
class ParsedQuery:
    """A query ready to run, and what the rest of the search needs to know about it."""

    text: str
    query: query.Query
    stems: set[str] = field(default_factory=set)  # terms to mark wherever they occur
    phrases: set[tuple[str, ...]] = field(default_factory=set)  # terms to mark only together
    expanded: int = 0  # words that prefixes, wildcards and fuzzy words stand for, together
    fuzzy: int = 0  # fuzzy words
    typed: Counter = field(default_factory=Counter)  # how often each plain word (as its stems) was typed
    question: bool = False  # asked as a question: its framing words are left out
    dropped: list[str] = field(default_factory=list)  # plain words left out (a question's framing)
    speakers: list[str] = field(default_factory=list)  # while reading: the speakers whose words the plain words are
    named_speakers: list[str] = field(default_factory=list)  # every speaker the query named (speaker:, --speaker)
    hints: list[str] = field(default_factory=list)  # a value the query names that no document has, and the closest


class QueryReader(Expansions):
    """Reads search-box text into a `ParsedQuery` for one index."""

    def __init__(self, schema, lexicon: Lexicon, budget: WorkBudget | None = None, ranking: Ranking | None = None):
        self.schema = schema
        self.lexicon = lexicon
        self.budget = budget or WorkBudget()
        self.ranking = ranking or Ranking()
        self.analyzer = text_analyzer()
        self.parser = make_parser(schema)
        self.aliases = alias_table(self.analyzer)
        self.fields = search_fields(schema)
        self.value_fields = frozenset(value_fields(schema))
        # Fields whose clauses beside plain words narrow them, rather than add to their scores.
        self.filter_fields = frozenset({"date", "tags", "path", "source_url"}) | self.value_fields

    def alias_stems(self, stems: tuple[str, ...]) -> list[tuple[str, ...]]:
        """The stems of each other name of the alias group that `stems` name, if any."""
        return [tuple(t.text for t in self.analyzer(name, mode="query")) for name, _ in self.aliases.get(stems, [])]

    def read(self, text: str, reader, speakers: list[str] | tuple[str, ...] = ()) -> ParsedQuery:
        """`speakers` (names, as `--speaker` gives them) narrow the query to those people's
        words, as `speaker:NAME` typed beside the words does."""
        text = _CONTROL.sub(" ", text)
        if speakers:
            text = " ".join([text] + [f'speaker:"{name}"' for name in speakers])
        if "speaker" not in self.schema and _SPEAKER_FIELD.search(text):
            raise QueryError("this index has no speakers (it was built with --no-speakers); rebuild it without that option")
        if not text.strip():
            raise QueryError("the query is empty")
        check_fields(text, self.fields)
        try:
            typed = self.parser.parse(operators_as_words(text), normalize=False)
            parsed = typed.normalize()
        except RecursionError:
            raise QueryError("the query is nested too deeply") from None
        except Exception as exc:  # Whoosh's parser errors have no common base class
            raise QueryError(f"cannot read the query: {exc}") from None
        result = ParsedQuery(text, query.NullQuery, question=bool(_QUESTION.search(text)))
        self._count_typed(typed, result.typed)
        try:
            _check_boosts(parsed)
            result.query = self._rewrite(parsed, reader, result, negated=False)
        except RecursionError:
            raise QueryError("the query is nested too deeply") from None
        if result.query is query.NullQuery or isinstance(result.query, query.NullQuery.__class__):
            raise QueryError(
                "the query has no words to search for (very common words such as 'the' are not indexed)"
            )
        result.query = with_period_bonus(result.query, text, self.ranking.period_bonus)
        return result

    # The rewrite walks the parsed tree once, so each kind of node is handled in one place.

    def _rewrite(self, q: query.Query, reader, out: ParsedQuery, negated: bool) -> query.Query:
        if isinstance(q, query.Not):
            inner = self._rewrite(q.query, reader, out, True)
            return query.NullQuery if inner is query.NullQuery else query.Not(inner, boost=q.boost)
        if isinstance(q, query.AndNot):
            positive = self._rewrite(q.a, reader, out, negated)
            negative = self._rewrite(q.b, reader, out, True)
            if positive is query.NullQuery:
                return query.NullQuery
            return Excluding(positive, negative) if negative is not query.NullQuery else positive
        if isinstance(q, NaturalOr):
            return self._natural(q, reader, out, negated)
        if isinstance(q, Concept):
            return q  # built from rewritten clauses already
        if isinstance(q, query.BinaryQuery):  # AndMaybe, Require, Otherwise
            a = self._rewrite(q.a, reader, out, negated)
            b = self._rewrite(q.b, reader, out, negated)
            if a is query.NullQuery:
                return query.NullQuery if isinstance(q, query.Require) else b
            if b is query.NullQuery:
                return a
            return q.__class__(a, b)
        if isinstance(q, query.CompoundQuery):
            subs = [s for s in (self._rewrite(s, reader, out, negated) for s in q.subqueries) if s is not query.NullQuery]
            return q.__class__(subs, boost=q.boost).normalize() if subs else query.NullQuery
        fieldname = getattr(q, "fieldname", None)
        if fieldname == "date":
            return date_query(q)
        if isinstance(q, query.TermRange):  # title:[a to z] would stand for every word between
            raise QueryError("a range [... to ...] works on date: only, as in date:[2024-07-01 to 2024-07-31]")
        if isinstance(q, query.Every):
            if fieldname is not None and fieldname in self.schema.names():
                return FieldPresent(fieldname, boost=q.boost)
            return query.NullQuery  # `*` alone names no field: nothing to search for
        if fieldname in self.value_fields or fieldname in ("path", "source_url"):
            return self._values(q, reader, out, negated)
        if isinstance(q, TextPhrase):
            return self._word(q.words[0], q.boost, out, negated, slop=q.slop)
        if isinstance(q, query.FuzzyTerm):
            return self._fuzzy(q, reader, out, negated)
        if isinstance(q, (query.Prefix, query.Wildcard)):
            return self._expand(q, reader, out, negated)
        if fieldname == TEXT:
            if type(q) is query.Term:  # a lone word: read as a one-word natural query, aliases and all
                return self._natural(NaturalOr([q]), reader, out, negated)
            return query.NullQuery  # a range without a field means nothing here
        if fieldname == "speaker" and isinstance(q, query.Term):
            names = named_speakers(q.text, reader)
            if not negated:
                out.named_speakers = sorted(set(out.named_speakers) | set(names))
            return where_they_speak(names)
        if isinstance(q, query.Phrase):
            if not negated:
                out.phrases.add(tuple(q.words))
            return q
        if isinstance(q, query.Term):
            if not negated and fieldname in ("title", "body"):
                out.stems.add(q.text)
            if fieldname == "tags" and not negated and not frequency(reader, "tags", q.text):
                out.hints.append(hint("category", field_values(reader, "tags"), q.text))
            return q
        return q

    def _values(self, q: query.Query, reader, out: ParsedQuery, negated: bool) -> query.Query:
        """`collection:NAME`, a declared facet's `KEY:value` (any case; `president:Lincoln`
        chooses "Abraham Lincoln"), `path:` and `source_url:` as written, and any of them with
        `*`: a filter. A value no document has finds nothing, with a hint."""
        fieldname = q.fieldname
        if isinstance(q, (query.Prefix, query.Wildcard)):
            return TermMatch(fieldname, q.text + ("*" if isinstance(q, query.Prefix) else ""), boost=q.boost)
        if not isinstance(q, query.Term):
            raise QueryError(f"{fieldname}: takes a value, a quoted value or a value with *, as in {fieldname}:\"...\"")
        if fieldname not in self.value_fields:
            return q  # path: and source_url: match the whole text
        known = field_values(reader, fieldname)
        chosen = choose(known, q.text)
        if not chosen and not negated:
            out.hints.append(hint(fieldname, known, q.text))
        return ValueSet(fieldname, tuple(chosen), boost=q.boost)

    def _natural(self, q: NaturalOr, reader, out: ParsedQuery, negated: bool) -> query.Query:
        """Plain words joined by OR, with aliases, the all-words bonus, NOT and filters; with
        `speaker:NAME` among them, the words are those NAME spoke."""
        subqueries = self._counted(list(q.subqueries), out.typed)
        named = [c for c in subqueries if type(c) is query.Term and c.fieldname == "speaker"]
        asked: list[query.Query] = []
        if not named and out.question and not negated and not out.speakers:
            named, asked = asked_about(subqueries, reader, out.text)
        if named and not negated:
            subqueries = [c for c in subqueries if c not in named and c not in asked]
            keys = sorted({k for c in named for k in named_speakers(c.text, reader)})
            outer, out.speakers = out.speakers, keys
            out.named_speakers = sorted(set(out.named_speakers) | set(keys))
            try:
                scored = self._natural(NaturalOr(subqueries, boost=q.boost), reader, out, negated) if subqueries else query.NullQuery
            finally:
                out.speakers = outer
            if scored is query.NullQuery or isinstance(scored, query.Not):  # no words: where they speak
                spoken = where_they_speak(keys)
                return spoken if scored is query.NullQuery else Excluding(spoken, scored.query)
            return scored
        stop = self.ranking.query_stop_words | (self.ranking.question_words if out.question else frozenset())
        if stop:  # the ranking's own stop words, and a question's framing, dropped from plain words
            kept = [c for c in subqueries if not (type(c) is query.Term and c.fieldname == TEXT and normalize(c.text) in stop)]
            if kept:
                out.dropped += [c.text for c in subqueries if c not in kept]
                subqueries = kept
        children = self._with_aliases(subqueries, out, negated)
        clauses = []
        for child in children:
            if type(child) is query.Term and child.fieldname == TEXT:
                clause = self._word(child.text, child.boost, out, negated)
            else:
                clause = self._rewrite(child, reader, out, negated)
            if clause is not query.NullQuery:
                clauses.append(clause)
        # NOT x among plain words excludes x; date: and tags: typed beside words narrow them.
        banned = [c.query for c in clauses if isinstance(c, query.Not)]
        filters = [c for c in clauses if not isinstance(c, query.Not) and c.field() in self.filter_fields]
        words = [c for c in clauses if not isinstance(c, query.Not) and c not in filters]
        # Whoosh's normalize flattens the words' ORs into one and drops repeated clauses: a
        # word typed twice ("materials ... material") counts once.
        scored = query.Or(words, boost=q.boost).normalize() if words else query.NullQuery
        if type(scored) is query.Or:  # named, for explain; not normalized again
            scored = NaturalOr(scored.subqueries, boost=scored.boost)
        # Words found nowhere in the archive cannot be matched, so they do not count.
        present = [w for w in words if could_match(w, reader)]
        if len(present) > 1 and self.ranking.all_words_bonus:
            scored = AllWordsBonus(scored, present, 1.0 + self.ranking.all_words_bonus)
        if filters:
            required = query.And(filters).normalize()
            scored = required if scored is query.NullQuery else query.Require(scored, required)
        if banned:
            exclude = query.Or(banned).normalize()
            scored = query.Not(exclude) if scored is query.NullQuery else Excluding(scored, exclude)
        return scored

    def _count_typed(self, q: query.Query, typed: Counter) -> None:
        """How often each plain word was typed, as its stems, counted before normalizing folds
        repeated words into one; words under NOT do not count."""
        if type(q) is query.Term and q.fieldname == TEXT:
            typed[self._stems(q)] += 1
        elif isinstance(q, query.AndNot):
            self._count_typed(q.a, typed)
        elif not isinstance(q, query.Not):
            for child in q.children():
                self._count_typed(child, typed)

    def _counted(self, children: list[query.Query], typed: Counter) -> list[query.Query]:
        """Plain words typed more than once weighted by how often, as BM25 weights a query
        term's frequency: (k3 + 1) * n / (k3 + n), with the ranking's `query_term_saturation`
        as k3; with 0, a word typed twice counts once."""
        k3 = self.ranking.query_term_saturation
        if k3 <= 0:
            return children
        kept: list[query.Query] = []
        for child in children:
            key = self._stems(child) if type(child) is query.Term and child.fieldname == TEXT else None
            n = typed.get(key, 1) if key else 1
            if n > 1 and key is not None:
                child = query.Term(TEXT, child.text, boost=child.boost * (k3 + 1) * n / (k3 + n))
            kept.append(child)
        return kept

    def _word(self, raw: str, boost: float, out: ParsedQuery, negated: bool, slop: int = 1) -> query.Query:
        """One typed word, compound (COVID-19) or quoted phrase, as one clause over the fields."""
        tokens = [(t.text, t.pos) for t in self.analyzer(raw, mode="query", positions=True)]
        if not tokens:
            return query.NullQuery  # only stop words or punctuation ("the", "i.e.", "5%")
        if out.speakers:  # in the words these people spoke (no phrases there: each word)
            if not negated:
                out.stems.update(text for text, _ in tokens)
            spoken = [SpokenWord(text, tuple(out.speakers)) for text, _ in tokens]
            return query.Or(spoken, boost=boost).normalize()
        if len(tokens) == 1:
            # One BM25F term over title and body, plus the title on its own: known-item
            # searches name a document by its title's words.
            term = tokens[0][0]
            ranking = self.ranking
            clauses = [FieldsTerm(term, {f: ranking.field_weight(f) for f in ("title", "body")})]
            if ranking.title_bonus:
                clauses.append(query.Term("title", term, boost=ranking.title_bonus))
        else:
            clauses = [_field_query(field, tokens, slop, self.ranking.field_weight(field)) for field in ("title", "body")]
        tag = " ".join(normalize(raw).split()).strip(".,;:!?\"'()")
        if tag and not is_stop(tag) and self.ranking.tags_weight:
            clauses.append(query.Term("tags", tag, boost=self.ranking.tags_weight))
        if not negated:
            if len(tokens) == 1:
                out.stems.add(tokens[0][0])
            else:
                out.phrases.add(tuple(text for text, _ in tokens))
        return query.Or(clauses, boost=boost).normalize() if clauses else query.NullQuery

    def _with_aliases(self, children: list[query.Query], out: ParsedQuery, negated: bool) -> list[query.Query]:
        """Replace each run of plain words that names an alias group by one clause that also
        finds the group's other names."""
        if not self.aliases:
            return children
        words = [self._stems(c) for c in children]
        result: list[query.Query] = []
        i = 0
        while i < len(children):
            match = None
            for length in range(min(_ALIAS_MAX_WORDS, len(children) - i), 0, -1):
                run = words[i : i + length]
                if any(w is None for w in run):
                    continue
                key = tuple(s for w in run if w is not None for s in w)
                if key in self.aliases:
                    match = (length, key)
                    break
            if match is None:
                result.append(children[i])
                i += 1
                continue
            length, key = match
            typed = " ".join(c.text for c in children[i : i + length])
            clauses = [self._word(typed, 1.0, out, negated)]
            # A phrase scores about as much as its words together: divide, so that an alias
            # of several words does not outweigh the one word typed.
            clauses += [self._word(name, self.ranking.alias_weight / n, out, negated) for name, n in self.aliases[key]]
            result.append(Concept([c for c in clauses if c is not query.NullQuery], typed=typed))
            i += length
        return result

    def _stems(self, q: query.Query) -> tuple[str, ...] | None:
        if type(q) is query.Term and q.fieldname == TEXT:
            return tuple(t.text for t in self.analyzer(q.text, mode="query"))
        return None


def _check_boosts(q: query.Query) -> None:
    """Every boost (`word^2`) in the parsed query is a positive number of at most MAX_BOOST:
    `^0` and 400 digits gave NaN and infinite scores, which no JSON parser reads."""
    boost = getattr(q, "boost", 1.0)
    if boost != 1.0 and not (0 < boost <= MAX_BOOST):  # NaN fails both comparisons
        raise QueryError(f"a boost (^) must be a number above 0 and at most {MAX_BOOST:g}")
    for child in q.children():
        _check_boosts(child)


def _field_query(field: str, tokens: list[tuple[str, int]], slop: int, weight: float) -> query.Query:
    """One field's query for a word's tokens: a term, or a phrase that makes room for the
    stop words the index leaves out."""
    if len(tokens) == 1:
        return query.Term(field, tokens[0][0], boost=weight)
    gaps = [b - a for (_, a), (_, b) in zip(tokens, tokens[1:])]
    return query.Phrase(field, [t for t, _ in tokens], slop=slop + max(gaps) - 1, boost=weight)


_ALIAS_MAX_WORDS = 6


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")  # control characters (and undecodable bytes) read as spaces
