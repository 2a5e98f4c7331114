"""What the robustness tests share: the real `search` command, generated archives, the switch
for the long versions, and a look at running processes.

The short versions run by default; `SEARCH_LONG_TESTS=1` (or `SEARCH_SLOW_TESTS=1`, as the
`slow` marker says) runs the long ones, which are also marked `slow`.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

LONG = any(os.environ.get(name, "") not in ("", "0") for name in ("SEARCH_LONG_TESTS", "SEARCH_SLOW_TESTS"))
long_only = [
    pytest.mark.slow,
    pytest.mark.skipif(not LONG, reason="a long version: set SEARCH_LONG_TESTS=1 to run it"),
]

# Words for generated documents: common enough that queries match many documents.
WORDS = (
    "president nation security economy energy climate health border trade sanctions russia ukraine "
    "china japan korea infrastructure budget jobs workers families children schools veterans housing "
    "water wildfire recovery semiconductor vaccine election democracy"
).split()
# And rarer ones, so that documents differ the way real ones do (more-like-this has work to do).
RARE = [a + b + c + d for a in "bdgklmnprstv" for b in ("ai", "e", "io", "ou", "u") for c in ("lan", "mor", "tesk", "vin", "dra")
        for d in ("", "a", "o", "er", "ist", "ing")]
TAGS = ("blog", "press-briefings", "statements-releases", "speeches-remarks")
QUERIES = ["russia sanctions", "climate energy", "wildfire recovery", '"border security"', "title:japan", "vaccine*"]


def search_command() -> str:
    found = shutil.which("search")
    if found is None:
        pytest.skip("the search command is not installed (pip install . puts it on PATH)")
    return found


def run_search(*args: str, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    """The real `search` command in a process of its own, with nothing from the environment
    choosing the archive or the index."""
    env = {k: v for k, v in os.environ.items() if k not in ("SEARCH_INDEX", "SEARCH_ARCHIVE")}
    kwargs.setdefault("text", True)
    return subprocess.run([search_command(), *args], capture_output=True, timeout=timeout, env=env, **kwargs)


def start_search(*args: str, **kwargs) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("SEARCH_INDEX", "SEARCH_ARCHIVE")}
    return subprocess.Popen([search_command(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, **kwargs)


def marker(n: int) -> str:
    """A word that is in document `n` only: letters, so no analysis step changes it."""
    letters = "".join("bcdfghjklmnpqrstvwxz"[int(d)] for d in f"{n:06d}")
    return f"zq{letters}"


def write_archive(root: Path, count: int, seed: int = 1, words_per_doc: int = 400) -> dict[str, str]:
    """`count` generated documents under `root`, each with its marker word; returns path -> marker."""
    rnd = random.Random(seed)
    made = {}
    for n in range(count):
        tag = TAGS[n % len(TAGS)]
        year, month, day = 2021 + n % 4, n % 12 + 1, n % 28 + 1
        rel = f"{tag}/{year}-{month:02d}/{year}-{month:02d}-{day:02d}-doc-{n:05d}.md"
        words = [rnd.choice(WORDS) if rnd.random() < 0.6 else rnd.choice(RARE) for _ in range(words_per_doc)]
        paragraphs = "\n\n".join(" ".join(words[i : i + 80]) for i in range(0, len(words), 80))
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f"---\ntitle: 'Statement {n} on {rnd.choice(WORDS)} and {rnd.choice(WORDS)}'\n"
            f"date: '{year}-{month:02d}-{day:02d}'\ntags: {tag}\n---\n\n{paragraphs}\n\n{marker(n)}\n",
            encoding="utf-8",
        )
        made[rel] = marker(n)
    return made


def answers(index: Path, queries=QUERIES) -> dict[str, list[str]]:
    """What the index answers to each query, as the library reads it: paths in rank order."""
    from search import open_index

    with open_index(index) as ix:
        return {q: [h.path for h in ix.search(q, limit=20).results] for q in queries}


def cli_answers(index: Path, queries=QUERIES) -> dict[str, list[str]]:
    """The same through the real `search query --json` command."""
    out = {}
    for q in queries:
        done = run_search("query", q, "--index", str(index), "--json", "--limit", "20", timeout=60)
        assert done.returncode == 0, done.stderr
        out[q] = [hit["path"] for hit in json.loads(done.stdout)["results"]]
    return out


def processes_running(needle: str) -> list[int]:
    """The pids of processes whose command line contains `needle` (zombies are not running)."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                state = handle.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in cmdline and state != b"Z":
            found.append(int(entry.name))
    return found


def generations(index: Path) -> list[str]:
    return sorted(p.name for p in index.iterdir() if p.name.startswith("gen-"))
