"""The one place that holds how documents are ranked: every weight and constant, in `Ranking`.

    open_index(path, ranking=Ranking(title_bonus=0.4))      # a search-time change: no reindex
    build_index(archive, index, ranking=Ranking(title_boost=1.5))  # an index-time one

`benchmarks/relevance.py --set title_bonus=0.4 --set k1=1.0` sweeps it without editing source.
What is fixed when the index is built (the title boost; the analyzer, versioned in
`analysis.ANALYZER_VERSION`) is recorded in the index's metadata, and opening an index with a
ranking that asks for another value is a clear error.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from .errors import RankingMismatch, SearchError


@dataclass(frozen=True)
class Ranking:
    """How a query's words score. The defaults are the measured ones (README, Ranking quality)."""

    # BM25: term frequency saturation, and length normalization per field.
    k1: float = 1.2
    b_title: float = 0.75
    b_body: float = 0.75
    b_tags: float = 0.75
    # What one occurrence counts in a word's BM25F, field by field (on top of the title boost).
    title_weight: float = 1.0
    body_weight: float = 1.0
    # A word that is a category's name also matches the category, at this weight.
    tags_weight: float = 1.0
    # A word in the title also scores title-only BM25 at this weight: known-item searches name a
    # document by its title's words.
    title_bonus: float = 0.6
    # The share added to the score of a document that matches every word of the query.
    all_words_bonus: float = 1.0
    # How much a curated alias (search/aliases.py) counts against the words typed.
    alias_weight: float = 0.8
    # A fuzzy word's variants, by their edits from the word typed: 0, 1 and 2.
    fuzzy_weights: tuple[float, float, float] = (1.0, 0.5, 0.3)
    # Words dropped from queries, beyond the analyzer's stop words (which are never indexed).
    query_stop_words: frozenset[str] = field(default_factory=frozenset)
    # Words dropped from a query asked as a question (it starts with a question word or ends
    # with "?"): its framing, "what did ... say about", "who is", "when did". Empty: dropping
    # them raised the six collections' mean by 0.0008 and lowered the new archive queries'
    # MRR@10 by 0.015 (README, Ranking quality).
    question_words: frozenset[str] = field(default_factory=frozenset)
    # A word typed n times weighs (k3 + 1) * n / (k3 + n), BM25's query-term saturation with this
    # as k3 (taken equal to k1, not fitted); 0 counts it once.
    query_term_saturation: float = 1.2
    # The share added to the score of a document dated in a month or year the words name
    # ("readout March 2023"); 0 turns it off. 0.25, 0.5 and 1 all raised both halves of the
    # judged archive queries; the middle one is kept (the collections have no dates).
    period_bonus: float = 0.5
    # Index time: what one occurrence in the title weighs in the postings.
    title_boost: float = 2.0

    # The settings that are baked into the index when it is built.
    INDEX_TIME = ("title_boost",)

    def b(self, fieldname: str) -> float:
        return {"title": self.b_title, "body": self.b_body, "tags": self.b_tags}.get(fieldname, self.b_body)

    def field_weight(self, fieldname: str) -> float:
        return {"title": self.title_weight, "body": self.body_weight, "tags": self.tags_weight}.get(fieldname, 1.0)

    def index_settings(self) -> dict:
        """What an index built with this ranking records in its metadata."""
        return {name: getattr(self, name) for name in self.INDEX_TIME}

    def check_index(self, recorded: dict | None, where: str) -> None:
        """A clear error when the index was built with other index-time settings. An index
        from before they were recorded was built with the defaults."""
        recorded = recorded or Ranking().index_settings()
        for name in self.INDEX_TIME:
            built, wanted = recorded.get(name, getattr(Ranking(), name)), getattr(self, name)
            if built != wanted:
                raise RankingMismatch(
                    f"the index at {where} was built with {name}={built}, and this ranking asks for "
                    f"{name}={wanted}; rebuild it with that ranking, or search it with {name}={built}"
                )

    def changed(self, assignments: list[str]) -> "Ranking":
        """This ranking with `name=value` assignments applied (what `--set` takes)."""
        changes: dict[str, object] = {}
        names = {f.name: f for f in dataclasses.fields(self)}
        for assignment in assignments:
            name, sep, text = assignment.partition("=")
            name = name.strip()
            if not sep or name not in names:
                raise SearchError(f"unknown ranking setting {assignment!r}; the settings are: {', '.join(sorted(names))}")
            current = getattr(self, name)
            try:
                if isinstance(current, frozenset):
                    changes[name] = frozenset(w.strip().lower() for w in text.split(",") if w.strip())
                elif isinstance(current, tuple):
                    changes[name] = tuple(float(v) for v in text.split(","))
                    if len(changes[name]) != len(current):  # type: ignore[arg-type]
                        raise ValueError(f"{len(current)} numbers")
                else:
                    changes[name] = float(text)
            except ValueError as exc:
                raise SearchError(f"ranking setting {name} cannot be {text!r} ({exc})") from None
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def describe(self) -> dict:
        """Every setting, for printing beside the results it produced."""
        values = dataclasses.asdict(self)
        values["query_stop_words"] = sorted(self.query_stop_words)
        values["question_words"] = sorted(self.question_words)
        return values


DEFAULT = Ranking()
