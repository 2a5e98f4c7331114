"""The index's fields, shared by the indexer and the searcher."""

from __future__ import annotations

from whoosh import fields

from .analysis import ANALYZER_VERSION, IndexTerms, index_terms, text_analyzer

# Bump when the fields change; together with ANALYZER_VERSION it decides whether an existing
# index can be read and updated, or must be rebuilt.
SCHEMA_VERSION = 2  # 2: speakers (speaker, turns)
INDEX_FORMAT = f"{SCHEMA_VERSION}.{ANALYZER_VERSION}"



class ArchiveText(fields.TEXT):
    """A TEXT field that indexes through `analysis.index_terms`, the fast path of the analyzer.

    It also takes an `IndexTerms` computed beforehand, so that one pass over a body gives both
    its postings and its words for spelling suggestions.
    """

    def index(self, value, **kwargs):
        terms = value if isinstance(value, IndexTerms) else index_terms(value)
        encode = self.format.encode
        boost = self.format.field_boost
        for word, positions in terms.positions.items():
            yield word.encode("utf-8"), len(positions), len(positions) * boost, encode(positions)


def make_schema(title_boost: float = 2.0, speakers: bool = True) -> fields.Schema:
    """The fields; `title_boost` (the ranking's, fixed at index time) is what one occurrence
    in the title weighs in its postings. Without `speakers`, transcripts are not split into
    turns (`search index --no-speakers`): the index has no speaker fields, and the indexer
    knows it from the schema."""
    analyzer = text_analyzer()
    schema = fields.Schema(
        path=fields.ID(stored=True, unique=True),
        doc_id=fields.STORED(),
        title=ArchiveText(analyzer=analyzer, stored=True, field_boost=title_boost, multitoken_query="phrase"),
        body=ArchiveText(analyzer=analyzer, multitoken_query="phrase"),
        tags=fields.KEYWORD(stored=True, commas=True, scorable=True, lowercase=True),
        date=fields.ID(stored=True, sortable=True),
        source_url=fields.STORED(),
        published_time=fields.STORED(),
        modified_time=fields.STORED(),
        # The cleaned body, zlib-compressed: what the snippet and the document page show.
        content=fields.STORED(),
    )
    if speakers:
        # The document's speakers (full names, as shown), one value a turn: speaker:NAME alone
        # ranks the documents where that person speaks the most.
        schema.add("speaker", fields.KEYWORD(commas=True, scorable=True))
        # [(speaker, label, start, start of the words, end, first token, after the last), ...]
        # of a transcript: offsets in the cleaned text, and the body's token positions of the
        # words (`speakers.stored`), which `speaker:NAME words` counts the words within.
        schema.add("turns", fields.STORED())
    return schema
