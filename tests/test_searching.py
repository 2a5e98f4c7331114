"""Searching: ranking properties, query syntax, dates, snippets, suggestions, paging."""

from __future__ import annotations

import json
import os
from collections import Counter

import pytest

from search import DocumentNotFound, QueryError, build_index, open_index, to_dict
from search.analysis import TOKEN_RE, is_stop, normalize, stem

from .conftest import needs_archive, write_doc

NATO = "statements-releases/2024-07/2024-07-11-nato-partners.md"
MAUI = "statements-releases/2024-07/2024-07-25-maui.md"
BRIEFING = "press-briefings/2023-03/2023-03-02-briefing.md"
IRA = "speeches-remarks/2022-08/2022-08-16-ira-signing.md"
PORTS = "blog/2021-11/2021-11-17-ports.md"


def found(ix, text, **options) -> list[str]:
    return [h.path for h in ix.search(text, limit=50, **options).results]


# --- Ranking properties --------------------------------------------------------------------


@pytest.fixture
def ranking_index(tmp_path):
    """Documents where word counts alone would rank a partial match first."""
    root = tmp_path / "archive"
    write_doc(root, "all.md", title="Note", date="'2024-01-01'", body="Japan and Korea met about trade.")
    write_doc(root, "korea-only.md", title="Korea", date="'2024-01-02'", body="Korea " * 30 + "and more Korea.")
    write_doc(root, "japan-only.md", title="Japan", date="'2024-01-03'", body="Japan " * 30)
    for i in range(10):
        write_doc(root, f"filler{i}.md", title=f"Filler {i}", date="'2024-02-01'", body=f"Unrelated text number {i}.")
    build_index(root, tmp_path / "ix")
    with open_index(tmp_path / "ix") as ix:
        yield ix


def test_a_document_with_all_the_words_ranks_above_ones_with_some(ranking_index):
    assert found(ranking_index, "Japan Korea")[0] == "all.md"


def test_a_missing_word_does_not_empty_a_natural_language_query(ranking_index):
    assert found(ranking_index, "Japan Korea zeppelin")[0] == "all.md"
    assert set(found(ranking_index, "Japan Korea zeppelin")) == {"all.md", "korea-only.md", "japan-only.md"}


def test_title_matches_count_more(small):
    assert found(small, "Maui")[0] == MAUI
    assert found(small, "ports")[0] == PORTS


# --- Syntax ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ('"Inflation Reduction Act"', [IRA]),
        ('"Department of State"', [NATO]),  # the stop word "of" is not indexed
        ('"State Department"', []),
        ("Russia AND sanctions", [BRIEFING]),
        ("Russia NOT sanctions", [NATO]),
        ("Russia -sanctions", [NATO]),
        ("Russia +sanctions", [BRIEFING]),
        ("(Maui OR ports) AND running", [PORTS, MAUI]),
        ("title:Maui", [MAUI]),
        ("body:Lahaina", [MAUI]),
        ("tags:blog", [PORTS]),
        ("tags:Blog", [PORTS]),
        ("sanction*", [BRIEFING]),
        ("insul*", [IRA]),
        ("Kishda~", [BRIEFING]),
        ("COVID-19", [IRA]),
    ],
)
def test_query_syntax(small, text, expected):
    assert sorted(found(small, text)) == sorted(expected)


def test_fuzzy_words_reach_one_or_two_edits_and_rank_the_word_typed_first(tmp_path):
    write_doc(tmp_path / "a", "exact.md", title="One", date="'2024-01-01'", body="The ambassador met the ministry.")
    write_doc(tmp_path / "a", "near.md", title="Two", date="'2024-01-02'", body="The ambassador met the minister.")
    write_doc(tmp_path / "a", "far.md", title="Three", date="'2024-01-03'", body="The ambassador met the monastery.")
    build_index(tmp_path / "a", tmp_path / "ix")
    with open_index(tmp_path / "ix") as ix:
        assert found(ix, "minsiter~") == ["near.md"]  # a transposition is one edit
        assert found(ix, "ministry~") == ["exact.md"]  # "minister" is two edits away
        assert found(ix, "ministry~2") == ["exact.md", "near.md"]  # the word as typed first
        assert found(ix, "zqxwv~") == [] and found(ix, "inistry~") == []  # the first letter must match
        snippet = ix.search("minsiter~").results[0].snippet
        assert [snippet.text[a:b] for a, b in snippet.matches] == ["minister"]  # the word found is marked


def test_stemming_matches_other_forms(small):
    assert found(small, "run") and set(found(small, "run")) == {MAUI, PORTS}
    assert found(small, "sanction") == [BRIEFING]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("date:2024", [NATO, MAUI]),
        ("date:2024-07", [NATO, MAUI]),
        ("date:2024-07-11", [NATO]),
        ("date:[2024-07-01 to 2024-07-11]", [NATO]),
        ("date:[2024-07-12 to 2024-07-31]", [MAUI]),
        ("date:[2022 to 2023]", [IRA, BRIEFING]),
        ("date:[2023-03-02 to 2023-03-02]", [BRIEFING]),
        ("date:[2023-03-03 to 2024-07-10]", []),
        ("date:[2024-07 to]", [NATO, MAUI]),
        ("Russia date:2024", [NATO]),  # a date beside words narrows the words
    ],
)
def test_dates_are_exact(small, text, expected):
    assert sorted(found(small, text)) == sorted(expected)


def test_whooshs_year_bug_is_fixed_a_dashed_range_is_not_the_whole_year(tmp_path):
    root = tmp_path / "archive"
    for day in ["2024-06-30", "2024-07-01", "2024-07-31", "2024-08-01", "2024-01-15", "2024-12-31"]:
        write_doc(root, f"{day}.md", title=f"Day {day}", date=f"'{day}'", body=f"Same words on {day}.")
    build_index(root, tmp_path / "ix")
    with open_index(tmp_path / "ix") as ix:
        assert sorted(found(ix, "date:[2024-07-01 to 2024-07-31]")) == ["2024-07-01.md", "2024-07-31.md"]


@pytest.mark.parametrize(
    "text",
    ['"unbalanced quote', "(unbalanced paren", "closing) paren", "AND", "Russia AND", "NOT", "OR Russia",
     "what? is: this -", "))) (((", "Russia^", "title:", '""', "*Russia", "Russia~9", "[to]"],
)
def test_malformed_queries_are_read_leniently_or_refused_with_a_message(small, text):
    try:
        small.search(text)
    except QueryError as exc:
        assert str(exc) and "\n" not in str(exc)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "the query is empty"),
        ("   ", "the query is empty"),
        ("the of and", "no words to search for"),
        ("a*", "too short a prefix"),
        ("date:tomorrow", "date:tomorrow is not a date"),
    ],
)
def test_queries_that_cannot_run_say_why(small, text, message):
    with pytest.raises(QueryError, match=message):
        small.search(text)


def test_a_long_query_runs_in_the_library_and_batch_and_is_a_clear_400_on_the_web(small, small_index):
    """A pasted passage or a long topic has no reason to be refused in the library or a batch
    (a test collection's queries run past 1,000 characters); the web keeps its cap."""
    from click.testing import CliRunner

    from search.cli import cli
    from web import create_app

    long = ("The leaders condemned the unlawful arms transfers from the Democratic People's Republic of "
            "Korea to Russia, and discussed **the Department of State's** work. ") * 12
    assert len(long) > 1500
    assert small.search(long).results[0].path == NATO
    batch = CliRunner().invoke(cli, ["batch", "-", "--index", str(small_index), "--format", "trec"], input=f"q1\t{long}\n")
    assert batch.exit_code == 0 and batch.stdout.split()[2] == NATO and "0 failed" in batch.stderr
    client = create_app({"SEARCH_INDEX": str(small_index), "TESTING": True}).test_client()
    response = client.get("/api/search", query_string={"q": long})
    assert response.status_code == 400
    assert response.json["error"] == f"the query is too long ({len(long.strip()):,} characters; the limit is 1,000)"
    assert client.get("/", query_string={"q": long}).status_code == 400


def test_natural_language_punctuation_is_text(small):
    assert found(small, "what happened to Maui?")[0] == MAUI
    assert found(small, "Note: Maui recovery")[0] == MAUI


# --- Filters, sorting, paging -------------------------------------------------------------


def test_filters_by_tag_and_date(small):
    assert found(small, "President", tags=["statements-releases"]) == [NATO]
    assert sorted(found(small, "President", tags=["statements-releases", "speeches-remarks"])) == sorted([NATO, IRA])
    assert found(small, "President", since="2023-01-01") == [NATO]
    assert found(small, "President", until="2023-01-01") == [IRA]
    assert found(small, "President", since="2024-07-11", until="2024-07-11") == [NATO]


@pytest.mark.parametrize("option, value", [("since", "2024-13-01"), ("until", "yesterday"), ("since", "2024-02-30")])
def test_bad_dates_are_refused(small, option, value):
    with pytest.raises(QueryError, match=option):
        small.search("Russia", **{option: value})


def test_sort_by_date(small):
    text = "President OR ports OR Russia OR Maui"
    newest = found(small, text, sort="newest")
    assert newest == [MAUI, NATO, BRIEFING, IRA, PORTS]
    assert found(small, text, sort="oldest") == list(reversed(newest))


def test_paging(small):
    text = "President OR ports OR Russia OR Maui"
    everything = found(small, text)
    pages = [small.search(text, limit=2, page=p) for p in (1, 2, 3, 4)]
    assert [h.path for p in pages for h in p.results] == everything
    assert [h.rank for p in pages for h in p.results] == [1, 2, 3, 4, 5]
    assert pages[0].total == 5 and pages[0].pages == 3
    assert pages[3].results == []


def test_facets_count_each_filter_with_the_others_applied(small):
    results = small.search("President OR ports OR Russia OR Maui", facets=True, tags=["statements-releases"])
    assert results.total == 2
    tags = {f.value: f.count for f in results.tags}
    assert tags == {"statements-releases": 2, "press-briefings": 1, "speeches-remarks": 1, "blog": 1}
    assert {f.value: f.count for f in results.years} == {"2024": 2}


# --- Snippets ------------------------------------------------------------------------------


def test_snippets_mark_every_form_of_the_matched_words(small):
    hit = small.search("sanction russia").results[0]
    marked = [hit.snippet.text[s:e] for s, e in hit.snippet.matches]
    assert set(marked) == {"Russia", "sanctions"}
    assert hit.title_matches == []


def test_snippets_mark_title_matches_and_skip_negated_words(small):
    hit = small.search("Maui -ports").results[0]
    assert [hit.title[s:e] for s, e in hit.title_matches] == ["Maui"]
    assert "ports" not in [hit.snippet.text[s:e].lower() for s, e in hit.snippet.matches]


def test_snippet_is_a_passage_around_the_match_in_a_long_document(tmp_path):
    root = tmp_path / "archive"
    filler = " ".join(f"word{i}" for i in range(60000))  # about 450 KB of text
    write_doc(root, "long.md", title="Long", date="'2024-01-01'", body=filler + " the zeppelin landed here. " + filler)
    build_index(root, tmp_path / "ix")
    with open_index(tmp_path / "ix") as ix:
        snippet = ix.search("zeppelin").results[0].snippet
    assert "zeppelin landed" in snippet.text
    assert len(snippet.text) <= 300
    assert snippet.text.startswith("… ") and snippet.text.endswith(" …")
    assert [snippet.text[s:e] for s, e in snippet.matches] == ["zeppelin"]


def test_a_title_only_match_shows_the_opening_of_the_body(small):
    hit = small.search("title:Recent").results[0]
    assert hit.snippet.text.startswith("The ports of Los Angeles")
    assert hit.snippet.matches == []


# --- Suggestions ----------------------------------------------------------------------------


def test_a_misspelled_word_gets_a_suggestion_and_is_corrected_when_nothing_matched(small):
    results = small.search("Kishda")
    assert results.suggestion == "Kishida"
    assert results.corrected is True
    assert [h.path for h in results.results] == [BRIEFING]


def test_a_suggestion_without_autocorrection_when_the_query_found_something(small):
    results = small.search("Russia Kishda")
    assert results.suggestion == "Russia Kishida"
    assert results.corrected is False
    assert results.total >= 1


def test_no_suggestion_for_known_words(small):
    assert small.search("Russia sanctions").suggestion is None


# --- JSON shape, documents, similar ------------------------------------------------------


def test_the_json_shape(small):
    data = json.loads(json.dumps(to_dict(small.search("Maui", limit=1))))
    assert {"query", "total", "page", "limit", "suggestion", "results"} <= set(data)
    hit = data["results"][0]
    assert {"path", "title", "date", "tags", "source_url", "score", "snippet"} <= set(hit)
    assert hit["date"] == "2024-07-25" and hit["tags"] == ["statements-releases"]
    assert isinstance(hit["score"], float)
    assert [hit["snippet"]["text"][s:e] for s, e in hit["snippet"]["matches"]] == ["Maui"]


def test_document_and_similar(small):
    doc = small.document(NATO)
    assert doc.title.startswith("Readout of President Biden")
    assert "DPRK" in doc.body
    with pytest.raises(DocumentNotFound):
        small.document("../../etc/passwd")
    assert NATO not in [h.path for h in small.similar(NATO)]


def test_similar_ranks_as_whooshs_more_like_this(tmp_path):
    from .conftest import write_small_archive

    root = write_small_archive(tmp_path / "archive")
    for n, words in enumerate(["Russia sanctions DPRK missiles", "Maui wildfire recovery Lahaina", "ports supply chains",
                               "Russia DPRK arms transfers sanctions", "clean energy jobs Maui"]):
        write_doc(root, f"extra-{n}.md", title=f"Extra {n}", date="'2024-02-02'", body=f"{words}. " * (n + 2))
    build_index(root, tmp_path / "ix")
    with open_index(tmp_path / "ix") as ix:
        paths = [f["path"] for f in ix._searcher.all_stored_fields()]
        for path in paths:
            ours = [(h.path, h.score) for h in ix.similar(path, limit=5)]
            docnum = ix._docnum(path)
            text = ix.document(path).body[:20000]
            theirs = [(h["path"], round(float(h.score), 4)) for h in ix._searcher.more_like(docnum, "body", text=text, top=5, numterms=25)]
            assert ours == theirs, path
            assert path not in [p for p, _ in ours]


def test_overview(small):
    overview = small.overview()
    assert overview.documents == 5
    assert (overview.first_date, overview.last_date) == ("2021-11-17", "2024-07-25")
    assert {f.value: f.count for f in overview.tags}["statements-releases"] == 2


def test_refresh_picks_up_a_rebuild(small_archive, small_index):
    with open_index(small_index) as ix:
        assert ix.search("zeppelin").total == 0
        write_doc(small_archive, "new.md", title="New", date="'2024-09-09'", body="A zeppelin.")
        build_index(small_archive, small_index)
        assert ix.refresh() is True
        assert found(ix, "zeppelin") == ["new.md"]
        assert ix.refresh() is False


def test_a_swap_drops_the_old_generations_decoded_postings(small_archive, small_index, tmp_path):
    """The process-wide postings LRU forgets a generation once a newer one is opened beside
    it; another index's entries stay."""
    from search import postings

    other = tmp_path / "other"
    build_index(small_archive, other)
    with open_index(small_index) as ix, open_index(other) as kept:
        old = os.path.abspath(small_index / ix.generation)
        ix.search("Russia sanctions Maui")
        kept.search("Russia sanctions Maui")

        def folders():
            return {key[0] for key in postings.cached_segments() if len(key) == 2}

        assert old in folders() and any(f.startswith(os.path.abspath(other)) for f in folders())
        build_index(small_archive, small_index)
        assert ix.refresh() is True
        assert old not in folders()
        assert any(f.startswith(os.path.abspath(other)) for f in folders())
        assert postings.cached_bytes() == sum(p.ids.nbytes + p.weights.nbytes for p in postings._postings.values())
        ix.search("Russia sanctions Maui")
        assert os.path.abspath(small_index / ix.generation) in folders()


def test_words_that_are_only_punctuation_or_numbers_do_not_become_filters(small):
    assert found(small, "i.e. Maui 5%")[0] == MAUI
    assert found(small, "1-1% Maui")[0] == MAUI


def test_aliases_find_the_other_name(tmp_path):
    root = tmp_path / "archive"
    write_doc(root, "dprk.md", title="Readout", date="'2024-01-01'", body="The DPRK launched a missile.")
    write_doc(root, "nk.md", title="Statement", date="'2024-01-02'", body="North Korea launched a missile.")
    write_doc(root, "other.md", title="Other", date="'2024-01-03'", body="A missile test elsewhere, in the north.")
    build_index(root, tmp_path / "ix")
    with open_index(tmp_path / "ix") as ix:
        assert set(found(ix, "North Korea")) == {"nk.md", "dprk.md"}
        assert found(ix, "DPRK missile")[:2] in (["dprk.md", "nk.md"], ["nk.md", "dprk.md"])
        assert found(ix, "DPRK missile")[2] == "other.md"
        # What the user typed counts more than its alias.
        assert found(ix, "DPRK")[0] == "dprk.md"
        hit = next(h for h in ix.search("DPRK").results if h.path == "nk.md")
        assert [hit.snippet.text[s:e] for s, e in hit.snippet.matches] == ["North", "Korea"]


def test_phrases_are_marked_only_where_their_words_stand_together(small):
    hit = small.search('"Department of State"').results[0]
    marked = [hit.snippet.text[s:e] for s, e in hit.snippet.matches]
    assert marked == ["Department", "State’s"]
    text = "The State of the Union. The Department of State spoke; a department store."
    spans = small.mark(text, '"Department of State"')
    assert [text[s:e] for s, e in spans] == ["Department", "State"]
    assert spans[0][0] == text.index("Department of State")


def test_mark_uses_the_same_reading_as_search(small):
    text = "Sanctioned banks; new sanctions on Russia’s banks."
    assert [text[s:e] for s, e in small.mark(text, "sanction Russia")] == ["Sanctioned", "sanctions", "Russia’s"]
    assert small.mark(text, "the") == []  # a query that cannot be read marks nothing
    assert small.mark(text, "Russia -sanctions") == [[text.index("Russia"), text.index("Russia") + len("Russia’s")]]


def test_control_characters_in_a_query_are_spaces(small):
    assert found(small, "\x01\x02 Maui\x00") == found(small, "Maui")


def test_the_total_counts_every_match_on_every_path(tmp_path):
    """Whoosh's top-N collector drops sub-matchers that can no longer reach the top, and its
    count then misses their documents; the total must be every match, fast path or not."""
    for n in range(60):
        body = "zebra " * (1 + n % 7) + ("quagga" if n % 3 == 0 else "okapi")
        write_doc(tmp_path / "a", f"d{n:02d}.md", title=f"Doc {n}", date=f"'2024-01-{n % 28 + 1:02d}'", body=body)
    build_index(tmp_path / "a", tmp_path / "ix")
    with open_index(tmp_path / "ix") as ix:
        for text in ["zebra", "+zebra quagga", "date:2024-01-02 OR zebra", "tags:blogg~ OR quagga", "NOT quagga", "date:[2024 to]"]:
            parsed = ix.reader.read(text, ix._searcher.reader())
            expected = len(set(ix._searcher.docs_for_query(parsed.query)))
            for page in (1, 3):
                assert ix.search(text, limit=2, page=page, keep_duplicates=True).total == expected > 0, text
            # Folded, the total counts the groups of copies: the distinct bodies matched.
            bodies = {ix._searcher.stored_fields(d)["content"] for d in ix._searcher.docs_for_query(parsed.query)}
            assert ix.search(text, limit=2).total == len(bodies) < expected, text


def test_facet_counts_equal_counting_the_results_by_hand(tmp_path):
    """Facets count each filter with the others applied: the categories of the results with
    the same dates and no category filter, the years of those with the same categories and no
    dates. Documents with several categories, and undated ones, included."""
    import random

    from search.settings import MAX_LIMIT

    rng = random.Random(7)
    kinds = ["blog", "speeches-remarks", "press-briefings", "statements-releases"]
    for n in range(80):
        tags = rng.sample(kinds, rng.choice([1, 1, 2]))
        date = f"'{rng.choice([2021, 2022, 2023, 2024])}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}'" if n % 9 else "''"
        write_doc(tmp_path / "a", f"d{n:02d}.md", title=f"Doc {n}", date=date, tags=json.dumps(", ".join(tags)),
                  body=" ".join(rng.sample(["Russia", "sanctions", "Maui", "ports", "energy", "jobs"], 3)))
    build_index(tmp_path / "a", tmp_path / "ix")

    def every(ix, text, **filters):
        return ix.search(text, limit=MAX_LIMIT, **filters).results

    with open_index(tmp_path / "ix") as ix:
        for text, filters in [("Russia OR Maui", {}), ("Russia OR Maui", {"tags": ["blog"]}),
                              ("energy jobs", {"since": "2022-01-01", "until": "2023-12-31"}),
                              ("ports", {"tags": ["blog", "press-briefings"], "since": "2023-01-01"})]:
            results = ix.search(text, facets=True, **filters)
            dates = {k: v for k, v in filters.items() if k != "tags"}
            expected_tags = Counter(t for h in every(ix, text, **dates) for t in h.tags)
            expected_years = Counter(h.date[:4] for h in every(ix, text, tags=filters.get("tags", [])) if h.date)
            assert {f.value: f.count for f in results.tags} == dict(expected_tags), (text, filters)
            assert {f.value: f.count for f in results.years} == dict(expected_years), (text, filters)
            assert results.total == len(every(ix, text, **filters))


def test_sorted_by_date_plain_words_mean_every_word(tmp_path):
    """Newest first, "Russia sanctions" is the documents with both words (a form of a word, or
    an alias, counting as the word); by relevance it stays an OR with the all-words bonus."""
    root = tmp_path / "a"
    write_doc(root, "both-old.md", title="One", date="'2021-01-01'", body="Russia and its sanctions.")
    write_doc(root, "both-new.md", title="Two", date="'2024-01-01'", body="Russia sanctioned them.")
    write_doc(root, "russia-newest.md", title="Three", date="'2025-01-01'", body="Russia only.")
    write_doc(root, "sanctions-newest.md", title="Four", date="'2025-01-02'", body="Sanctions only.")
    write_doc(root, "dprk.md", title="Five", date="'2025-01-03'", body="North Korea and sanctions.")
    build_index(root, tmp_path / "ix")
    with open_index(tmp_path / "ix") as ix:
        newest = ix.search("Russia sanctions", sort="newest")
        assert [h.path for h in newest.results] == ["both-new.md", "both-old.md"] and newest.total == 2
        assert newest.note is None
        assert [h.path for h in ix.search("Russia sanctions", sort="oldest").results] == ["both-old.md", "both-new.md"]
        assert ix.search("Russia sanctions").total == 5  # by relevance: any of the words
        assert [h.path for h in ix.search("DPRK sanctions", sort="newest").results] == ["dprk.md"]  # the alias counts
        fallback = ix.search("Korea only zqnothing", sort="newest")  # no document has both known words
        assert fallback.note == "No document has all 2 of the words; these have 1 of them."
        assert fallback.total == 3
        assert [h.path for h in ix.search("Russia -sanctions", sort="newest").results] == ["russia-newest.md"]


@needs_archive()
def test_date_sort_on_the_archive_lists_only_documents_with_every_word(archive_index):
    with open_index(archive_index) as ix:
        for text, sort in (("Psaki Afghanistan", "oldest"), ("State of the Union", "newest")):
            results = ix.search(text, sort=sort, limit=20)
            assert results.total and results.note is None
            stems = [stem(normalize(w)) for w in text.split() if not is_stop(normalize(w))]
            for hit in results.results:
                words = {stem(normalize(t)) for t in TOKEN_RE.findall(hit.title + " " + ix.document(hit.path).body)}
                assert all(s in words for s in stems), (text, hit.path)


def test_a_rare_spelling_of_a_far_more_common_word_gets_a_suggestion(tmp_path):
    """"Zelensky" finds its few documents, and "did you mean" offers "Zelenskyy", the spelling
    of most; a word whose only near neighbour differs by a letter for another is left alone."""
    root = tmp_path / "a"
    for n in range(60):
        write_doc(root, f"z{n:02d}.md", title=f"Statement {n}", date="'2023-01-01'",
                  body=f"President Zelenskyy of Ukraine met the class. Erdoğan too. Statement {n}.")
    for n in range(2):
        write_doc(root, f"rare{n}.md", title="Rare", date="'2023-01-02'", body=f"Zelensky spoke. A clash. Erdogan. Note {n}.")
    build_index(root, tmp_path / "ix")
    with open_index(tmp_path / "ix") as ix:
        results = ix.search("Zelensky")
        assert results.total == 2 and not results.corrected  # its own documents, not corrected
        assert results.suggestion == "Zelenskyy"
        assert ix.suggest("Erdogan") == "Erdoğan"  # the same but for accents
        assert ix.suggest("clash") is None and ix.suggest("Zelenskyy") is None


def test_no_suggestion_for_a_word_whose_alias_is_in_the_archive(tmp_path):
    root = tmp_path / "a"
    write_doc(root, "nk.md", title="Statement", date="'2024-01-02'", body="North Korea launched a missile in the dark.")
    build_index(root, tmp_path / "ix")
    with open_index(tmp_path / "ix") as ix:
        results = ix.search("DPRK missile")
        assert results.total == 1 and results.suggestion is None  # was "DARK missile"


def test_a_corrected_search_offers_the_words_as_typed(small, small_index):
    from click.testing import CliRunner

    from search.cli import cli
    from web import create_app

    corrected = small.search("Kishda")
    assert corrected.corrected and corrected.search_instead == "Kishda" and corrected.total == 1
    exact = small.search("Kishda", exact=True)
    assert exact.total == 0 and not exact.corrected and exact.search_instead is None and exact.suggestion == "Kishida"
    client = create_app({"SEARCH_INDEX": str(small_index), "TESTING": True}).test_client()
    assert client.get("/api/search?q=Kishda").json["search_instead"] == "Kishda"
    assert client.get("/api/search?q=Kishda&exact=true").json["total"] == 0
    page = client.get("/?q=Kishda").get_data(as_text=True)
    assert 'href="/?q=Kishda&amp;exact=1"' in page and "Search instead for “Kishda”" in page
    shown = CliRunner().invoke(cli, ["query", "Kishda", "--index", str(small_index)]).stdout
    assert 'Search instead for "Kishda": search query --exact Kishda' in shown
