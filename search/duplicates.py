"""Copies of one document: the same original URL, or the same cleaned text, filed more than once.

Archives file a fact sheet under several categories, or scrape a page twice. The copies form
one group (linked through either key, so a copy of a copy belongs too), and a result list shows
a group once, at the rank of its best member, with the others as "also filed as". Groups are
found from the `source_url` and `digest` columns when a generation is built (a rebuild or an
update alike) and written beside it (COPIES_FILE).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# A generation's groups, written beside its segments when it is built, so that a search reads
# them in a millisecond instead of finding them again (tens of milliseconds on 12,000 documents).
COPIES_FILE = "copies.npy"


def body_digest(body: str) -> bytes:
    """What two documents of the same cleaned text share (spacing aside); empty for no text,
    which makes no copies."""
    words = " ".join(body.split())
    return hashlib.blake2b(words.encode("utf-8"), digest_size=12).digest() if words else b""


@dataclass
class Groups:
    """Each document's group, by document number: the smallest document number in it (a
    document without copies is its own group); and the members of each group of two or more."""

    group: np.ndarray
    members: dict[int, list[int]]

    @property
    def any(self) -> bool:
        return bool(self.members)

    def copies(self, docnum: int) -> list[int]:
        """The other documents of `docnum`'s group."""
        return [d for d in self.members.get(int(self.group[docnum]), ()) if d != docnum]

    def fold(self, docnums: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """Positions of the documents to show: of each group's documents among `docnums`, the
        best-scoring (the first by document number among equals), in the input's order."""
        if not self.members or len(docnums) < 2:
            return np.arange(len(docnums))
        order = np.lexsort((docnums, -scores))
        _, first = np.unique(self.group[docnums[order]], return_index=True)
        return np.sort(order[first])

    def count(self, docnums: np.ndarray) -> int:
        """How many groups the documents make."""
        return len(np.unique(self.group[docnums])) if self.members else len(docnums)


def groups_of(group: np.ndarray) -> Groups:
    """The groups, from each document's group number."""
    members: dict[int, list[int]] = {}
    if len(group):
        counts = np.bincount(group, minlength=len(group))
        for member in np.flatnonzero(counts[group] > 1):
            members.setdefault(int(group[member]), []).append(int(member))
    return Groups(group, members)


def save_groups(folder: Path, groups: Groups) -> None:
    np.save(folder / COPIES_FILE, groups.group.astype(np.int64), allow_pickle=False)


def load_groups(folder: Path, size: int) -> Groups | None:
    """The groups written with a generation; None when there is no such file, or it is not
    one of `size` documents' (an index written before copies were found)."""
    try:
        group = np.load(folder / COPIES_FILE, allow_pickle=False)
    except (OSError, ValueError):
        return None
    if group.shape != (size,) or group.dtype != np.int64 or (size and (group.min() < 0 or group.max() >= size)):
        return None
    return groups_of(group)


def find_groups(digests: list[bytes], urls: list[str], live: np.ndarray) -> Groups:
    """The groups of the live documents, linked by equal non-empty digests or URLs."""
    size = len(live)
    parent = list(range(size))

    def root(d: int) -> int:
        while parent[d] != d:
            parent[d] = parent[parent[d]]
            d = parent[d]
        return d

    linked = False
    for keys in (digests, urls):
        first: dict = {}
        for docnum, key in enumerate(keys):
            if not key or not live[docnum]:
                continue
            seen = first.setdefault(key, docnum)
            if seen != docnum:
                a, b = root(seen), root(docnum)
                if a != b:
                    parent[max(a, b)] = min(a, b)
                    linked = True
    group = np.arange(size, dtype=np.int64)
    if linked:
        group = np.array([root(docnum) for docnum in range(size)], dtype=np.int64)
    return groups_of(group)
