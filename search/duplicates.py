"""Copies of one document: the same original URL, or the same cleaned text, filed more than once.

Archives file a fact sheet under several categories, or scrape a page twice. The copies form
one group (linked through either key, so a copy of a copy belongs too), and a result list shows
a group once, at the rank of its best member, with the others as "also filed as". Groups are
found when a generation's columns are first read, from the `source_url` and `digest` columns,
so an update needs no second pass over the index.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np


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
    members: dict[int, list[int]] = {}
    if linked:
        for docnum in range(size):
            group[docnum] = root(docnum)
        counts = np.bincount(group, minlength=size)
        for member in np.flatnonzero(counts[group] > 1):
            members.setdefault(int(group[member]), []).append(int(member))
    return Groups(group, members)
