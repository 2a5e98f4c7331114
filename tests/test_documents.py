"""Reading the archive: front matter, cleaning, fallbacks and files that cannot be used."""

from __future__ import annotations

import os
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.archive import ArchiveFile, Unreadable, list_archive
from search.cleaning import clean_body, clean_inline
from search.documents import parse_document, read_document

SAMPLE_TEXT = (
    "---\n"
    "date: '2024-07-11'\n"
    "published_time: 2024-07-11 11:36:05-04:00\n"
    "source_url: https://example.gov/x/\n"
    "tags: statements-releases\n"
    'title: "Readout of President\\_Biden\\u2019s Meeting with NATO\\u2019s Indo-Pacific\\_\\\n'
    '  Partners"\n'
    "---\n"
    " \n"
    "On the margins of the NATO Summit, President Joseph R. Biden, Jr.\n"
    "briefly met today with President Yoon Suk Yeol of the Republic of Korea.\n"
    "\n"
    "The leaders discussed \\[redacted\\] security.\n"
    "\n"
    "\\###\n"
)


def parse(text: str, path: str = "a/2024-01-02-some-thing.md"):
    return parse_document(path, text.encode("utf-8"))


def test_the_sample_format_is_read_and_cleaned():
    doc = parse(SAMPLE_TEXT)
    assert doc.title == "Readout of President Biden’s Meeting with NATO’s Indo-Pacific Partners"
    assert doc.date == "2024-07-11"
    assert doc.published_time == "2024-07-11T11:36:05-04:00"
    assert doc.tags == ["statements-releases"]
    assert doc.source_url == "https://example.gov/x/"
    assert doc.warnings == []
    paragraphs = doc.body.split("\n\n")
    assert paragraphs[0] == (
        "On the margins of the NATO Summit, President Joseph R. Biden, Jr. "
        "briefly met today with President Yoon Suk Yeol of the Republic of Korea."
    )
    assert paragraphs[1] == "The leaders discussed [redacted] security."
    assert paragraphs[2] == "###"


@pytest.mark.parametrize(
    "markdown, expected",
    [
        ("a \\$5 fee and \\*not\\* bold", "a $5 fee and *not* bold"),
        ("non\u00a0breaking\u00a0spaces", "non breaking spaces"),
        ("wrapped\nline\n\nnext paragraph", "wrapped line\n\nnext paragraph"),
        ("The Ellipse  \nWashington, D.C.", "The Ellipse\nWashington, D.C."),
        ("one\\\ntwo", "one\ntwo"),
        ("**bold** and *italic* and ***both***", "bold and italic and both"),
        ("see [the fact sheet](https://x.gov/a) now", "see the fact sheet now"),
        ("<u>underlined</u> and <strong>strong</strong>", "underlined and strong"),
        ("#### A heading\ntext under it", "A heading\ntext under it"),
        ("intro:\n-   first item\n-   second item", "intro:\n- first item\n- second item"),
        ("1\\. first\n2\\. second", "1. first\n2. second"),
        ("&amp; and &lt;b&gt;", "& and <b>"),
        ("<script>alert(1)</script> stays text", "<script>alert(1)</script> stays text"),
        ("   \n\u00a0 \n", ""),
        ("COVID-\u206019 and Biden-\u2060Harris", "COVID-19 and Biden-Harris"),
        ("before <!-- -->\n\nafter", "before\n\nafter"),
    ],
)
def test_clean_body(markdown, expected):
    assert clean_body(markdown) == expected


def test_control_characters_become_spaces_in_bodies_and_titles():
    assert clean_body("zqword\x01next\n\nform\x0cfeed\x7f") == "zqword next\n\nform feed"
    assert clean_body("tab\tand\rreturn") == "tab and return"
    assert clean_inline("A\x01B\x1bC") == "A B C"


def test_clean_inline_titles():
    assert clean_inline("President\u00a0Biden’s  Trip \\[Update\\]") == "President Biden’s Trip [Update]"


def test_tags_as_comma_string_or_list_are_lowercase_labels():
    doc = parse("---\ntitle: T\ndate: '2024-01-01'\ntags: Foreign Policy, blog ,\n---\nbody\n")
    assert doc.tags == ["foreign policy", "blog"]
    doc = parse("---\ntitle: T\ndate: '2024-01-01'\ntags: [Blog, Climate]\n---\nbody\n")
    assert doc.tags == ["blog", "climate"]


def test_unknown_keys_are_kept_out_of_the_way_and_id_is_read():
    doc = parse("---\ntitle: T\ndate: '2024-01-01'\nid: 42\nauthor: someone\n---\nbody\n")
    assert doc.doc_id == "42"
    assert doc.warnings == []


def test_unquoted_yaml_dates_are_accepted():
    doc = parse("---\ntitle: T\ndate: 2024-01-02\n---\nbody\n")
    assert doc.date == "2024-01-02"


def test_missing_title_falls_back_to_the_file_name_with_a_warning():
    doc = parse("---\ndate: '2024-01-02'\n---\nbody\n", path="x/2024-01-02-readout-of-a-call.md")
    assert doc.title == "Readout of a call"
    assert doc.warnings == ["no title; using the file name"]


@pytest.mark.parametrize(
    "front, path, date, warning",
    [
        ("published_time: 2023-05-01 05:00:00-04:00\n", "x/note.md", "2023-05-01", "no date; using published_time"),
        ("", "x/2022-03-04-note.md", "2022-03-04", "no date; using the file name"),
        ("", "x/note.md", None, "no date"),
        ("date: soon\n", "x/note.md", None, "date 'soon' is not a YYYY-MM-DD date; ignored"),
        ("date: '2024-02-31'\n", "x/note.md", None, "date '2024-02-31' is not a YYYY-MM-DD date; ignored"),
    ],
)
def test_date_fallbacks(front, path, date, warning):
    doc = parse(f"---\ntitle: T\n{front}---\nbody\n", path=path)
    assert doc.date == date
    assert warning in doc.warnings


def test_wrong_types_become_warnings_not_failures():
    doc = parse("---\ntitle: {a: 1}\ndate: [1, 2]\ntags: {x: y}\nsource_url: [a, b]\n---\nbody\n", path="x/n.md")
    assert doc.title == "N"
    assert any("title is a dict" in w for w in doc.warnings)
    assert doc.tags == []


def test_a_file_without_front_matter_is_still_a_document():
    doc = parse("Just some notes about Maui.\n", path="notes/2021-01-05-maui.txt")
    assert doc.body == "Just some notes about Maui."
    assert doc.date == "2021-01-05"


def test_bom_and_crlf_are_accepted():
    raw = "\ufeff---\r\ntitle: BOM\r\ndate: '2024-01-01'\r\n---\r\nline one\r\nline two\r\n".encode("utf-8")
    doc = parse_document("a.md", raw)
    assert doc.title == "BOM"
    assert doc.body == "line one line two"


def test_a_rule_inside_the_body_stays_in_the_body():
    doc = parse("---\ntitle: T\ndate: '2024-01-01'\n---\nabove\n\n---\n\nbelow\n")
    assert "above" in doc.body and "below" in doc.body


@pytest.mark.parametrize(
    "raw, reason",
    [
        (b"", "empty file"),
        (b"  \n\n", "empty file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", "binary file (contains NUL bytes)"),
        (b"---\ntitle: caf\xe9\n---\nbody", "not UTF-8 text (invalid byte 0xe9 at offset 14)"),
        (b"---\ntitle: [unclosed\ndate: x\n---\nbody", "invalid YAML front matter"),
        (b"---\n- a\n- b\n---\nbody", "front matter is a list, not a set of keys"),
        (b"---\ntitle: never closed\nbody without the end", "front matter has no closing '---' line"),
    ],
)
def test_unusable_files_raise_with_a_reason(raw, reason):
    with pytest.raises(Unreadable) as caught:
        parse_document("bad.md", raw)
    assert str(caught.value).startswith(reason)


def test_broken_yaml_reason_names_the_line():
    with pytest.raises(Unreadable, match=r"line \d+"):
        parse_document("bad.md", b"---\ntitle: ok\ndate: [unclosed\n---\nbody")


def test_list_archive_finds_documents_at_any_depth_sorted(tmp_path):
    for name in ["b/c/d/deep.md", "a.markdown", "z.txt", "skip.pdf", ".hidden/x.md", "b/readme.MD"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("---\ntitle: x\n---\nbody\n")
    files, problems = list_archive(tmp_path)
    assert [f.path for f in files] == ["a.markdown", "b/c/d/deep.md", "b/readme.MD", "z.txt"]
    assert problems == []


def test_list_archive_survives_a_symlink_loop(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "doc.md").write_text("---\ntitle: x\n---\nbody\n")
    os.symlink(tmp_path, tmp_path / "a" / "loop")
    files, problems = list_archive(tmp_path)
    assert [f.path for f in files] == ["a/doc.md"]
    assert [p.path for p in problems] == ["a/loop"]
    assert "link loop" in problems[0].reason


def test_a_file_deleted_before_reading_is_reported(tmp_path):
    missing = ArchiveFile("gone.md", str(tmp_path / "gone.md"), 10, 0)
    with pytest.raises(Unreadable, match="disappeared"):
        read_document(missing)


def test_yaml_error_line_is_the_files_line():
    raw = b"---\ntitle: Broken\ndate: 2024-05-01\ntags: [blog\n---\nbody\n"
    with pytest.raises(Unreadable, match=r"\(line 5\)$"):
        parse_document("bad.md", raw)
    raw = b"---\ntitle: ok\nbad: : :\n---\nbody\n"
    with pytest.raises(Unreadable, match=r"\(line 3\)$"):
        parse_document("bad.md", raw)


@settings(max_examples=500, deadline=None)
@given(path=st.lists(st.sampled_from(["a", "b.md", ".", "..", "", ".md", "..md", "C:", "x y", "é", "a\\b", "\n", "-_.", "2024-07"]),
                     min_size=1, max_size=5).map("/".join))
def test_the_fast_path_check_agrees_with_the_full_one(path):
    """path_problem answers a plain path from one expression; every path it so passes, the full
    checks (after the expression) pass too."""
    from search import archive

    if archive._PLAIN_PATH.fullmatch(path):  # what the full checks refuse, restated
        assert not path.startswith("/") and all(part not in ("", ".", "..") for part in path.split("/"))
        assert not archive._PATH_CONTROL.search(path) and "\\" not in path and not re.match(r"[A-Za-z]:", path)
        path.encode("utf-8")
