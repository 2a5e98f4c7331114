"""A fixed random sample of speakers' turns, for checking by hand who said each.

    python benchmarks/speakers_sample.py --index /tmp/wh-index [--count 100] [--seed 14]

Draws `count` turns at random (a fixed seed) from every turn the index holds, and prints for
each the document, the label as written, the speaker the indexer gave it, and the opening of
the turn with the document's title, so that a reader can judge: is the speaker right, and is
the full name right? Writes the sample as JSON (`--output`: paths, turn numbers, labels and
speakers, no text of the archive) with an empty `verdict` to fill.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from search import open_index  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--output", type=Path, default=Path("benchmarks/results/speakers-sample.json"))
    args = parser.parse_args(argv)
    with open_index(args.index) as ix:
        reader = ix.searcher.reader()
        every = []
        for docnum in range(reader.doc_count_all()):
            if reader.is_deleted(docnum):
                continue
            turns = reader.stored_fields(docnum).get("turns") or ()
            every += [(docnum, n) for n in range(len(turns))]
        chosen = random.Random(args.seed).sample(every, min(args.count, len(every)))
        sample = []
        for number, (docnum, n) in enumerate(chosen, start=1):
            path = reader.stored_fields(docnum)["path"]
            document = ix.document(path)
            turn = document.turns[n]
            sample.append({
                "n": number, "path": path, "title": document.title, "date": document.date, "turn": n,
                "label": turn.label, "speaker": turn.speaker,
                "words": document.body[turn.words:turn.end][:300], "verdict": "",
            })
    for item in sample:
        print(f"{item['n']:>3}. {item['label']!r} -> {item['speaker']!r}  [{item['path']} #t{item['turn']}]")
        print(f"     {item['title'][:120]}")
        print(f"     {item['words'][:160]!r}")
    # The file names each turn by path and number, without the archive's text: a reader opens
    # the document (the printed sample above shows the words to look for).
    kept = [{k: v for k, v in item.items() if k not in ("title", "words")} for item in sample]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"seed": args.seed, "turns": len(every), "sample": kept}, indent=1, ensure_ascii=False))
    print(f"\n{len(sample)} of {len(every):,} turns; wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
