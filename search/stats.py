"""What an index holds about its speakers: how much of each category is attributed text, and
who speaks most. `search stats` prints it; it is how a new archive's label forms are checked.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .results import stored_body
from .speakers import found_by_name


@dataclass
class SpeakerCoverage:
    """One category's documents and text, and how much of them is in speakers' turns."""

    category: str
    documents: int
    with_turns: int  # documents with at least one attributed turn
    characters: int  # of cleaned text
    in_turns: int  # characters inside turns (labels and words), reporters' included
    named: int  # characters in turns of a person found by name (not a reporter, a role or an official)

    @property
    def documents_share(self) -> float:
        return self.with_turns / self.documents if self.documents else 0.0

    @property
    def text_share(self) -> float:
        return self.in_turns / self.characters if self.characters else 0.0


@dataclass
class SpeakerStats:
    coverage: list[SpeakerCoverage]  # by category, the most documents first; "all" last
    speakers: list[tuple[str, int]]  # the speakers with the most turns, reporters apart
    turns: int


def speaker_stats(searcher, top: int = 20) -> SpeakerStats:
    """Read every live document's stored turns and text once."""
    by_category: dict[str, list[int]] = {}
    turns_of: Counter = Counter()
    turns = 0
    reader = searcher.reader()
    for docnum in range(reader.doc_count_all()):
        if reader.is_deleted(docnum):
            continue
        stored = reader.stored_fields(docnum)
        length = len(stored_body(stored))
        stored_turns = stored.get("turns") or ()
        in_turns = sum(end - start for _, _, start, _, end, *_ in stored_turns)
        named = sum(end - start for speaker, label, start, _, end, *_ in stored_turns if found_by_name(speaker, label))
        turns += len(stored_turns)
        turns_of.update(speaker for speaker, *_ in stored_turns)
        for category in (stored.get("tags") or "").split(",")[:1] or [""]:
            row = by_category.setdefault(category or "(none)", [0, 0, 0, 0, 0])
            for i, value in enumerate((1, int(bool(stored_turns)), length, in_turns, named)):
                row[i] += value
    rows = [SpeakerCoverage(c, *v) for c, v in sorted(by_category.items(), key=lambda kv: -kv[1][0])]
    total = [sum(r[i] for r in by_category.values()) for i in range(5)]
    rows.append(SpeakerCoverage("all", *total))
    return SpeakerStats(rows, turns_of.most_common(top), turns)
