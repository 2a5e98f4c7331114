"""Crashes and concurrent use: kill -9, two runs at once, queries during a swap, a damaged
index, a full disk and a read-only folder. Every test drives the real `search` command.

The promises:
- `kill -9` of `search index` at any moment, in a rebuild or an update, leaves an index that
  answers exactly as before (or as after, when the kill came after the swap); its worker
  processes end with it, and the next run cleans up and succeeds.
- While a rebuild or an update runs and swaps in, every query answers, from the CLI and from
  the running server.
- A second run at once stops at once, naming the first one's pid; a lock left by a killed
  run is no obstacle.
- A damaged index is a one-line error naming the index and the fix, exit code 1, in the CLI,
  and a 503 in the web app; never a traceback.
- A full disk or a read-only index folder is a one-line error, and the previous index is intact.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from search import build_index, open_index
from search.cli import cli
from search.storage import CURRENT, LOCK
from web import create_app

from .conftest import serve_process
from .harness import LONG, QUERIES, answers, cli_answers, generations, marker, processes_running, run_search, start_search, write_archive

KILLS = 100 if LONG else 20


# --- kill -9 ---------------------------------------------------------------------------------


def _age(archive: Path) -> None:
    """Make every file look old, so an update judges changes by size and content alone."""
    past = time.time() - 3600
    for path in archive.rglob("*.md"):
        os.utime(path, (past, past))


def _change(archive: Path, made: dict[str, str], seed: int) -> None:
    """Change, add and delete documents, so that a finished run answers differently."""
    rnd = random.Random(seed)
    paths = sorted(made)
    for rel in rnd.sample(paths, 150):
        path = archive / rel
        path.write_text(path.read_text(encoding="utf-8").replace("russia", "sanctions sanctions"), encoding="utf-8")
    for rel in rnd.sample(paths, 40):
        (archive / rel).unlink()
    extra = archive / "added"
    write_archive(extra, 40, seed=seed + 1)


def _wait_gone(needle: str, timeout: float = 5.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while (left := processes_running(needle)) and time.monotonic() < deadline:
        time.sleep(0.02)
    return left


def _kill_loop(tmp_path: Path, update: bool) -> dict:
    """Kill `search index` (with --update, or not) at random moments, KILLS times; after each
    kill, check the index answers as before it, or as after a finished run."""
    archive, index, pristine = tmp_path / "archive", tmp_path / "index", tmp_path / "pristine"
    made = write_archive(archive, 900, words_per_doc=150)  # enough for two worker processes
    _age(archive)
    assert run_search("index", "-q", "--archive", str(archive), "--index", str(pristine)).returncode == 0
    old = answers(pristine)
    _change(archive, made, seed=7)
    # What a run that is not interrupted gives, and how long it takes.
    reference = tmp_path / "reference"
    shutil.copytree(pristine, reference)
    args = ["index", "-q", *(["--update"] if update else []), "--archive", str(archive), "--index"]
    started = time.monotonic()
    assert run_search(*args, str(reference)).returncode == 0
    duration = time.monotonic() - started
    new = answers(reference)
    assert new != old  # so a finished run can be told from an interrupted one

    shutil.copytree(pristine, index)
    rnd = random.Random(2024 + update)
    seen = {"before swap": 0, "after swap": 0, "mid-build": 0}
    for kill in range(KILLS):
        current = (index / CURRENT).read_text()
        process = start_search(*args, str(index))
        time.sleep(rnd.uniform(0, duration * 1.1))
        building = bool(list(index.glob("gen-*.partial")))
        process.kill()
        process.wait()
        assert _wait_gone(str(index)) == [], "a worker outlived its killed parent"
        swapped = (index / CURRENT).read_text() != current
        seen["after swap" if swapped else "before swap"] += 1
        seen["mid-build"] += building and not swapped
        assert answers(index) == (new if swapped else old), f"kill {kill}"
        assert len(list(index.glob("gen-*.partial"))) <= 1  # each run removes what the last one left
        if swapped:  # start again from the old index, so that every run has work to do
            shutil.rmtree(index)
            shutil.copytree(pristine, index)
    assert seen["mid-build"] >= KILLS // 4, seen  # most kills landed inside a build

    # The next run cleans up and succeeds; the CLI answers as the library does.
    done = run_search(*args, str(index))
    assert done.returncode == 0, done.stderr
    assert not list(index.glob("*.partial")) and not (index / "CURRENT.tmp").exists()
    assert len(generations(index)) <= 2
    assert (index / LOCK).read_text() == ""
    assert answers(index) == new and cli_answers(index, QUERIES[:2]) == {q: new[q] for q in QUERIES[:2]}
    return seen


def test_kill_9_at_random_moments_of_a_rebuild_never_loses_the_index(tmp_path):
    """Slow: 20 kills (100 with SEARCH_LONG_TESTS=1), about 10 s."""
    _kill_loop(tmp_path, update=False)


def test_kill_9_at_random_moments_of_an_update_never_loses_the_index(tmp_path):
    """Slow: 20 kills (100 with SEARCH_LONG_TESTS=1), about 7 s."""
    _kill_loop(tmp_path, update=True)


def test_a_lock_left_by_a_killed_run_does_not_stop_the_next(tmp_path):
    archive, index = tmp_path / "archive", tmp_path / "index"
    write_archive(archive, 1600, words_per_doc=150)
    first = start_search("index", "-q", "--archive", str(archive), "--index", str(index))
    deadline = time.monotonic() + 30
    while not list(index.glob("gen-*.partial")):  # its workers are writing
        assert first.poll() is None and time.monotonic() < deadline
        time.sleep(0.005)
    assert (index / LOCK).read_text().strip() == str(first.pid)
    first.kill()
    first.wait()
    # The file still names the dead run, but the kernel dropped its lock with it (and its
    # workers, which shared the lock's open file, ended with it too).
    assert (index / LOCK).read_text().strip() == str(first.pid)
    second = run_search("index", "--archive", str(archive), "--index", str(index))
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith("Indexed 1,600 documents")
    assert (index / LOCK).read_text() == ""
    assert processes_running(str(index)) == []


# --- Two runs at once ------------------------------------------------------------------------


def _busy(index: Path, pid: int) -> str:
    return f"Error: another indexing run is in progress (pid {pid}) on {index}; wait for it to finish\n"


@pytest.mark.parametrize("second", [["index"], ["index", "--update"]])
def test_a_second_run_stops_at_once_naming_the_first(tmp_path, second):
    archive, index = tmp_path / "archive", tmp_path / "index"
    made = write_archive(archive, 1600, words_per_doc=150)
    first = start_search("index", "-q", "--archive", str(archive), "--index", str(index))
    deadline = time.monotonic() + 30
    while (index / LOCK).exists() is False or (index / LOCK).read_text().strip() != str(first.pid):
        assert first.poll() is None and time.monotonic() < deadline
        time.sleep(0.005)
    started = time.monotonic()
    refused = run_search(*second, "--archive", str(archive), "--index", str(index))
    assert time.monotonic() - started < 5  # at once, not after the first run
    assert first.poll() is None  # the first was still running
    assert (refused.returncode, refused.stdout, refused.stderr) == (1, "", _busy(index, first.pid))
    _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    by_word = {word: path for path, word in made.items()}
    with open_index(index) as ix:
        assert ix.overview().documents == len(made)
        assert [h.path for h in ix.search(marker(37)).results] == [by_word[marker(37)]]


def test_two_runs_started_together_never_mix(tmp_path):
    archive, index = tmp_path / "archive", tmp_path / "index"
    made = write_archive(archive, 1000, words_per_doc=150)
    for _ in range(3 if not LONG else 20):
        runs = [start_search("index", "-q", "--archive", str(archive), "--index", str(index)) for _ in range(2)]
        results = [(run.wait(timeout=120), run.stderr.read(), run.pid) for run in runs]
        codes = sorted(code for code, _, _ in results)
        assert codes in ([0, 0], [0, 1]), results
        for code, err, _pid in results:
            if code == 1:
                winner = next(p for c, _, p in results if c == 0)
                assert err == _busy(index, winner)
        assert len(generations(index)) <= 2 and not list(index.glob("*.partial"))
        with open_index(index) as ix:
            assert ix.overview().documents == len(made)


# --- Queries while the index is rebuilt ------------------------------------------------------


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_queries_answer_throughout_rebuilds_updates_and_swaps(tmp_path):
    """Slow: four rebuilds and updates under queries, about 10 s (30 with SEARCH_LONG_TESTS=1)."""
    archive, index = tmp_path / "archive", tmp_path / "index"
    made = write_archive(archive, 1200, words_per_doc=150)
    steady = sorted(made)[100]  # never changed: always found by its word
    assert run_search("index", "-q", "--archive", str(archive), "--index", str(index)).returncode == 0
    failures, counts, built = [], {"web": 0, "cli": 0}, set()
    stop = threading.Event()

    with serve_process(index, tmp_path, "--processes", "2", "--threads", "4") as server:

        def web_client(n: int) -> None:
            rnd = random.Random(n)
            while not stop.is_set():
                kind = rnd.choice(["search", "filter", "doc", "steady", "overview"])
                url = {
                    "search": f"api/search?q={rnd.choice(['russia+sanctions', 'climate', 'wildfire+recovery'])}",
                    "filter": "api/search?q=energy&tag=blog&since=2022-01-01&sort=newest",
                    "doc": f"api/doc/{steady}",
                    "steady": f"api/search?q={made[steady]}",
                    "overview": "api/overview",
                }[kind]
                try:
                    status, data = _get(server.url + url)
                except Exception as exc:  # a refused or broken connection is a failure too
                    failures.append((url, repr(exc)))
                    continue
                counts["web"] += 1
                if status != 200 or data.get("ok") is not True:
                    failures.append((url, status, data))
                elif kind == "steady" and [h["path"] for h in data["results"]] != [steady]:
                    failures.append((url, data["results"]))
                elif kind == "overview":
                    built.add(data["built"])

        def cli_client() -> None:
            while not stop.is_set():
                done = run_search("query", made[steady], "--index", str(index), "--json", timeout=60)
                counts["cli"] += 1
                if done.returncode != 0 or [h["path"] for h in json.loads(done.stdout)["results"]] != [steady]:
                    failures.append(("cli", done.returncode, done.stderr[-500:]))

        threads = [threading.Thread(target=web_client, args=(n,)) for n in range(4)] + [threading.Thread(target=cli_client)]
        for thread in threads:
            thread.start()
        try:
            for run in range(4 if not LONG else 30):
                if run % 2:  # an update with real changes
                    victim = archive / sorted(made)[200 + run]
                    victim.write_text(victim.read_text(encoding="utf-8") + f"\nchanged {run}\n", encoding="utf-8")
                    time.sleep(0.01)
                done = run_search("index", "-q", "--archive", str(archive), "--index", str(index),
                                  *(["--update"] if run % 2 else []))
                assert done.returncode == 0, done.stderr
                time.sleep(0.2)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
        assert server.process.poll() is None
        assert "Traceback" not in server.stderr()
    assert failures[:5] == [] and not failures
    assert counts["web"] > 200 and counts["cli"] >= 5, counts
    assert len(built) >= 3  # the server saw the swaps


# --- A damaged index -------------------------------------------------------------------------


def _current(index: Path) -> Path:
    return index / (index / CURRENT).read_text().strip()


def _largest(index: Path, suffix: str) -> Path:
    return max(_current(index).glob(f"*{suffix}"), key=lambda p: p.stat().st_size)


def _truncate(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def _garble(path: Path) -> None:
    path.write_bytes(random.Random(1).randbytes(path.stat().st_size))


DAMAGE = {
    "truncated postings": lambda ix: _truncate(_largest(ix, ".pst")),
    "missing terms": lambda ix: _largest(ix, ".trm").unlink(),
    "garbage table of contents": lambda ix: _garble(max(_current(ix).glob("_MAIN_*.toc"))),
    "missing table of contents": lambda ix: max(_current(ix).glob("_MAIN_*.toc")).unlink(),
    "truncated stored fields": lambda ix: _truncate(_largest(ix, "_stored.col")),
    "garbage postings of the same size": lambda ix: _garble(_largest(ix, ".pst")),
    "garbage stored fields of the same size": lambda ix: _garble(_largest(ix, "_stored.col")),
    "garbage dates of the same size": lambda ix: _garble(_largest(ix, ".date.col")),
    "missing spelling list": lambda ix: (_current(ix) / "words.tsv").unlink(),
    "garbage meta": lambda ix: (_current(ix) / "meta.json").write_text("{not json"),
    "CURRENT names a missing generation": lambda ix: shutil.rmtree(_current(ix)),
}
# Same-size garbage is found only by a read that touches it: what does not, answers rightly.
UNTOUCHED = {"garbage dates of the same size": {"query", "show", "batch", "/api/doc/", "/doc/"}}
ONE_LINE = re.compile(r"Error: the index at (?P<index>.+) is damaged \((?P<why>.+)\); run 'search index' to rebuild\n")


@pytest.fixture(scope="module")
def damage_source(tmp_path_factory):
    root = tmp_path_factory.mktemp("damage")
    made = write_archive(root / "archive", 300, words_per_doc=150)
    build_index(root / "archive", root / "index")
    return root, made


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_index_is_one_line_in_the_cli_and_a_503_on_the_web(damage_source, tmp_path, damage):
    source, made = damage_source
    index = tmp_path / "index"
    shutil.copytree(source / "index", index)
    doc = sorted(made)[3]
    DAMAGE[damage](index)
    untouched = UNTOUCHED.get(damage, set())
    runner = CliRunner()
    for label, args in [("query", ["query", "russia sanctions"]), ("sorted", ["query", "energy", "--sort", "newest", "--tag", "blog"]),
                        ("show", ["show", doc]), ("batch", ["batch", "-"])]:
        result = runner.invoke(cli, [*args, "--index", str(index)], input="q1\tclimate energy\n")
        assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)
        if label in untouched:
            assert result.exit_code == 0 and "Error" not in result.stderr, (args, result.stderr)
            continue
        assert result.exit_code == 1, (args, result.output)
        match = ONE_LINE.fullmatch(result.stderr)
        assert match and match["index"] == str(index), (args, result.stderr)
    app = create_app({"SEARCH_INDEX": str(index), "TESTING": True})
    client = app.test_client()
    for url in ("/api/search?q=russia+sanctions", "/api/search?q=energy&sort=newest&tag=blog", f"/api/doc/{doc}"):
        response = client.get(url)
        if url.startswith(tuple(untouched)):
            assert response.status_code == 200 and response.json["ok"] is True
            continue
        assert response.status_code == 503, url
        assert response.json == {"ok": False, "error": "The index is damaged; run 'search index' to rebuild it."}
    for url in ("/?q=russia+sanctions", f"/doc/{doc}"):
        response = client.get(url)
        if url.startswith(tuple(untouched)):
            assert response.status_code == 200
            continue
        assert response.status_code == 503 and "Index damaged" in response.get_data(as_text=True), url
        assert str(index) not in response.get_data(as_text=True)  # the folder goes to the log only
    # Rebuilding is the fix, and the app picks it up without a restart.
    build_index(source / "archive", index)
    assert client.get("/api/search?q=russia+sanctions").status_code == 200
    assert runner.invoke(cli, ["query", "russia", "--index", str(index)]).exit_code == 0
    app.extensions["search"].close()


def test_damage_found_while_serving_is_a_503_from_the_real_server_and_cli(damage_source, tmp_path):
    source, made = damage_source
    index = tmp_path / "index"
    shutil.copytree(source / "index", index)
    with serve_process(index, tmp_path, "--processes", "1") as server:
        assert _get(server.url + "api/search?q=russia")[0] == 200  # opened while intact
        _garble(_largest(index, ".pst"))  # then damaged under it
        for _ in range(3):
            status, data = _get(server.url + "api/search?q=climate+energy")
            assert (status, data) == (503, {"ok": False, "error": "The index is damaged; run 'search index' to rebuild it."})
        assert "Traceback" not in server.stderr() and "is damaged" in server.stderr()
    done = run_search("query", "climate energy", "--index", str(index))
    assert done.returncode == 1 and ONE_LINE.fullmatch(done.stderr) and "Traceback" not in done.stderr
    assert "has changed since it was written" in done.stderr
    rebuilt = run_search("index", "--archive", str(source / "archive"), "--index", str(index))
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert run_search("query", "climate energy", "--index", str(index)).returncode == 0


def test_an_update_of_a_damaged_index_rebuilds_and_says_why(damage_source, tmp_path):
    source, _ = damage_source
    index = tmp_path / "index"
    shutil.copytree(source / "index", index)
    _truncate(_largest(index, ".pst"))
    update = run_search("index", "--update", "--archive", str(source / "archive"), "--index", str(index))
    assert update.returncode == 0, update.stderr
    assert re.search(r"Note: the index at .* is damaged \(gen-000001/MAIN_\w+\.pst is [\d,]+ bytes, not [\d,]+\); "
                     r"run 'search index' to rebuild; did a full rebuild\.", update.stdout), update.stdout
    assert run_search("query", "climate energy", "--index", str(index)).returncode == 0


def test_a_bug_is_not_reported_as_damage(small_index, monkeypatch):
    """The other side of the diagnosis: with every file intact, an unexpected error is a 500
    (logged with its traceback), not a request to rebuild."""
    from search import searching

    monkeypatch.setattr(searching.SearchIndex, "overview", lambda self: 1 / 0)
    app = create_app({"SEARCH_INDEX": str(small_index), "TESTING": True})
    response = app.test_client().get("/api/overview")
    assert response.status_code == 500 and response.json["ok"] is False
    assert "rebuild" not in response.json["error"]


# --- A full disk, a read-only folder ---------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MB tmpfs, mounted for the test (skipped where mounting is not allowed)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill (needs root or CAP_SYS_ADMIN): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _free(path: Path) -> int:
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


@pytest.mark.parametrize("count, update", [(600, False), (1000, False), (600, True)], ids=["one process", "workers", "update"])
def test_a_full_disk_is_a_clear_error_and_the_previous_index_stays(small_disk, small_archive, tmp_path, count, update):
    index = small_disk / "index"
    assert run_search("index", "-q", "--archive", str(small_archive), "--index", str(index)).returncode == 0
    before = answers(index, ["Russia sanctions", "Maui", "ports"])
    free = _free(small_disk)
    if update:
        write_archive(small_archive / "more", count, words_per_doc=300)
        args = ["index", "--update", "--archive", str(small_archive)]
    else:
        big = tmp_path / "big"
        write_archive(big, count, words_per_doc=300)
        args = ["index", "--archive", str(big)]
    done = run_search(*args, "--index", str(index))
    assert done.returncode == 1, done.stdout
    assert done.stderr == (f"Error: could not write the index at {index}: no space left on the device; "
                           "the previous index is unchanged\n")
    assert answers(index, ["Russia sanctions", "Maui", "ports"]) == before
    assert not list(index.glob("*.partial")) and len(generations(index)) == 1
    assert _free(small_disk) >= free - 64 * 1024  # what the failed run wrote is gone
    assert processes_running(str(index)) == []
    shutil.rmtree(small_archive / "more", ignore_errors=True)
    again = run_search("index", "-q", "--archive", str(small_archive), "--index", str(index))
    assert again.returncode == 0, again.stderr  # and the next run works


def test_a_read_only_index_folder_is_a_clear_error_and_the_index_still_answers(small_disk, small_archive):
    index = small_disk / "index"
    assert run_search("index", "-q", "--archive", str(small_archive), "--index", str(index)).returncode == 0
    before = answers(index, ["Russia sanctions", "Maui"])
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    for update in ([], ["--update"]):
        write_new = small_archive / "blog" / "new.md"
        write_new.write_text("---\ntitle: New\n---\nzeppelin\n")
        done = run_search("index", *update, "--archive", str(small_archive), "--index", str(index))
        assert (done.returncode, done.stderr) == (1, f"Error: could not write the index at {index}: permission denied "
                                                     "(read-only folder?); the previous index is unchanged\n")
        assert answers(index, ["Russia sanctions", "Maui"]) == before
    assert run_search("query", "Maui", "--index", str(index)).returncode == 0
