"""Bad archives: generated documents and trees (hypothesis), and the worst files by fixture.

The promises:
- `parse_document` gives a Document or raises `Unreadable` with a one-line reason, whatever
  the bytes, and in time linear in their length.
- Every readable, valid document is indexed and found by a word of its body; every other
  document file is in the report with its reason.
- `search index` never crashes, never hangs, and exits 0 whenever it built an index.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from search import build_index, indexing, open_index, update_index
from search.archive import Unreadable
from search.cleaning import _without_comments, _without_emphasis, clean_body
from search.cli import cli
from search.documents import parse_document
from search.settings import MAX_DOCUMENT_BYTES, MAX_TAGS_PER_DOCUMENT
from web import create_app

from .harness import LONG, marker, processes_running, run_search, start_search, write_archive

EXAMPLES = 400 if LONG else 60

# --- Generated documents ---------------------------------------------------------------------

FIELDS = ["title", "date", "tags", "source_url", "published_time", "modified_time", "id"]
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**30), 10**30), st.floats(), st.text(max_size=30),
    st.dates(), st.datetimes(), st.binary(max_size=6),
    # Dates that are not dates.
    st.sampled_from(["2024-02-30", "2024-13-01", "0000-00-00", "yesterday", "2024/07/11", "99999-01-01",
                     "2024-07-11T25:00", "", " ", "1e400", "-1"]),
)
# Nested structures: lists where strings are expected, mappings where lists are.
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                      max_leaves=10)
HUGE = st.builds(lambda word, n: (word + " ") * n, st.text(min_size=1, max_size=8), st.integers(2_000, 20_000))
FRONT = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=10), VALUES | HUGE, max_size=8)
# Pieces of a body: Markdown and HTML that the cleaner reads, broken markup, `---` lines.
FRAGMENTS = st.sampled_from([
    "---", "***", "*", "**bold**", "*a", "[link](http://x.gov/a)", "[", "](", "![img](x.png)", "<b>", "</p>",
    "<script>alert(1)</script>", "&amp;", "&#" + "9" * 5000 + ";", "&#x110000;", "\\*", "\\", "#", "# Heading",
    "- item", "1. item", "|a|b|", "  ", "\t", "\u00a0", "\u2028", "\ufeff", "\u2060", "word", "Ünïcode", "日本語",
    "🎉", "\x7f", "\x1b[31m", "---\ntitle: inner\n---", "\n", "\n\n", "{.class}", "`code`",
]) | st.text(max_size=20)


def _yaml(meta: dict) -> str:
    try:
        return yaml.dump(meta, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), allow_unicode=True, width=1_000_000)
    except yaml.YAMLError:
        return "title: unrepresentable\n"


@st.composite
def document_bytes(draw, word: str | None = None) -> bytes:
    """A document file's bytes: random front matter (or none, or garbage, or unclosed), a body
    of awkward pieces, and the encodings that go wrong. With `word`, the body begins with it,
    as a paragraph of its own, so that a valid document must be found by it."""
    front = draw(st.one_of(st.builds(_yaml, FRONT), st.text(max_size=80), st.just("title: [unclosed\n")))
    body = "".join(draw(st.lists(FRAGMENTS, max_size=12)))
    layouts = ["front matter", "front matter", "no front matter", "unclosed"]
    if word:
        body = f"\n{word}\n\n{body}"
    else:
        layouts.append("no body")
    layout = draw(st.sampled_from(layouts))
    text = {
        "front matter": f"---\n{front}---\n{body}",
        "no front matter": body if word else body or "x",
        "unclosed": f"---\n{front}\n{body}",
        "no body": f"---\n{front}---\n",
    }[layout]
    text = text.replace("\n", draw(st.sampled_from(["\n", "\n", "\r\n", "\r"])))
    raw = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        raw = b"\xef\xbb\xbf" + raw  # a BOM
    if draw(st.integers(0, 5)) == 0:  # binary bytes, invalid UTF-8, NUL
        at = draw(st.integers(0, len(raw)))
        if word and 0 <= (start := raw.find(word.encode())) <= at <= start + len(word):
            at = start + len(word) + 1  # past the line break after the word: bytes inside or against it would change it
        raw = raw[:at] + draw(st.binary(min_size=1, max_size=8)) + raw[at:]
    return raw


def check_document(path: str, raw: bytes):
    """The contract of `parse_document`: a Document of sane types, or a one-line reason."""
    try:
        doc = parse_document(path, raw)
    except Unreadable as exc:
        reason = str(exc)
        assert reason and "\n" not in reason and len(reason) < 300
        return None
    assert isinstance(doc.title, str) and doc.title and "\n" not in doc.title
    assert doc.date is None or re.fullmatch(r"\d{4}-\d{2}-\d{2}", doc.date)
    assert all(isinstance(t, str) and t and "," not in t for t in doc.tags)
    assert len(doc.tags) == len(set(doc.tags))
    for value in (doc.source_url, doc.published_time, doc.modified_time, doc.doc_id):
        assert value is None or isinstance(value, str)
    assert isinstance(doc.body, str) and "\r" not in doc.body and "\x00" not in doc.body
    assert all(isinstance(w, str) and "\n" not in w for w in doc.warnings)
    return doc


@settings(max_examples=EXAMPLES * 10, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(raw=document_bytes())
def test_any_bytes_give_a_document_or_a_one_line_reason(raw):
    check_document("folder/2024-05-06-a-note.md", raw)


def test_yaml_aliases_cannot_make_a_small_file_enormous():
    # A "billion laughs" front matter: 9**10 strings through aliases, from 600 bytes of YAML.
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    for field in FIELDS + ["other"]:
        raw = ("---\n" + "\n".join(lines) + f"\n{field}: *a9\n---\nbody words\n").encode()
        started = time.perf_counter()
        doc = check_document("x.md", raw)
        assert time.perf_counter() - started < 2, field
        assert doc.body == "body words"


def test_a_document_with_a_million_tags_is_read_in_linear_time():
    raw = ("---\ntags: [" + ",".join(f"t{i}" for i in range(200_000)) + ", t1]\n---\nbody\n").encode()
    started = time.perf_counter()
    doc = parse_document("x.md", raw)
    assert time.perf_counter() - started < 10  # 200,000 tags; the quadratic version took an hour
    # Only the first MAX_TAGS_PER_DOCUMENT are kept, and the rest reported: one hostile file
    # must not make every page that lists its tags enormous.
    assert len(doc.tags) == MAX_TAGS_PER_DOCUMENT and doc.tags[:2] == ["t0", "t1"]
    assert f"{200_000 - MAX_TAGS_PER_DOCUMENT:,} tags beyond the first {MAX_TAGS_PER_DOCUMENT} ignored" in doc.warnings


# Markup that made the cleaner's regular expressions quadratic: each took hours at 10 MB.
PATHOLOGICAL = {
    "unclosed emphasis": "*a ", "unclosed strong": "**a ", "stars": "*", "brackets": "[", "images": "![",
    "spans": "[a]{", "image targets": "![a](", "comments": "<!--", "link titles": '[a](u "',
    "heading spaces": None, "long character reference": None,
}


@pytest.mark.parametrize("name", PATHOLOGICAL)
def test_pathological_markup_is_cleaned_in_linear_time(name):
    size = 2 * 1024 * 1024
    if name == "heading spaces":
        text = "# a" + " " * size + "b"
    elif name == "long character reference":
        text = "&#" + "7" * size + ";"
    else:
        text = PATHOLOGICAL[name] * (size // len(PATHOLOGICAL[name]))
    started = time.perf_counter()
    body = clean_body(text)
    elapsed = time.perf_counter() - started
    assert elapsed < 5, f"{name}: {elapsed:.1f} s for 2 MB"
    assert isinstance(body, str)
    if name == "long character reference":
        assert body == "\ufffd"  # beyond Unicode, as html.unescape reads a shorter one


REFERENCE_EMPHASIS = re.compile(r"(\*{1,3})(?=\S)(.+?)(?<=\S)\1")
REFERENCE_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


@settings(max_examples=EXAMPLES * 20, deadline=None)
@given(line=st.text(alphabet="* a\u00a0\t.", max_size=40))
def test_linear_emphasis_removal_matches_the_regular_expression(line):
    assert _without_emphasis(line) == REFERENCE_EMPHASIS.sub(r"\2", line)


@settings(max_examples=EXAMPLES * 20, deadline=None)
@given(text=st.text(alphabet="<!->a\n", max_size=40))
def test_linear_comment_removal_matches_the_regular_expression(text):
    assert _without_comments(text) == REFERENCE_COMMENT.sub("", text)


# --- Generated archives ----------------------------------------------------------------------

NAME = st.builds(lambda first, rest: first + rest, st.sampled_from("abcxyz019éü日"), st.text(alphabet="abcxyz019 -_.éü日", max_size=10))
SUFFIX = st.sampled_from([".md", ".md", ".markdown", ".txt", ".MD", ".html", ".json"])


@st.composite
def archive_tree(draw):
    """Files at random depths: (relative path, bytes, the word its body begins with, or None)."""
    count = draw(st.integers(1, 14))
    files, seen = [], set()
    for n in range(count):
        folders = draw(st.lists(NAME, max_size=4))
        rel = "/".join(folders + [draw(NAME) + draw(SUFFIX)])
        if rel in seen or any(rel.startswith(s + "/") or s.startswith(rel + "/") for s in seen):
            continue  # a file where a folder is, or the other way round
        seen.add(rel)
        word = marker(n) if draw(st.integers(0, 4)) else None
        files.append((rel, draw(document_bytes(word=word)), word))
    return files


@settings(max_examples=EXAMPLES, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(tree=archive_tree())
def test_every_valid_document_is_found_and_every_other_file_reported(tree, tmp_path, monkeypatch):
    monkeypatch.setattr(indexing, "MIN_FILES_PER_WORKER", 3)  # so that larger trees use worker processes
    work = Path(tempfile.mkdtemp(dir=tmp_path))
    archive, index = work / "archive", work / "index"
    archive.mkdir()
    expected, reasons = {}, {}
    for rel, raw, word in tree:
        (archive / rel).parent.mkdir(parents=True, exist_ok=True)
        (archive / rel).write_bytes(raw)
        if not rel.lower().endswith((".md", ".markdown", ".txt")):
            continue  # not a document file: ignored without a word
        try:
            expected[rel] = (word, parse_document(rel, raw))
        except Unreadable as exc:
            reasons[rel] = str(exc)

    result = CliRunner().invoke(cli, ["index", "--archive", str(archive), "--index", str(index), "--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    if not expected:
        assert result.exit_code == 1
        assert re.fullmatch(r"Error: (none of the \d+ files in .* could be indexed; the previous index is unchanged|"
                            r"no documents in .*)\n", result.stderr)
        assert not (index / "CURRENT").exists()
        return
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["documents"] == len(expected)
    assert {p["path"]: p["reason"] for p in report["skipped"]} == reasons
    with open_index(index) as ix:
        for rel, (word, parsed) in expected.items():
            if word is not None:
                assert word in parsed.body.split()  # cleaning keeps a word of its own
                assert rel in [h.path for h in ix.search(word, limit=50).results], (rel, word)
            stored = ix.document(rel)
            assert (stored.title, stored.date, stored.tags, stored.body) == (parsed.title, parsed.date, parsed.tags, parsed.body)
    shutil.rmtree(work)


# --- The worst files, by fixture -------------------------------------------------------------

GOOD = "---\ntitle: '{word}'\ndate: '2024-01-02'\n---\n\nA good document about {word}.\n"


def good(path: Path, word: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(GOOD.format(word=word), encoding="utf-8")
    return path


def index_json(archive: Path, index: Path, timeout: float = 120, **kwargs) -> tuple[subprocess.CompletedProcess, dict]:
    """The real `search index --json`; the report when it built an index."""
    done = run_search("index", "--archive", str(archive), "--index", str(index), "--json", timeout=timeout, **kwargs)
    return done, (json.loads(done.stdout) if done.returncode == 0 else {})


def skipped(report: dict) -> dict[str, str]:
    return {p["path"]: p["reason"] for p in report["skipped"]}


def test_links_loops_fifos_and_dangling_links_are_reported_and_nothing_hangs(tmp_path):
    archive = tmp_path / "archive"
    good(archive / "a" / "doc.md", "zqloops")
    os.symlink("..", archive / "a" / "up")  # a folder loop
    os.symlink(".", archive / "a" / "self")
    os.symlink(archive / "a", archive / "again")  # the same folder twice
    os.symlink("loop2.md", archive / "loop1.md")  # a file loop
    os.symlink("loop1.md", archive / "loop2.md")
    os.symlink("nowhere.md", archive / "dangling.md")
    os.mkfifo(archive / "pipe.md")  # reading it would wait for a writer for ever
    done, report = index_json(archive, tmp_path / "index", timeout=60)
    assert done.returncode == 0, done.stderr
    assert report["documents"] == 1
    assert skipped(report) == {
        "a/self": "folder already visited through a symbolic link (a link loop?); skipped",
        "a/up": "folder already visited through a symbolic link (a link loop?); skipped",
        "again": "folder already visited through a symbolic link (a link loop?); skipped",
        "dangling.md": "cannot read file: No such file or directory",
        "loop1.md": "cannot read file: Too many levels of symbolic links",
        "loop2.md": "cannot read file: Too many levels of symbolic links",
        "pipe.md": "not a regular file",
    }


def _reads_despite_permissions(path: Path) -> bool:
    try:
        path.read_bytes()
        return True
    except PermissionError:
        return False


def _without_override() -> None:
    """In the child, before exec: drop the capabilities that let root read any file."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def test_unreadable_files_and_folders_are_reported_with_the_reason(tmp_path):
    archive = tmp_path / "archive"
    good(archive / "ok.md", "zqreadable")
    locked = good(archive / "locked.md", "zqlocked")
    locked.chmod(0)
    closed = archive / "closed"
    good(closed / "inside.md", "zqinside")
    closed.chmod(0)
    preexec = None
    if _reads_despite_permissions(locked):
        # Root reads anything: run the indexer without the capabilities that allow it.
        preexec = _without_override
        probe = subprocess.run(["cat", str(locked)], capture_output=True, preexec_fn=preexec)
        if probe.returncode == 0:
            pytest.skip("cannot make a file unreadable here: root keeps CAP_DAC_OVERRIDE")
    try:
        done, report = index_json(archive, tmp_path / "index", preexec_fn=preexec)
    finally:
        closed.chmod(0o755)
    assert done.returncode == 0, done.stderr
    assert report["documents"] == 1
    assert skipped(report) == {
        "closed": "cannot list folder: Permission denied",
        "locked.md": "cannot read file: Permission denied",
    }


def test_files_deleted_while_the_index_is_built_are_reported(tmp_path):
    """Files deleted after the listing, while worker processes read them: each is either
    indexed (read before it went) or reported as gone; every other file is indexed."""
    archive, index = tmp_path / "archive", tmp_path / "index"
    made = write_archive(archive, 2400, words_per_doc=150)
    doomed = sorted(made)[::8]  # 300 files
    process = start_search("index", "--archive", str(archive), "--index", str(index), "--json")
    deadline = time.monotonic() + 60
    while not list(index.glob("gen-*.partial")):  # the listing is done when the build folder appears
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.002)
    for n, rel in enumerate(doomed):
        (archive / rel).unlink()
        if n % 10 == 0:
            time.sleep(0.005)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    report = json.loads(out)
    gone = {p["path"] for p in report["skipped"] if p["reason"] == "the file disappeared before it could be read"}
    assert {p["path"] for p in report["skipped"]} == gone
    with open_index(index) as ix:
        indexed = {f["path"] for f in ix._searcher.all_stored_fields()}
    assert indexed | gone == set(made) and not indexed & gone
    assert gone  # some were deleted before their worker came to them
    assert report["documents"] == len(made) - len(gone)


def test_a_file_deleted_between_listing_and_reading_in_an_update_leaves_the_index(small_archive, small_index, monkeypatch):
    """The same race in `--update`, made certain: the listing is the real one, and the file
    really goes right after it. The changed file's old text must leave the index too."""
    victim = "blog/2021-11/2021-11-17-ports.md"
    (small_archive / victim).write_text((small_archive / victim).read_text().replace("ports", "harbours"))
    real = indexing.list_archive

    def listing_then_deleting(root, *args):
        found = real(root, *args)
        (small_archive / victim).unlink()
        return found

    monkeypatch.setattr(indexing, "list_archive", listing_then_deleting)
    report = update_index(small_archive, small_index)
    assert [(p.path, p.reason) for p in report.skipped] == [(victim, "the file disappeared before it could be read")]
    assert report.removed == 1 and report.documents == 4
    with open_index(small_index) as ix:
        assert ix.search("ports").total == 0 and ix.search("harbours").total == 0


def _make_deep(root: Path, depth: int, name: str = "d") -> Path:
    """`depth` nested folders made through file descriptors, so deeper than PATH_MAX works;
    returns the innermost path (which the OS may refuse as a whole)."""
    fd = os.open(root, os.O_RDONLY)
    try:
        for _ in range(depth):
            os.mkdir(name, dir_fd=fd)
            inner = os.open(name, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
        handle = os.open("deep.md", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        with open(handle, "w", encoding="utf-8") as out:
            out.write(GOOD.format(word=f"zqdeep{name}"))
    finally:
        os.close(fd)
    return root.joinpath(*[name] * depth, "deep.md")


def _remove_deep(root: Path, name: str = "d") -> None:
    """Remove a chain from `_make_deep` a level at a time, lifting each inner folder up to
    `root` first: shutil.rmtree, and so pytest's clean-up of old runs, recurses once a level."""
    top, n = root / name, 0
    while top.is_dir():
        lifted = root / f"{name}-lifted-{n}"
        n += 1
        if (top / name).is_dir():
            os.rename(top / name, lifted)
        shutil.rmtree(top)
        top = lifted


@pytest.fixture
def deep_cleanup():
    """Remove the deep chains a test made, whatever its outcome."""
    made: list[tuple[Path, str]] = []
    yield made
    for root, name in made:
        _remove_deep(root, name)


def test_very_deep_folders_are_indexed_and_deeper_than_the_os_allows_reported(tmp_path, deep_cleanup):
    archive = tmp_path / "archive"
    archive.mkdir()
    good(archive / "top.md", "zqtop")
    deep_cleanup += [(archive, "d"), (archive, "e")]
    deep = _make_deep(archive, 1500, "d")  # deeper than Python's recursion limit
    assert len(str(deep)) < 4000
    _make_deep(archive, 2100, "e")  # a path longer than PATH_MAX (4,096)
    done, report = index_json(archive, tmp_path / "index")
    assert done.returncode == 0, done.stderr
    assert report["documents"] == 2
    [(path, reason)] = skipped(report).items()
    assert path.startswith("e/e/") and reason.endswith("File name too long")
    with open_index(tmp_path / "index") as ix:
        assert [h.path for h in ix.search("zqdeepd").results] == ["/".join(["d"] * 1500 + ["deep.md"])]


def _index_and_peak_memory(archive: Path, index: Path) -> tuple[dict, int]:
    """The real `search index --json` on a small archive (one process); its report and its
    peak resident memory in bytes."""
    with open(index.parent / f"{index.name}.json", "w+", encoding="utf-8") as out:
        process = subprocess.Popen([shutil.which("search"), "index", "--archive", str(archive), "--index", str(index),
                                    "--json"], stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        assert process.returncode == 0
        out.seek(0)
        return json.load(out), usage.ru_maxrss * 1024


def test_a_50_mb_file_is_skipped_without_being_read_into_memory(tmp_path):
    small, both = tmp_path / "small", tmp_path / "both"
    for archive in (small, both):
        good(archive / "small.md", "zqsmall")
    huge = both / "huge.md"
    with open(huge, "w", encoding="utf-8") as out:
        out.write("---\ntitle: Huge\n---\n")
        line = "word " * 200 + "\n"
        for _ in range(50 * 1024 * 1024 // len(line) + 1):
            out.write(line)
    assert huge.stat().st_size > 50 * 1024 * 1024
    report, peak = _index_and_peak_memory(both, tmp_path / "index-both")
    assert report["documents"] == 1
    assert skipped(report) == {"huge.md": "file larger than the 10 MB limit for one document"}
    _, baseline = _index_and_peak_memory(small, tmp_path / "index-small")
    # It reads at most the 10 MB limit and a byte: far from the file's 50 MB.
    assert peak - baseline < 25 * 1024 * 1024, (peak, baseline)


def test_a_document_just_under_the_size_limit_is_indexed(tmp_path):
    archive = tmp_path / "archive"
    large = archive / "large.md"
    archive.mkdir()
    large.write_text("---\ntitle: Large\n---\n" + "words of text " * 700_000 + "zqlastword\n", encoding="utf-8")
    assert 9 * 1024 * 1024 < large.stat().st_size < MAX_DOCUMENT_BYTES
    report = build_index(archive, tmp_path / "index")
    assert report.documents == 1
    with open_index(tmp_path / "index") as ix:
        assert [h.path for h in ix.search("zqlastword").results] == ["large.md"]


def test_ten_thousand_tiny_files_are_all_indexed(tmp_path):
    archive = tmp_path / "archive"
    for n in range(10_000):
        path = archive / f"f{n // 500:02d}" / f"tiny-{n:05d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"---\ntitle: Tiny {n}\ndate: '2024-01-01'\n---\n{marker(n)}\n", encoding="utf-8")
    done, report = index_json(archive, tmp_path / "index")
    assert done.returncode == 0, done.stderr
    assert report["documents"] == 10_000 and report["skipped"] == []
    with open_index(tmp_path / "index") as ix:
        stored = {f["path"] for f in ix._searcher.all_stored_fields()}
        assert len(stored) == 10_000
        for n in range(0, 10_000, 97):
            assert [h.path for h in ix.search(marker(n)).results] == [f"f{n // 500:02d}/tiny-{n:05d}.md"]


ODD_NAMES = {
    # Indexed: every interface can name them.
    "with space.md": None, "ünïcødé ✓.md": None, "日本語/報道.md": None, "emoji 🎉.md": None, "quote\"'.md": None,
    "percent%2e%2e.md": None, "-starts-with-dash.md": None, "dots..in..name.md": None, "semi;colon&amp.md": None,
    "question?.md": None, "hash#.md": None, "plus+sign.md": None,
    # Skipped with a reason: the search page could not open them.
    "new\nline.md": "the file name has a control character (such as a line break) in it",
    "tab\tname.md": "the file name has a control character (such as a line break) in it",
    "back\\slash.md": "the file name has a backslash in it",
    "C:drive.md": "the path starts with a drive letter",
}


def test_file_names_with_spaces_non_ascii_and_newlines(tmp_path):
    archive = tmp_path / "archive"
    words = {}
    for n, name in enumerate(ODD_NAMES):
        words[name] = marker(n)
        good(archive / name, words[name])
    bad_bytes = os.fsencode(archive) + b"/bad\xffname.md"
    with open(bad_bytes, "wb") as out:
        out.write(GOOD.format(word="zqbadbytes").encode())
    done, report = index_json(archive, tmp_path / "index")
    assert done.returncode == 0, done.stderr
    expected = {name: reason for name, reason in ODD_NAMES.items() if reason}
    assert skipped(report) == {**expected, "bad\\xffname.md": "the file name is not valid UTF-8"}
    text = run_search("index", "--archive", str(archive), "--index", str(tmp_path / "index2"))
    assert text.returncode == 0
    assert "  new\\nline.md: the file name has a control character" in text.stdout  # one line each
    app = create_app({"SEARCH_INDEX": str(tmp_path / "index"), "TESTING": True})
    client = app.test_client()
    for name, reason in ODD_NAMES.items():
        found = json.loads(run_search("query", words[name], "--index", str(tmp_path / "index"), "--json").stdout)
        paths = [h["path"] for h in found["results"] if not found["corrected"]]
        if reason:
            assert paths == [], name
            continue
        assert paths == [name]
        shown = run_search("show", "--index", str(tmp_path / "index"), "--json", "--", name)
        assert shown.returncode == 0 and json.loads(shown.stdout)["path"] == name
        page = client.get("/doc/" + urllib.parse.quote(name))
        assert page.status_code == 200, name
        assert client.get("/api/doc/" + urllib.parse.quote(name)).json["document"]["path"] == name
    app.extensions["search"].close()


def test_the_worst_archive_at_once_indexes_with_the_real_command(tmp_path, deep_cleanup):
    """Everything above in one archive, with generated documents around it, through the real
    command with worker processes: exit 0, every bad file in the report, nothing left running."""
    archive, index = tmp_path / "archive", tmp_path / "index"
    made = write_archive(archive, 900)
    (archive / "bad").mkdir()
    (archive / "bad" / "empty.md").write_text("")
    (archive / "bad" / "binary.md").write_bytes(b"\x00\x01\x02" * 100)
    (archive / "bad" / "latin1.md").write_bytes(b"---\ntitle: caf\xe9\n---\nbody\n")
    (archive / "bad" / "yaml.md").write_text("---\ntitle: [oops\n---\nbody\n")
    (archive / "bad" / "unclosed.md").write_text("---\ntitle: never closed\nbody\n")
    (archive / "bad" / "list.md").write_text("---\n- a\n- b\n---\nbody\n")
    (archive / "bad" / "stars.md").write_text("---\ntitle: Stars\n---\n" + "*a " * 300_000 + "\n\nzqstars\n")
    (archive / "bad" / "charref.md").write_text("---\ntitle: Ref\n---\n&#" + "9" * 9000 + ";\n\nzqcharref\n")
    os.mkfifo(archive / "bad" / "pipe.md")
    os.symlink("..", archive / "bad" / "loop")
    deep_cleanup.append((archive, "d"))
    _make_deep(archive, 1200)
    started = time.monotonic()
    done, report = index_json(archive, index, timeout=300)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 120
    reasons = skipped(report)
    assert set(reasons) == {f"bad/{n}" for n in ("empty.md", "binary.md", "latin1.md", "yaml.md", "unclosed.md",
                                                 "list.md", "pipe.md", "loop")}
    assert report["documents"] == len(made) + 3  # the generated ones, stars, charref and the deep one
    with open_index(index) as ix:
        for path, word in [("bad/stars.md", "zqstars"), ("bad/charref.md", "zqcharref"), *list(made.items())[::100]]:
            assert [h.path for h in ix.search(word).results] == [path]
    assert processes_running(str(index)) == []
