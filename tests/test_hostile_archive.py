"""Hostile archives, round two: symbolic links that lead out of the archive, a file that turns
into a FIFO after it was listed, a document that would bloat every page, and text that would
drive the terminal.

The promises:
- Nothing whose real path is outside the archive is indexed or served; each such link is
  reported as skipped, with the reason.
- A file is read only if it is a regular file when it is opened: `search index` never waits
  on a FIFO, and never keeps the lock.
- One document cannot make the pages that list it large: its tags and title are cut at index
  time, with a warning, and facet lists are bounded.
- No control character from a document reaches the terminal from `search query` or `search show`.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from search import archive as archive_files
from search import build_index, open_index
from search.settings import MAX_FACET_VALUES, MAX_TAGS_PER_DOCUMENT, MAX_TITLE_CHARS
from web import create_app

from .harness import run_search

GOOD = "---\ntitle: '{word}'\ndate: '2024-01-02'\ntags: statements-releases\n---\n\nA good document about {word}.\n"


def good(path: Path, word: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(GOOD.format(word=word), encoding="utf-8")
    return path


def index_json(archive: Path, index: Path) -> dict:
    done = run_search("index", "--archive", str(archive), "--index", str(index), "--json", timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def skipped(report: dict) -> dict[str, str]:
    return {p["path"]: p["reason"] for p in report["skipped"]}


# --- Symbolic links --------------------------------------------------------------------------


def test_links_out_of_the_archive_are_skipped_with_the_reason_and_never_served(tmp_path):
    """Through the real `search index`, then the web app: a link to a file elsewhere, to a
    folder elsewhere, to `/`, and a chain of links inside the archive that ends outside."""
    archive, outside = tmp_path / "archive", tmp_path / "outside"
    good(archive / "x" / "inside.md", "zqinside")
    good(outside / "secret.md", "zqsecret")
    good(outside / "folder" / "deep.md", "zqdeep")
    os.symlink("/etc/passwd", archive / "x" / "passwd.md")
    os.symlink(outside / "secret.md", archive / "x" / "secret.md")
    os.symlink(outside / "folder", archive / "elsewhere")
    os.symlink("/", archive / "everything")
    os.symlink("hop2.md", archive / "x" / "hop1.md")  # a chain: hop1 -> hop2 -> secret -> outside
    os.symlink("secret.md", archive / "x" / "hop2.md")
    os.symlink("inside.md", archive / "x" / "alias.md")  # a link that stays inside is followed
    os.symlink(archive / "x", archive / "z-same-folder")  # and so is a folder inside

    report = index_json(archive, tmp_path / "index")
    reasons = skipped(report)
    real_outside = os.path.realpath(outside)
    assert reasons == {
        "elsewhere": f"a symbolic link to {real_outside}/folder, outside the archive; skipped",
        "everything": "a symbolic link to /, outside the archive; skipped",
        "x/hop1.md": f"a symbolic link to {real_outside}/secret.md, outside the archive; skipped",
        "x/hop2.md": f"a symbolic link to {real_outside}/secret.md, outside the archive; skipped",
        "x/passwd.md": f"a symbolic link to {os.path.realpath('/etc/passwd')}, outside the archive; skipped",
        "x/secret.md": f"a symbolic link to {real_outside}/secret.md, outside the archive; skipped",
        "z-same-folder": "folder already visited through a symbolic link (a link loop?); skipped",
    }
    assert report["documents"] == 2  # x/inside.md and x/alias.md

    client = create_app({"SEARCH_INDEX": str(tmp_path / "index"), "TESTING": True}).test_client()
    for path in ("x/passwd.md", "x/secret.md", "x/hop1.md", "elsewhere/deep.md", "everything/etc/passwd"):
        response = client.get(f"/api/doc/{path}")
        assert response.status_code == 404, path
        assert b"root:" not in response.data and b"zqsecret" not in response.data
    assert client.get("/api/doc/x/alias.md").json["document"]["title"] == "zqinside"
    for word in ("zqsecret", "zqdeep", "root"):
        assert client.get(f"/api/search?q={word}").json["total"] == 0, word


def test_a_file_swapped_for_a_link_out_after_listing_is_not_read(tmp_path, monkeypatch):
    """Listing saw a regular file; by the time it is read, it is a link to a file outside."""
    archive = tmp_path / "archive"
    good(archive / "a.md", "zqfirst")
    target = good(archive / "b.md", "zqswapped")
    good(tmp_path / "outside.md", "zqoutside")
    listed = archive_files.list_archive

    def list_then_swap(root, *args):
        found = listed(root, *args)
        target.unlink()
        os.symlink(tmp_path / "outside.md", target)
        return found

    monkeypatch.setattr("search.indexing.list_archive", list_then_swap)
    report = build_index(archive, tmp_path / "index", workers=1)
    assert {p.path: p.reason for p in report.skipped} == {
        "b.md": f"a symbolic link to {os.path.realpath(tmp_path / 'outside.md')}, outside the archive; skipped"
    }
    with open_index(tmp_path / "index") as ix:
        assert ix.search("zqoutside").total == 0


# --- A file that becomes a FIFO --------------------------------------------------------------


def test_a_file_that_becomes_a_fifo_after_listing_is_skipped_and_the_lock_is_freed(tmp_path, monkeypatch):
    """Opening a FIFO for reading waits for a writer for ever: the indexer opens without
    blocking and checks what it opened."""
    archive = tmp_path / "archive"
    good(archive / "a.md", "zqfifo")
    target = good(archive / "pipe.md", "zqpipe")
    listed = archive_files.list_archive

    def list_then_swap(root, *args):
        found = listed(root, *args)
        target.unlink()
        os.mkfifo(target)
        return found

    monkeypatch.setattr("search.indexing.list_archive", list_then_swap)
    outcome: dict = {}
    worker = threading.Thread(target=lambda: outcome.update(report=build_index(archive, tmp_path / "index", workers=1)),
                              daemon=True)
    worker.start()
    worker.join(60)
    if worker.is_alive():  # free the stuck open() so that the test process can end
        with open(target, "wb"):
            pass
        pytest.fail("search index waited on the FIFO")
    report = outcome["report"]
    assert {p.path: p.reason for p in report.skipped} == {"pipe.md": "not a regular file"}
    assert report.documents == 1
    monkeypatch.undo()
    assert build_index(archive, tmp_path / "index").documents == 1  # the lock was released


# --- One document that would bloat every page ------------------------------------------------


def test_a_document_with_huge_tags_and_title_is_cut_reported_and_pages_stay_small(tmp_path):
    archive = tmp_path / "archive"
    good(archive / "normal.md", "tariffs")
    many = ", ".join(f"tag{i}" for i in range(200_000))
    (archive / "many-tags.md").write_text(f"---\ntitle: Tariffs\ndate: '2024-01-03'\ntags: '{many}'\n---\n\ntariffs on steel\n")
    title = "Tariffs " * 600_000  # 4.8 MB
    (archive / "huge-title.md").write_text(f"---\ntitle: '{title}'\ndate: '2024-01-04'\n---\n\ntariffs on cars\n")
    report = index_json(archive, tmp_path / "index")
    warnings = {(w["path"], w["reason"]) for w in report["warnings"]}
    assert ("many-tags.md", f"{200_000 - MAX_TAGS_PER_DOCUMENT:,} tags beyond the first {MAX_TAGS_PER_DOCUMENT} ignored") in warnings
    assert ("huge-title.md", f"the title is longer than {MAX_TITLE_CHARS:,} characters; cut") in warnings

    client = create_app({"SEARCH_INDEX": str(tmp_path / "index"), "TESTING": True}).test_client()
    for url in ("/", "/?q=tariffs", "/api/search?q=tariffs", "/api/overview", "/doc/many-tags.md", "/doc/huge-title.md"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert len(response.data) < 100_000, (url, len(response.data))  # it was 13 MB to 64 MB
    results = client.get("/api/search?q=tariffs").json
    assert len(results["tags"]) == MAX_FACET_VALUES
    hit = next(h for h in results["results"] if h["path"] == "huge-title.md")
    assert len(hit["title"]) <= MAX_TITLE_CHARS and hit["title"].endswith("…")


# --- Text that would drive the terminal -----------------------------------------------------


def test_no_control_character_from_a_document_reaches_the_terminal(tmp_path):
    """ESC and BEL in the tags and source_url (YAML "\\e", "\\a"), character references to
    them in the body (`&#27;`, `&#13;`, `&#12;`), and escape sequences in the title."""
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "evil.md").write_text(
        '---\ntitle: "Tariffs \\e]0;pwned\\a\\e[2J"\ndate: \'2024-01-05\'\n'
        'tags: "blog\\e[8m"\nsource_url: "https://example.gov/\\e[2J\\a"\n---\n\n'
        "Tariffs &#27;[2J cleared &#13;overwritten &#12;paged &#7;bell &#x1b;]0;title&#x07; done.\n",
        encoding="utf-8",
    )
    index_json(archive, tmp_path / "index")
    for args in (("query", "tariffs"), ("show", "evil.md"), ("query", "tariffs", "--json"), ("show", "evil.md", "--json")):
        done = run_search(*args, "--index", str(tmp_path / "index"))
        assert done.returncode == 0, done.stderr
        controls = {c for c in done.stdout if (ord(c) < 32 and c not in "\n") or 0x7F <= ord(c) <= 0x9F}
        assert controls == set(), (args, controls)
    shown = run_search("show", "evil.md", "--index", str(tmp_path / "index")).stdout
    assert "cleared" in shown and "done." in shown
