"""How the text typed in a search box becomes a Whoosh query.

Whoosh's own query parser reads the syntax (phrases, AND/OR/NOT, -word, +word, parentheses,
field:, word*, word~, ranges); this module configures it and then rewrites the parsed tree:

- Plain words are joined by OR, so a natural-language query never comes back empty because
  one word is absent; documents that match every word get a bonus, so they rank first.
- A plain word is one BM25F term over title and body (`ranking.FieldsTerm`), plus a smaller
  title-only score; a word that is also a category name matches the category too.
- `?`, `:` after a word that is not a field, and a `-` inside a word (COVID-19) are ordinary
  text, so natural-language questions read as words.
- Phrases allow for the stop words the index leaves out ("Department of State").
- `date:` takes a year, a month or a day, and ranges of them, matched exactly.
- Prefixes and wildcards expand through the archive's own word list, so `immigra*` finds
  "immigrants" even though the index holds the stem "immigr"; an expansion that would be
  too large is refused with a message.
"""

from __future__ import annotations

import datetime
import fnmatch
import re
from bisect import bisect_left
from dataclasses import dataclass, field

from whoosh import qparser, query
from whoosh.qparser import syntax
from whoosh.support.levenshtein import damerau_levenshtein

from .aliases import ALIAS_GROUPS, ALIAS_WEIGHT
from .analysis import is_stop, normalize, stem, text_analyzer
from .errors import QueryError, QueryTooCostly
from .ranking import AllWordsBonus, Excluding, FieldPresent, FieldsTerm, TermSpan
from .settings import MAX_BOOST, MAX_QUERY_CHARS, WorkBudget

TEXT = "_text"  # the parser's field for words typed without one
FIELD_WEIGHTS = {"title": 1.0, "body": 1.0, "tags": 1.0}  # on top of the schema's title boost
TITLE_BONUS = 0.6  # a word in the title also scores title-only BM25 at this weight
ALL_WORDS_BONUS = 1.0  # added share of the score for a document that matches every word
MAX_EXPANSION = 500  # words a prefix, wildcard or fuzzy term may stand for
MAX_FUZZY_DISTANCE = 2
MAX_FUZZY_WORD = 30
FUZZY_WEIGHTS = {0: 1.0, 1: 0.5, 2: 0.3}  # a fuzzy term's variants, by edits from the word typed
SEARCH_FIELDS = ("title", "body", "tags", "date")


class NaturalOr(query.Or):
    """The OR that joins plain words; rewritten to add the all-words bonus."""


class NaturalOrGroup(syntax.OrGroup):
    qclass = NaturalOr


class _Wildcards(qparser.WildcardPlugin):
    """`*` only: a `?` in a search box ends a question, it is not a wildcard."""

    qmarks = ""
    expr = r"(?P<text>[*])"


class _Phrases(qparser.PhrasePlugin):
    """Phrases whose slop makes room for the stop words the index does not hold."""

    class PhraseNode(qparser.PhrasePlugin.PhraseNode):
        def query(self, parser):
            fieldname = self.fieldname or parser.fieldname
            field = parser.schema[fieldname] if fieldname in parser.schema else None
            if fieldname == TEXT:
                return _TextPhrase(TEXT, [self.text], slop=self.slop, boost=self.boost)
            if field is None or not field.analyzer:
                return super().query(parser)
            tokens = [(t.text, t.pos) for t in field.tokenize(self.text, mode="query", positions=True)]
            if not tokens:
                return query.NullQuery
            words = [text for text, _ in tokens]
            gaps = [b - a for (_, a), (_, b) in zip(tokens, tokens[1:])]
            slop = self.slop + max(gaps, default=1) - 1
            q = parser.phraseclass(fieldname, words, slop=slop, boost=self.boost)
            return q if len(words) > 1 else query.Term(fieldname, words[0], boost=self.boost)

    nodetype = PhraseNode

    class PhraseTagger(qparser.PhrasePlugin.PhraseTagger):
        def create(self, parser, match):
            slop = int(match.group("slop")) if match.group("slop") else 1
            return _Phrases.PhraseNode(match.group("text"), match.start("text"), slop)

    def taggers(self, parser):
        return [(self.PhraseTagger(self.expr), 0)]


class _PlusMinus(qparser.PlusMinusPlugin):
    """-word and +word, only at the start of a word (so COVID-19 stays one term), keeping
    the natural OR of the other words."""

    def __init__(self):
        super().__init__(plusexpr=r"(?<![^\s(])\+(?=[\w\"(])", minusexpr=r"(?<![^\s(])-(?=[\w\"(])")

    def do_plusminus(self, parser, group):
        """Whoosh sorts the top level only, so `x (y -z)` failed with "Minus": every group
        in parentheses is sorted the same way, innermost first."""
        nodes = [self.do_plusminus(parser, node) if isinstance(node, syntax.GroupNode) else node for node in group]
        required, optional, banned = syntax.AndGroup(), type(group)(), syntax.OrGroup()
        target = optional
        for node in nodes:
            if isinstance(node, self.Plus):
                target = required
            elif isinstance(node, self.Minus):
                target = banned
            else:
                target.append(node)
                target = optional
        result = optional
        if required:
            result = syntax.AndMaybeGroup([required, optional]) if optional else required
        if banned:
            result = syntax.AndNotGroup([result, banned])
        return result


@dataclass
class ParsedQuery:
    """A query ready to run, and what the rest of the search needs to know about it."""

    text: str
    query: query.Query
    stems: set[str] = field(default_factory=set)  # terms to mark wherever they occur
    phrases: set[tuple[str, ...]] = field(default_factory=set)  # terms to mark only together
    expanded: int = 0  # words that prefixes, wildcards and fuzzy words stand for, together
    fuzzy: int = 0  # fuzzy words


class Lexicon:
    """The archive's words (unstemmed) with their document counts, sorted, for expansion
    and spelling. Loaded on first use: most queries never need it."""

    def __init__(self, path):
        self.path = path
        self._words: list[str] | None = None
        self._counts: dict[str, int] = {}

    @property
    def words(self) -> list[str]:
        if self._words is None:
            counts: dict[str, int] = {}
            try:
                with open(self.path, encoding="utf-8") as handle:
                    for line in handle:
                        word, _, count = line.rstrip("\n").partition("\t")
                        counts[word] = int(count or 0)
            except (OSError, ValueError):
                counts = {}
            self._counts = counts
            self._words = sorted(counts)
        return self._words

    def count(self, word: str) -> int:
        self.words  # noqa: B018 - loads the counts
        return self._counts.get(word, 0)

    def with_prefix(self, prefix: str) -> list[str]:
        words = self.words
        i = bisect_left(words, prefix)
        out = []
        while i < len(words) and words[i].startswith(prefix):
            out.append(words[i])
            i += 1
        return out


class _TextPhrase(query.Phrase):
    """A quoted phrase typed without a field: expanded into title and body by the rewrite."""


class QueryReader:
    """Reads search-box text into a `ParsedQuery` for one index."""

    def __init__(self, schema, lexicon: Lexicon, budget: WorkBudget | None = None):
        self.schema = schema
        self.lexicon = lexicon
        self.budget = budget or WorkBudget()
        self.analyzer = text_analyzer()
        # Words typed without a field go to TEXT, which is not in the schema, so Whoosh
        # leaves them as typed; the rewrite turns each into one clause over title, body and tags.
        parser = qparser.QueryParser(TEXT, schema, group=NaturalOrGroup)
        parser.remove_plugin_class(qparser.WildcardPlugin)
        parser.remove_plugin_class(qparser.PhrasePlugin)
        parser.remove_plugin_class(qparser.FieldsPlugin)
        parser.add_plugins(
            [
                _Wildcards(),
                _Phrases(),
                # Only the index's own fields; "Note: ..." stays text.
                qparser.FieldsPlugin(expr=rf"(?P<text>{'|'.join(SEARCH_FIELDS)}):(?=\S)"),
                _PlusMinus(),
                qparser.FuzzyTermPlugin(),
            ]
        )
        self.parser = parser
        self.aliases = _alias_table(self.analyzer)

    def read(self, text: str, reader) -> ParsedQuery:
        if len(text) > MAX_QUERY_CHARS:
            raise QueryError(f"the query is too long ({len(text)} characters; the limit is {MAX_QUERY_CHARS})")
        text = _CONTROL.sub(" ", text)
        if not text.strip():
            raise QueryError("the query is empty")
        try:
            parsed = self.parser.parse(text)
        except RecursionError:
            raise QueryError("the query is nested too deeply") from None
        except Exception as exc:  # Whoosh's parser errors have no common base class
            raise QueryError(f"cannot read the query: {exc}") from None
        result = ParsedQuery(text, query.NullQuery)
        try:
            _check_boosts(parsed)
            result.query = self._rewrite(parsed, reader, result, negated=False)
        except RecursionError:
            raise QueryError("the query is nested too deeply") from None
        if result.query is query.NullQuery or isinstance(result.query, query.NullQuery.__class__):
            raise QueryError(
                "the query has no words to search for (very common words such as 'the' are not indexed)"
            )
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
        if isinstance(q, _Concept):
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
            return _date_query(q)
        if isinstance(q, query.Every):
            if fieldname in self.schema.names():
                return FieldPresent(fieldname, boost=q.boost)
            return query.NullQuery  # `*` alone names no field: nothing to search for
        if isinstance(q, _TextPhrase):
            return self._word(q.words[0], q.boost, out, negated, slop=q.slop)
        if isinstance(q, query.FuzzyTerm):
            return self._fuzzy(q, out, negated)
        if isinstance(q, (query.Prefix, query.Wildcard)):
            return self._expand(q, reader, out, negated)
        if fieldname == TEXT:
            if type(q) is query.Term:  # a lone word: read as a one-word natural query, aliases and all
                return self._natural(NaturalOr([q]), reader, out, negated)
            return query.NullQuery  # a range without a field means nothing here
        if isinstance(q, query.Phrase):
            if not negated:
                out.phrases.add(tuple(q.words))
            return q
        if isinstance(q, query.Term):
            if not negated and fieldname in ("title", "body"):
                out.stems.add(q.text)
            return q
        return q

    def _natural(self, q: NaturalOr, reader, out: ParsedQuery, negated: bool) -> query.Query:
        """Plain words joined by OR, with aliases, the all-words bonus, NOT and filters."""
        children = self._with_aliases(list(q.subqueries), out, negated)
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
        filters = [c for c in clauses if not isinstance(c, query.Not) and c.field() in ("date", "tags")]
        words = [c for c in clauses if not isinstance(c, query.Not) and c not in filters]
        scored = query.Or(words, boost=q.boost).normalize() if words else query.NullQuery
        # Words found nowhere in the archive cannot be matched, so they do not count.
        present = [w for w in words if w.estimate_size(reader) > 0]
        if len(present) > 1 and ALL_WORDS_BONUS:
            scored = AllWordsBonus(scored, present, 1.0 + ALL_WORDS_BONUS)
        if filters:
            required = query.And(filters).normalize()
            scored = required if scored is query.NullQuery else query.Require(scored, required)
        if banned:
            exclude = query.Or(banned).normalize()
            scored = query.Not(exclude) if scored is query.NullQuery else Excluding(scored, exclude)
        return scored

    def _word(self, raw: str, boost: float, out: ParsedQuery, negated: bool, slop: int = 1) -> query.Query:
        """One typed word, compound (COVID-19) or quoted phrase, as one clause over the fields."""
        tokens = [(t.text, t.pos) for t in self.analyzer(raw, mode="query", positions=True)]
        if not tokens:
            return query.NullQuery  # only stop words or punctuation ("the", "i.e.", "5%")
        if len(tokens) == 1:
            # One BM25F term over title and body, plus the title on its own: known-item
            # searches name a document by its title's words.
            term = tokens[0][0]
            clauses = [FieldsTerm(term, {f: FIELD_WEIGHTS[f] for f in ("title", "body")})]
            if TITLE_BONUS:
                clauses.append(query.Term("title", term, boost=TITLE_BONUS))
        else:
            clauses = [_field_query(field, tokens, slop, FIELD_WEIGHTS[field]) for field in ("title", "body")]
        tag = " ".join(normalize(raw).split()).strip(".,;:!?\"'()")
        if tag and not is_stop(tag) and FIELD_WEIGHTS["tags"]:
            clauses.append(query.Term("tags", tag, boost=FIELD_WEIGHTS["tags"]))
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
                key = tuple(s for w in run for s in w)
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
            clauses += [self._word(name, ALIAS_WEIGHT / n, out, negated) for name, n in self.aliases[key]]
            result.append(_Concept([c for c in clauses if c is not query.NullQuery]))
            i += length
        return result

    def _stems(self, q: query.Query) -> tuple[str, ...] | None:
        if type(q) is query.Term and q.fieldname == TEXT:
            return tuple(t.text for t in self.analyzer(q.text, mode="query"))
        return None

    def _expand(self, q: query.Query, reader, out: ParsedQuery, negated: bool) -> query.Query:
        """A prefix or wildcard becomes an OR of the stems of the archive's matching words."""
        pattern = normalize(q.text)
        is_prefix = isinstance(q, query.Prefix)
        shown = q.text + ("*" if is_prefix else "")
        fields = ("title", "body", "tags") if q.fieldname == TEXT else (q.fieldname,)
        clauses: list[query.Query] = []
        if "tags" in fields:
            matcher = re.compile(fnmatch.translate(pattern + ("*" if is_prefix else "")))
            values = [v.decode() if isinstance(v, bytes) else v for v in reader.lexicon("tags")]
            clauses += [query.Term("tags", v, boost=FIELD_WEIGHTS["tags"]) for v in values if matcher.match(v)]
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
                clauses += [query.Term(field, s, boost=FIELD_WEIGHTS[field]) for s in stems]
        return query.Or(clauses, boost=q.boost).normalize() if clauses else query.NullQuery

    def _fuzzy(self, q: query.FuzzyTerm, out: ParsedQuery, negated: bool) -> query.Query:
        """word~ and word~2: an OR of the stems of the archive's words at most two edits away
        that share the word's first letter (or its first N, with word~2/N).

        The words come from the in-memory lexicon, not from Whoosh's FuzzyTerm: that walks a
        Levenshtein automaton over the on-disk term table in pure Python, about half a second
        a word on the full archive (2 s for four), where this takes some 50 ms."""
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
        if q.fieldname == "tags":
            return query.FuzzyTerm("tags", word, boost=q.boost, maxdist=maxdist, prefixlength=len(prefix))
        fields = ("title", "body") if q.fieldname == TEXT else (q.fieldname,)
        # Each stem weighs by its closest word: the word as typed counts fully, a word an edit
        # or two away less, so that a rare misspelling does not outrank the word itself.
        weights: dict[str, float] = {stem(word): FUZZY_WEIGHTS[0]} if self.lexicon.count(word) else {}
        for candidate in self.lexicon.with_prefix(prefix):
            if abs(len(candidate) - len(word)) <= maxdist and not is_stop(candidate):
                distance = damerau_levenshtein(word, candidate, maxdist)
                if distance <= maxdist:
                    key = stem(candidate)
                    weights[key] = max(weights.get(key, 0.0), FUZZY_WEIGHTS[distance])
        if len(weights) > MAX_EXPANSION:
            raise QueryError(f"'{q.text}~' matches too many words ({len(weights)}); make it longer")
        self._spend(out, len(weights))
        if not weights:  # no such word: a term that finds nothing, not "no words to search for"
            weights = {stem(word): 1.0}
        if not negated:
            out.stems.update(weights)
        clauses = [
            query.Term(f, s, boost=FIELD_WEIGHTS.get(f, 1.0) * w) for f in fields for s, w in sorted(weights.items())
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


def _check_boosts(q: query.Query) -> None:
    """Every boost (`word^2`) in the parsed query is a positive number of at most MAX_BOOST:
    `^0` and 400 digits gave NaN and infinite scores, which no JSON parser reads."""
    boost = getattr(q, "boost", 1.0)
    if boost != 1.0 and not (0 < boost <= MAX_BOOST):  # NaN fails both comparisons
        raise QueryError(f"a boost (^) must be a number above 0 and at most {MAX_BOOST:g}")
    for child in q.children():
        _check_boosts(child)


class _Concept(query.Or):
    """A typed expression OR its aliases: one clause, so the all-words bonus counts it once."""


def _field_query(field: str, tokens: list[tuple[str, int]], slop: int, weight: float) -> query.Query:
    """One field's query for a word's tokens: a term, or a phrase that makes room for the
    stop words the index leaves out."""
    if len(tokens) == 1:
        return query.Term(field, tokens[0][0], boost=weight)
    gaps = [b - a for (_, a), (_, b) in zip(tokens, tokens[1:])]
    return query.Phrase(field, [t for t, _ in tokens], slop=slop + max(gaps) - 1, boost=weight)


def _alias_table(analyzer) -> dict[tuple[str, ...], list[tuple[str, int]]]:
    """Each alias expression, as the stems it analyzes to, mapped to its group's other names
    (with how many terms each has)."""
    stems = {name: tuple(t.text for t in analyzer(name, mode="query")) for group in ALIAS_GROUPS for name in group}
    table: dict[tuple[str, ...], list[tuple[str, int]]] = {}
    for group in ALIAS_GROUPS:
        for name in group:
            if stems[name]:
                table[stems[name]] = [(other, len(stems[other])) for other in group if other != name and stems[other]]
    return table


_ALIAS_MAX_WORDS = 6


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")  # control characters (and undecodable bytes) read as spaces
_DATE_VALUE = re.compile(r"[0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2})?)?")  # ASCII digits only: \d takes "١"


def _date_query(q: query.Query) -> query.Query:
    """`date:` values matched exactly: a year or a month is a prefix of YYYY-MM-DD, and a
    range's end takes in the whole of the year or month it names."""
    if isinstance(q, query.TermRange):
        start = _check_date(q.start) if q.start else None
        end = _check_date(q.end) if q.end else None
        if end is not None and len(end) < 10:
            end = end + ("-12-31" if len(end) == 4 else "-31")
        return TermSpan("date", start, end, startexcl=q.startexcl, endexcl=q.endexcl, boost=q.boost)
    if isinstance(q, (query.Term, query.Prefix)):
        value = _check_date(q.text)
        return TermSpan("date", value, value if len(value) == 10 else value + "~", boost=q.boost)
    raise QueryError("date: takes a year, a month or a day: date:2024, date:2024-07, date:2024-07-11, or a range date:[2024-07-01 to 2024-07-31]")


def _check_date(value: str) -> str:
    if not _DATE_VALUE.fullmatch(value or ""):
        raise QueryError(
            f"date:{value} is not a date; use date:2024, date:2024-07, date:2024-07-11 "
            "or date:[2024-07-01 to 2024-07-31]"
        )
    try:
        # Year 0000 is no date Python has, but a fine bound for a range (`date:[0000 to 9999]`).
        datetime.date(int(value[:4]) or 2000, int(value[5:7] or 1), int(value[8:10] or 1))
    except ValueError:
        raise QueryError(f"date:{value} is not a real date") from None
    return value
