"""The index's fields, shared by the indexer and the searcher."""

from __future__ import annotations

from whoosh import columns, fields

from .analysis import ANALYZER_VERSION, IndexTerms, index_terms, text_analyzer
from .facets import ValueField

# Bump when the fields change; together with ANALYZER_VERSION it decides whether an existing
# index can be read and updated, or must be rebuilt.
SCHEMA_VERSION = 3  # 2: speakers (speaker, turns); 3: collection, source_url searchable, digest, facets
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


def make_schema(title_boost: float = 2.0, speakers: bool = True, facets: tuple[str, ...] = ()) -> fields.Schema:
    """The fields; `title_boost` (the ranking's, fixed at index time) is what one occurrence
    in the title weighs in its postings. Without `speakers`, transcripts are not split into
    turns (`search index --no-speakers`): the index has no speaker fields, and the indexer
    knows it from the schema. Each of `facets` (front-matter keys, checked by
    `facets.check_keys`) is a value field of its own."""
    analyzer = text_analyzer()
    schema = fields.Schema(
        path=fields.ID(stored=True, unique=True),
        doc_id=fields.STORED(),
        title=ArchiveText(analyzer=analyzer, stored=True, field_boost=title_boost, multitoken_query="phrase"),
        body=ArchiveText(analyzer=analyzer, multitoken_query="phrase"),
        tags=fields.KEYWORD(stored=True, commas=True, scorable=True, lowercase=True),
        date=fields.ID(stored=True, sortable=True),
        # Searchable as a whole (source_url:URL, source_url:*2024*), and a column: two documents
        # of one URL are copies (duplicates.py).
        source_url=fields.ID(stored=True, sortable=True),
        # The collection (the named archive) a document comes from.
        collection=ValueField(),
        # A digest of the cleaned body, as a column: two documents of one body are copies.
        digest=fields.COLUMN(columns.VarBytesColumn()),
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
    for key in facets:
        schema.add(key, ValueField())
    return schema
