"""The search box's syntax: Whoosh's query parser, configured for this engine.

- Plain words are joined by `NaturalOr`, which the query reader rewrites (aliases, the
  all-words bonus); words typed without a field go to TEXT, which no index field has.
- `*` is the only wildcard: a `?` ends a question.
- Quoted phrases without a field are `TextPhrase`s, expanded into title and body; a phrase's
  slop makes room for the stop words the index leaves out ("Department of State").
- `-word` and `+word` only at the start of a word (COVID-19 stays one term), in every group.
- Only the index's own fields take `field:` ("Note: ..." stays text); a lowercase word joined by
  a colon to a value (`president:Lincoln`) names a field, and one the index lacks is an error
  naming the fields it has.
- `date:` takes a year, a month or a day, and ranges of them, in ASCII digits, real dates only.
"""

from __future__ import annotations

import datetime
import re

from whoosh import qparser, query
from whoosh.qparser import syntax

from .errors import QueryError
from .queries import TermSpan

TEXT = "_text"  # the parser's field for words typed without one
SEARCH_FIELDS = ("title", "body", "tags", "date", "speaker", "collection", "path", "source_url")
# A lowercase word joined by a colon to the start of a value: a field, as the query is meant.
# (`https://` is a link, `10:30` a time, "Note: ..." and "Note:x" text.)
_FIELD_LIKE = re.compile(r"(?<![\w:/.@-])([a-z_][a-z0-9_]*):(?=[\w\"(\[*])")
_QUOTED = re.compile(r'"[^"]*"')


def search_fields(schema) -> list[str]:
    """The fields a query may name in this index: the index's own, then its declared facets."""
    from .facets import declared

    return [f for f in SEARCH_FIELDS if f in schema.names()] + declared(schema)


def check_fields(text: str, fields: list[str]) -> None:
    """QueryError for a `field:` the index does not have (`president:Lincoln` in an index
    without that facet), naming the fields it has: never a silent zero."""
    for match in _FIELD_LIKE.finditer(_QUOTED.sub(" ", text)):
        if match[1] not in fields:
            raise QueryError(f"unknown field {match[1] + ':'!r}; this index's fields are: {', '.join(f + ':' for f in fields)}")


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
                return TextPhrase(TEXT, [self.text], slop=self.slop, boost=self.boost)
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


class TextPhrase(query.Phrase):
    """A quoted phrase typed without a field: expanded into title and body by the rewrite."""


_OPERATOR_WORDS = re.compile(r"(?<![^\s()])(?:AND|OR|NOT|ANDNOT|ANDMAYBE|REQUIRE)(?!\S)")


def operators_as_words(text: str) -> str:
    """A query typed all in capitals (a pasted headline or passage) has AND, OR, NOT and the
    other operators as words: their capitals are what marks them as operators, and there they mark nothing."""
    if any(c.islower() for c in text):
        return text
    return _OPERATOR_WORDS.sub(lambda m: m.group(0).lower(), text)


def make_parser(schema) -> qparser.QueryParser:
    """The parser the query reader uses over `schema`."""
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
        qparser.FieldsPlugin(expr=rf"(?P<text>{'|'.join(search_fields(schema))}):(?=\S)"),
        _PlusMinus(),
        qparser.FuzzyTermPlugin(),
        ]
    )
    return parser


_DATE_VALUE = re.compile(r"[0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2})?)?")  # ASCII digits only: \d takes "١"


def date_query(q: query.Query) -> query.Query:
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
