"""Building and updating the index: reports, atomic swaps, locks and incremental changes."""

from __future__ import annotations

import os
import time

import pytest

from search import IndexBusy, SearchError, build_index, indexing, open_index, segments, storage, update_index
from search.errors import ArchiveNotFound

from .conftest import DOCS, write_doc


def paths(index) -> list[str]:
    with open_index(index) as ix:
        return sorted(f["path"] for f in ix._searcher.all_stored_fields())


def test_build_reports_counts_and_is_searchable(small_archive, tmp_path):
    report = build_index(small_archive, tmp_path / "ix")
    assert (report.mode, report.documents, report.added) == ("rebuild", 5, 5)
    assert report.skipped == [] and report.warnings == []
    assert paths(tmp_path / "ix") == sorted(DOCS)
    current = (tmp_path / "ix" / "CURRENT").read_text().strip()
    assert current == "gen-000001"


def test_bad_files_are_skipped_with_reasons_and_the_rest_indexed(small_archive, tmp_path):
    (small_archive / "bad").mkdir()
    (small_archive / "bad" / "broken.md").write_text("---\ntitle: [oops\n---\nbody\n")
    (small_archive / "bad" / "empty.md").write_text("")
    (small_archive / "bad" / "binary.txt").write_bytes(b"\x00\x01\x02binary")
    (small_archive / "bad" / "latin1.md").write_bytes(b"---\ntitle: caf\xe9\n---\nbody\n")
    write_doc(small_archive, "notitle/2024-05-06-untitled-note.md", body="A note about ports.", date="'2024-05-06'")
    report = build_index(small_archive, tmp_path / "ix")
    assert report.documents == 6
    reasons = {p.path: p.reason for p in report.skipped}
    assert set(reasons) == {"bad/broken.md", "bad/empty.md", "bad/binary.txt", "bad/latin1.md"}
    assert reasons["bad/empty.md"] == "empty file"
    assert reasons["bad/broken.md"].startswith("invalid YAML front matter")
    assert [(w.path, w.reason) for w in report.warnings] == [
        ("notitle/2024-05-06-untitled-note.md", "no title; using the file name")
    ]


def test_a_missing_archive_is_an_error(tmp_path):
    with pytest.raises(ArchiveNotFound, match="no archive at"):
        build_index(tmp_path / "nope", tmp_path / "ix")


def test_an_archive_with_nothing_usable_keeps_the_previous_index(small_index, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.md").write_text("")
    with pytest.raises(SearchError, match="none of the 1 files"):
        build_index(bad, small_index)
    assert len(paths(small_index)) == 5


def test_a_failure_mid_build_leaves_the_previous_index_searchable(small_index, small_archive, monkeypatch):
    with open_index(small_index) as ix:
        before = [h.path for h in ix.search("Russia sanctions").results]
    write_doc(small_archive, "new/2024-09-01-new.md", body="Russia sanctions again", title="New", date="'2024-09-01'")
    calls = {"n": 0}
    real = segments.parse_document

    def failing(path, raw, facets=()):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk on fire")
        return real(path, raw, facets)

    monkeypatch.setattr(segments, "parse_document", failing)
    with pytest.raises(RuntimeError):
        build_index(small_archive, small_index)
    assert not [p for p in small_index.iterdir() if p.name.endswith(".partial")]
    with open_index(small_index) as ix:
        assert [h.path for h in ix.search("Russia sanctions").results] == before


def test_leftover_partial_builds_are_removed_by_the_next_run(small_index, small_archive):
    (small_index / "gen-000099.partial").mkdir()
    (small_index / "gen-000099.partial" / "junk").write_text("x")
    build_index(small_archive, small_index)
    names = sorted(p.name for p in small_index.iterdir())
    assert "gen-000099.partial" not in names
    # The current generation and the one before it (for readers that still hold it) remain.
    assert [n for n in names if n.startswith("gen-")] == ["gen-000001", "gen-000002"]


def test_old_generations_beyond_the_previous_one_are_removed(small_archive, tmp_path):
    index = tmp_path / "ix"
    for _ in range(4):
        build_index(small_archive, index)
    assert sorted(p.name for p in index.iterdir() if p.name.startswith("gen-")) == ["gen-000003", "gen-000004"]


def test_a_second_run_while_one_holds_the_lock_is_refused(small_archive, tmp_path):
    index = tmp_path / "ix"
    with storage.locked(index):
        with pytest.raises(IndexBusy, match=rf"another indexing run is in progress \(pid {os.getpid()}\)"):
            build_index(small_archive, index)
    build_index(small_archive, index)  # the lock is free again


def test_the_multiprocess_build_gives_the_same_index(small_archive, tmp_path, monkeypatch):
    monkeypatch.setattr(indexing, "MIN_FILES_PER_WORKER", 1)
    report = build_index(small_archive, tmp_path / "mp", workers=2)
    assert report.documents == 5
    build_index(small_archive, tmp_path / "sp", workers=1)
    with open_index(tmp_path / "mp") as mp, open_index(tmp_path / "sp") as sp:
        for q in ["Russia", "Maui recovery", "clean energy", "ports"]:
            assert [h.path for h in mp.search(q).results] == [h.path for h in sp.search(q).results]
    assert not (tmp_path / "mp" / "gen-000001" / "MAIN.tmp").exists()


# --- Incremental update ---------------------------------------------------------------------


def test_update_without_an_index_does_a_full_rebuild_and_says_so(small_archive, tmp_path):
    report = update_index(small_archive, tmp_path / "ix")
    assert report.mode == "rebuild"
    assert report.note == "no index yet; did a full rebuild"
    assert report.documents == 5


def test_update_with_nothing_changed_is_up_to_date(small_archive, small_index):
    report = update_index(small_archive, small_index)
    assert report.mode == "up to date"
    assert (small_index / "CURRENT").read_text().strip() == "gen-000001"


def test_update_adds_changes_and_removes(small_archive, small_index):
    write_doc(small_archive, "new/2024-09-01-added.md", title="Added", date="'2024-09-01'", body="A zeppelin arrived.")
    changed = small_archive / "blog/2021-11/2021-11-17-ports.md"
    changed.write_text(changed.read_text().replace("containers", "hovercraft"))
    (small_archive / "statements-releases/2024-07/2024-07-25-maui.md").unlink()
    report = update_index(small_archive, small_index)
    assert (report.mode, report.added, report.updated, report.removed, report.documents) == ("update", 1, 1, 1, 5)
    with open_index(small_index) as ix:
        assert [h.path for h in ix.search("zeppelin").results] == ["new/2024-09-01-added.md"]
        assert [h.path for h in ix.search("hovercraft").results] == ["blog/2021-11/2021-11-17-ports.md"]
        assert ix.search("containers").total == 0
        assert ix.search("Lahaina").total == 0
    assert update_index(small_archive, small_index).mode == "up to date"


def test_update_sees_a_same_size_change_with_the_mtime_restored(small_archive, small_index):
    # A change that keeps size and mtime is caught by the content hash while the mtime is
    # recent enough to be ambiguous (within the filesystem's timestamp resolution).
    path = small_archive / "blog/2021-11/2021-11-17-ports.md"
    stat = path.stat()
    path.write_text(path.read_text().replace("Los Angeles", "Los Angelez"))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    report = update_index(small_archive, small_index)
    assert report.updated == 1


def test_a_file_that_becomes_malformed_is_reported_and_its_old_version_removed(small_archive, small_index):
    path = small_archive / "blog/2021-11/2021-11-17-ports.md"
    path.write_text("---\ntitle: [broken\n---\nports\n")
    report = update_index(small_archive, small_index)
    assert [p.path for p in report.skipped] == ["blog/2021-11/2021-11-17-ports.md"]
    assert report.removed == 1 and report.documents == 4
    with open_index(small_index) as ix:
        assert ix.search("ports").total == 0
    # Still broken and unchanged: still reported, nothing else happens.
    again = update_index(small_archive, small_index)
    assert again.mode == "up to date"
    assert [p.path for p in again.skipped] == ["blog/2021-11/2021-11-17-ports.md"]


def test_update_from_another_archive_rebuilds(small_index, tmp_path):
    other = tmp_path / "other"
    write_doc(other, "x.md", title="Other", date="'2024-01-01'", body="Entirely different.")
    report = update_index(other, small_index)
    assert report.mode == "rebuild" and "built from" in report.note
    assert paths(small_index) == ["x.md"]


def test_update_of_an_index_from_another_version_rebuilds(small_archive, small_index):
    meta = small_index / "gen-000001" / "meta.json"
    meta.write_text(meta.read_text().replace('"format":"', '"format":"0.'))
    report = update_index(small_archive, small_index)
    assert report.mode == "rebuild" and "another version" in report.note


def test_an_interrupted_update_leaves_the_index_as_it_was(small_archive, small_index, monkeypatch):
    write_doc(small_archive, "new/2024-09-01-added.md", title="Added", date="'2024-09-01'", body="A zeppelin arrived.")
    monkeypatch.setattr(storage, "publish", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        update_index(small_archive, small_index)
    assert (small_index / "CURRENT").read_text().strip() == "gen-000001"
    assert not [p for p in small_index.iterdir() if p.name.endswith(".partial")]
    with open_index(small_index) as ix:
        assert ix.search("zeppelin").total == 0
        assert ix.search("Maui").total == 1


def test_update_is_fast_because_it_only_reads_what_changed(small_archive, small_index, monkeypatch):
    seen = []
    real = segments.parse_document
    monkeypatch.setattr(segments, "parse_document", lambda path, raw, facets=(): seen.append(path) or real(path, raw, facets))
    time.sleep(0.01)
    write_doc(small_archive, "new/2024-09-01-added.md", title="Added", date="'2024-09-01'", body="New text.")
    update_index(small_archive, small_index)
    assert seen == ["new/2024-09-01-added.md"]
