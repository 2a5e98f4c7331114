"""Hostile queries, round two: the work budget, the deadline, documented syntax that gave a
500, boosts that gave NaN, and the small holes in the query reader.

The promises:
- A query past the work budget (the words its prefixes, wildcards and fuzzy words stand for,
  and the postings it reads) is refused before the work starts, with a message saying what to
  narrow: exit 2 in the CLI, HTTP 400 on the web.
- A search that passes its deadline, or whose client has gone, stops: HTTP 503 with a message.
- Every query built from the documented syntax answers as Whoosh's own matchers do, never a
  500 or a traceback.
- Scores are finite numbers; the JSON is standard.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search import QueryError, QueryTimeout, QueryTooCostly, analysis, build_index, open_index, plan, postings, queries, scoring
from search.deadline import Deadline
from search.highlighting import MAX_ALTERNATIVES, Marker
from search.settings import MAX_LIMIT, WorkBudget
from web import create_app

from .conftest import needs_archive, serve_process, write_doc
from .harness import LONG, run_search

PREFIXES = [a + b for a in "bcdfgmprst" for b in "aeiou"]  # 50 two-letter prefixes


@pytest.fixture(scope="module")
def wordy_index(tmp_path_factory) -> Path:
    """An archive whose word list has 120 words for each of 50 two-letter prefixes: each
    prefix stays under the per-prefix cap, all of them together far over the budget."""
    root = tmp_path_factory.mktemp("wordy")
    rng = random.Random(3)
    vocabulary = [p + "".join(rng.choice("bcdfghklmnprstvz") + rng.choice("aeiou") for _ in range(3)) for p in PREFIXES
                  for _ in range(120)]
    for n in range(200):
        words = " ".join(rng.sample(vocabulary, 60))
        write_doc(root / "archive", f"d{n:03d}.md", title=f"'Statement {n}'", date=f"'2024-01-{n % 28 + 1:02d}'",
                  tags="statements-releases", body=f"Tariffs and {words}.")
    build_index(root / "archive", root / "index")
    return root / "index"


PREFIX_ATTACK = " ".join(f"{p}*" for p in PREFIXES * 7)[:999]


def test_the_prefix_attack_is_refused_before_the_work_through_the_real_server(wordy_index, tmp_path):
    with open_index(wordy_index) as ix:
        for prefix in PREFIXES[:3]:
            assert ix.search(f"{prefix}*").total > 0  # each prefix alone is fine
        with pytest.raises(QueryTooCostly, match="stand for more than 1,000 words together"):
            ix.search(PREFIX_ATTACK)
    import http.client
    import urllib.parse

    with serve_process(wordy_index, tmp_path, "--processes", "1") as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        for target in (f"/api/search?q={urllib.parse.quote(PREFIX_ATTACK)}", f"/?q={urllib.parse.quote(PREFIX_ATTACK)}",
                       f"/doc/d001.md?q={urllib.parse.quote(PREFIX_ATTACK)}"):
            connection.request("GET", target)
            response = connection.getresponse()
            body = response.read().decode()
            if target.startswith("/doc/"):  # the document page shows the document; the words are not marked
                assert response.status == 200 and "<mark>" not in body
                continue
            assert response.status == 400, (target[:40], response.status)
            assert "stand for more than 1,000 words together" in body
    done = run_search("query", PREFIX_ATTACK, "--index", str(wordy_index))
    assert done.returncode == 2 and done.stderr.startswith("Error: the query's prefixes") and "Traceback" not in done.stderr


def test_too_many_fuzzy_words_and_too_many_postings_are_refused(wordy_index):
    budget = WorkBudget()
    with open_index(wordy_index) as ix:
        words = ["tariffs", "statement", "and"] + [f"{p}zzz" for p in PREFIXES]
        fuzzy = " ".join(f"{w}~{1 + n % 2}" for n, w in enumerate(words[: budget.fuzzy_words + 1]))
        with pytest.raises(QueryTooCostly, match=f"more than {budget.fuzzy_words} fuzzy words"):
            ix.search(fuzzy)
        assert ix.search(" ".join(f"{w}~" for w in words[: budget.fuzzy_words])).total == 200
    with open_index(wordy_index, budget=WorkBudget(postings=250)) as ix:
        assert ix.search("tariffs").total == 200  # 200 postings, in the bodies
        # 200 in the bodies, 200 in the titles, 200 for the title bonus; and again to find the
        # documents with both words, for the all-words bonus.
        with pytest.raises(QueryTooCostly, match="would read 1,200 postings, more than the 250 one search may"):
            ix.search("tariffs statement")


def test_the_budget_leaves_room_for_every_benchmark_and_judged_query(big_index):
    """Every query of benchmarks/speed_queries.tsv and the judged archive queries reads at most
    a fifth of the postings budget (a third for a pasted passage of more than 30 words, which
    reads the postings of every common word it holds), and expands to at most a tenth of its
    words."""
    from .conftest import REPO

    queries = [line.split("\t")[1] for line in (REPO / "benchmarks" / "speed_queries.tsv").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    queries += [line.split("\t", 1)[1] for line in (REPO / "benchmarks" / "archive_queries.tsv").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    budget = WorkBudget()
    with open_index(big_index) as ix:
        for text in queries:
            parsed = ix.reader.read(text, ix._searcher.reader())
            share = 3 if len(text.split()) > 30 else 5
            assert plan.cost(parsed.query, ix._searcher.reader()) <= budget.postings // share, text
            assert parsed.expanded <= budget.expanded_words // 10, text


# --- The deadline ----------------------------------------------------------------------------


def test_a_search_past_its_deadline_or_whose_client_left_stops(small_index):
    with open_index(small_index) as ix:
        with pytest.raises(QueryTimeout, match="took longer than 1e-09 s and was stopped; narrow it"):
            ix.search("Russia sanctions", deadline=Deadline(1e-9))
        with pytest.raises(QueryTimeout, match="the client is gone"):
            ix.search("Russia sanctions", deadline=Deadline(None, gone=lambda: True))
    with open_index(small_index, budget=WorkBudget(seconds=1e-9)) as ix:
        with pytest.raises(QueryTimeout):
            ix.search("Russia")
    client = create_app({"SEARCH_INDEX": str(small_index), "TESTING": True, "SEARCH_DEADLINE": 1e-9}).test_client()
    for url in ("/api/search?q=Russia", "/?q=Russia", "/api/doc/statements-releases/2024-07/2024-07-11-nato-partners.md"):
        response = client.get(url)
        assert response.status_code == 503, url
        assert "took longer than" in response.get_data(as_text=True)
    client = create_app({"SEARCH_INDEX": str(small_index), "TESTING": True}).test_client()
    assert client.get("/api/search?q=Russia").status_code == 200
    gone = client.get("/api/search?q=Russia", environ_overrides={"waitress.client_disconnected": lambda: True})
    assert gone.status_code == 503 and gone.json == {"ok": False, "error": "the search was stopped: the client is gone"}


def test_costly_searches_beyond_the_gates_slots_are_refused_at_once_and_plain_ones_run(small_index):
    from search import ServerBusy
    from search.deadline import Gate

    gate = Gate(1)
    with open_index(small_index, budget=WorkBudget(costly_postings=3)) as ix:
        with gate.held():  # another costly search holds the only slot
            with pytest.raises(ServerBusy, match="busy with 1 other costly searches; try again"):
                ix.search("Russia sanctions Maui", deadline=Deadline(None, gate=gate))
            assert ix.search("Kishida", deadline=Deadline(None, gate=gate)).total == 1  # 2 postings: not costly
        assert ix.search("Russia sanctions Maui", deadline=Deadline(None, gate=gate)).total > 0  # the slot is free
    app = create_app({"SEARCH_INDEX": str(small_index), "TESTING": True, "SEARCH_COSTLY_SLOTS": 1})
    app.extensions["search"].get().budget = WorkBudget(costly_postings=3)  # this thread's index
    app.extensions["search"].get().reader.budget = WorkBudget(costly_postings=3)
    client = app.test_client()
    with app.extensions["search.gate"].held():
        busy = client.get("/api/search?q=Russia+sanctions+Maui")
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "2"
        assert "busy with 1 other costly searches" in busy.json["error"]
        assert client.get("/api/search?q=Kishida").status_code == 200
    assert client.get("/api/search?q=Russia+sanctions+Maui").status_code == 200


# --- Documented syntax that gave a 500 -------------------------------------------------------

FOUND_500 = [
    "maui +wildfire NOT lahaina", "kishida +biden NOT erin", "totally NOT (overlook NOT directing) AND departs",
    "kirill ANDNOT allowed date:2024 date:2024-07",
]
FUZZED_500 = ("/api/search?tag=statements-releases&since&sort=oldest%20&tag=xxxx&q=TITLE%3Atags%3Aor%20%F0%9D%94%85"
              "%F0%9D%94%A6%F0%9D%94%A1%F0%9D%94%A2%F0%9D%94%AB~2%20TITLE%3Adate%3A%5B2024-07-1%D9%A1%20to2024-07%5D%20"
              "d%27horizon%20ANDNOT%20blossoms%2A%20date%3A2024%20NOT%20wesleyan&until=2024-07-11")


def _whooshs_paths(ix, text: str) -> list[str]:
    """The paths a query matches by Whoosh's own matchers, in their order (the path a query
    the executor cannot plan takes)."""
    parsed = ix.reader.read(text, ix._searcher.reader())
    reference = ix._searcher.search(parsed.query, limit=None, optimize=False)
    return [ix._searcher.stored_fields(d)["path"] for _, d in reference.top_n]


def test_whooshs_and_not_can_ask_an_exhausted_fields_matcher_for_its_id(tmp_path):
    """The bug behind the 500s, on five documents: `+wildfire` skips the AND NOT past the last
    "maui", and Whoosh's AndNotMatcher then asks the exhausted matcher for its id."""
    root = tmp_path / "a"
    write_doc(root, "d0.md", title="Zero", date="'2024-01-01'", body="maui")
    write_doc(root, "d1.md", title="One", date="'2024-01-02'", body="lahaina")
    write_doc(root, "d2.md", title="Two", date="'2024-01-03'", body="other")
    write_doc(root, "d3.md", title="Three", date="'2024-01-04'", body="wildfire")
    write_doc(root, "d5.md", title="Five", date="'2024-01-05'", body="lahaina again")
    build_index(root, tmp_path / "ix")
    with open_index(tmp_path / "ix") as ix:
        assert _whooshs_paths(ix, "maui +wildfire NOT lahaina") == ["d3.md"]
        assert [h.path for h in ix.search("maui +wildfire NOT lahaina").results] == ["d3.md"]


def test_whooshs_and_not_reads_the_id_of_a_date_span_its_skip_used_up(tmp_path):
    """`+biden date:2024 ANDNOT russia` (found by the operator fuzz): the AND MAYBE skips the
    AND NOT past the last document of 2024, and Whoosh's AndNotMatcher then reads the id of
    the used-up span (IndexError)."""
    root = tmp_path / "a"
    write_doc(root, "d0.md", title="Zero", date="'2024-01-01'", body="biden")
    write_doc(root, "d1.md", title="One", date="'2023-01-02'", body="russia")
    write_doc(root, "d2.md", title="Two", date="'2023-01-03'", body="biden")
    write_doc(root, "d3.md", title="Three", date="'2023-01-04'", body="biden")
    write_doc(root, "d4.md", title="Four", date="'2023-01-05'", body="russia again")
    build_index(root, tmp_path / "ix")
    with open_index(tmp_path / "ix") as ix:
        text = "+biden date:2024 ANDNOT russia"
        assert sorted(_whooshs_paths(ix, text)) == ["d0.md", "d2.md", "d3.md"]
        assert [h.path for h in ix.search(text).results][0] == "d0.md"  # the one in 2024 without russia


@needs_archive()
def test_the_queries_that_gave_500s_answer_through_the_real_server_and_cli(archive_index, tmp_path):
    import http.client
    import urllib.parse

    with serve_process(archive_index, tmp_path, "--processes", "1") as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        for text in FOUND_500:
            for target in (f"/api/search?q={urllib.parse.quote(text)}", f"/?q={urllib.parse.quote(text)}"):
                connection.request("GET", target)
                response = connection.getresponse()
                response.read()
                assert response.status == 200, (text, target[:5], response.status)
        connection.request("GET", FUZZED_500)
        response = connection.getresponse()
        assert response.status in (200, 400), response.read()[:300]
        response.read()
        assert "Traceback" not in server.stderr()
    for text in FOUND_500:
        done = run_search("query", text, "--index", str(archive_index), "--json")
        assert done.returncode == 0 and "Traceback" not in done.stderr, (text, done.stderr[-300:])
        # Kirill is named in four documents, all of 2022: the last query rightly finds none.
        assert (json.loads(done.stdout)["total"] > 0) is (not text.startswith("kirill")), text


# The operator fuzz: queries of the documented syntax over real words, each answer compared with
# what Whoosh's own matchers give for the same parsed query.

WORDS = ["biden", "russia", "ukraine", "china", "maui", "wildfire", "lahaina", "kishida", "erin", "sanctions",
         "president", "allowed", "kirill", "directing", "overlook", "departs", "totally", "blossoms", "energy",
         "jobs", "infrastructure", "korea", "dprk", "japan", "zelenskyy", "insulin", "the", "zqnothing"]
ATOMS = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(WORDS).map(lambda w: f"{w[:4]}*"),
    st.sampled_from(WORDS).map(lambda w: f"{w}~"),
    st.sampled_from(WORDS).map(lambda w: f"title:{w}"),
    st.sampled_from(WORDS).map(lambda w: f"body:{w}"),
    st.sampled_from(['"north korea"', '"clean energy"', '"the president"', '"russia ukraine"']),
    st.sampled_from(["date:2024", "date:2023-07", "date:2022-02-24", "date:[2021 to 2022]", "date:[2024-07-01 to]",
                     "tags:press-briefings", "tags:blog", "title:*", "Inflation Reduction Act"]),
)


def _combine(children):
    return st.one_of(
        st.tuples(children, children).map(" ".join),
        st.tuples(children, st.sampled_from(["AND", "OR", "ANDNOT", "ANDMAYBE", "NOT"]), children).map(" ".join),
        children.map(lambda q: f"({q})"),
        children.map(lambda q: f"-{q}" if not q.startswith(("-", "+")) else q),
        children.map(lambda q: f"+{q}" if not q.startswith(("-", "+")) else q),
        children.map(lambda q: f"NOT {q}"),
    )


OPERATOR_QUERIES = st.recursive(ATOMS, _combine, max_leaves=7)


@settings(max_examples=600 if LONG else 120, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(text=OPERATOR_QUERIES)
def test_operator_fuzz_answers_as_whooshs_own_matchers_do(big_index, text):
    with open_index(big_index) as ix:
        try:
            results = ix.search(text, limit=MAX_LIMIT, snippets=False, keep_duplicates=True)
        except QueryError:
            return  # refused with a message: the reader's job, tested elsewhere
        parsed = ix.reader.read(results.suggestion if results.corrected else text, ix._searcher.reader())
        reference = ix._searcher.search(parsed.query, limit=None, optimize=False).top_n
        expected = {ix._searcher.stored_fields(d)["path"]: s for s, d in reference}
        assert results.total == len(expected), text
        scores = [h.score for h in results.results]
        assert scores == sorted(scores, reverse=True), text
        for hit in results.results:
            assert hit.path in expected, (text, hit.path)
            assert math.isclose(hit.score, round(expected[hit.path], 4), abs_tol=2e-4), (text, hit.path)
        if results.results:  # the top is Whoosh's top, up to ties at its last place
            cutoff = results.results[-1].score
            assert {h.path for h in results.results if h.score > cutoff + 2e-4} <= {
                p for p, s in expected.items() if s > cutoff - 2e-4}
            assert len(results.results) == min(len(expected), MAX_LIMIT)


# --- Date ranges under AND -------------------------------------------------------------------


def test_date_ranges_are_one_constant_filter_on_every_path(small_index):
    """`biden AND date:[2021 to 2024]` went through Whoosh's tree of one matcher per day; the
    range is now one list of documents, whatever surrounds it, with Whoosh's constant score."""
    from whoosh import query

    with open_index(small_index) as ix:
        for text in ("President AND date:[2021 to 2023]", "date:[2022 to 2024] AND NOT Maui", "+date:2024 Russia"):
            parsed = ix.reader.read(text, ix._searcher.reader())
            spans = [q for q in parsed.query.leaves() if isinstance(q, queries.TermSpan)]
            assert spans and not [q for q in parsed.query.leaves() if isinstance(q, query.TermRange)]
        parsed = ix.reader.read("date:[2022 to 2023]", ix._searcher.reader())
        whoosh_range = query.TermRange("date", "2022", "2023-12-31")
        assert sorted(ix._searcher.docs_for_query(parsed.query)) == sorted(ix._searcher.docs_for_query(whoosh_range))
        assert {round(h.score, 4) for h in ix.search("date:[2022 to 2023]^2").results} == {2.0}


# --- Boosts, NaN and JSON --------------------------------------------------------------------


@pytest.mark.parametrize("text", ["tariffs^" + "9" * 400, "Russia^0", "Russia^0.0", "Maui Russia^101", "title:Russia^1000"])
def test_boosts_that_gave_infinite_or_nan_scores_are_refused(small_index, text):
    client = create_app({"SEARCH_INDEX": str(small_index), "TESTING": True}).test_client()
    response = client.get("/api/search", query_string={"q": text})
    assert response.status_code == 400
    assert response.json["error"] == "a boost (^) must be a number above 0 and at most 100"
    done = run_search("batch", "-", "--index", str(small_index), "--format", "trec", input=f"q1\t{text}\n")
    assert "inf" not in done.stdout and "nan" not in done.stdout.lower() and "1 failed" in done.stderr


def test_the_json_is_standard_even_if_a_score_were_not_finite(small_index):
    def strict(value):
        raise ValueError(value)

    client = create_app({"SEARCH_INDEX": str(small_index), "TESTING": True}).test_client()
    for text in ("Russia^100", "Russia^0.001 Maui", "(Russia sanctions)^50", "(Russia OR Maui)^0", "(Russia AND Maui)^0"):
        response = client.get("/api/search", query_string={"q": text})
        assert response.status_code == 200
        json.loads(response.get_data(as_text=True), parse_constant=strict)
    with pytest.raises(ValueError):
        client.application.json.dumps({"score": float("nan")})


# --- Small holes in the reader ---------------------------------------------------------------


def test_nested_minus_and_plus_are_read(small):
    flat = [h.path for h in small.search("Russia -sanctions").results]
    for text in ("((Russia -sanctions))", "(((Russia -sanctions)))", "Maui (Russia -sanctions)"):
        paths = [h.path for h in small.search(text).results]
        assert set(flat) <= set(paths), text
    assert [h.path for h in small.search("((Russia -sanctions))").results] == flat
    assert {h.path for h in small.search("Maui (Russia +sanctions)").results} >= {
        h.path for h in small.search("+sanctions Russia").results}


@pytest.mark.parametrize("text", ["date:[2024-07-0\u0661 to 2024-08-01]", "date:\u0662\u0660\u0662\u0664",
                                  "date:2024-02-30", "date:2024-13", "date:[2024-01-01 to 2024-02-31]"])
def test_only_real_dates_in_ascii_digits_are_read(small, text):
    with pytest.raises(QueryError, match="is not a"):
        small.search(text)


def test_filter_dates_take_ascii_digits_only(small_index):
    client = create_app({"SEARCH_INDEX": str(small_index), "TESTING": True}).test_client()
    response = client.get("/api/search", query_string={"q": "Russia", "since": "2024-07-0\u0661"})
    assert response.status_code == 400 and "since must be a date as YYYY-MM-DD" in response.json["error"]


# --- What a server's caches hold -------------------------------------------------------------


def test_the_stem_and_document_frequency_caches_stay_bounded(small_index, monkeypatch):
    """Random words without end (2,000 random 10-word queries grew the stem cache by 20,000
    entries before)."""
    monkeypatch.setattr(analysis, "STEM_CACHE", 500)
    monkeypatch.setattr(scoring, "UNION_DF_CACHE", 300)
    rng = random.Random(5)
    with open_index(small_index) as ix:
        for _ in range(300):
            words = " ".join("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(7)) for _ in range(10))
            ix.search(words)
            assert len(analysis._stem_cache) <= 500
            assert len(postings.segment_memo("union frequency")) <= 300


# --- Snippets whose cost does not grow with the expansions -----------------------------------


@given(text=st.lists(st.sampled_from(list("abcdeinorstu ’'-.,\n") + ["Russia", "sanctions", "running", " of the "]),
                     max_size=120).map("".join))
@settings(max_examples=200, deadline=None)
def test_marking_word_by_word_finds_what_the_pattern_finds(text):
    """Past MAX_ALTERNATIVES stems, words are looked at one by one instead of through one
    regular expression of prefixes: the same marks."""
    wanted = {"russia", "sanction", "run", "cat", "dog"}
    padding = {f"zq{n:04d}" for n in range(MAX_ALTERNATIVES)}
    phrases = {("sanction", "run")}
    small, large = Marker(wanted, phrases), Marker(wanted | padding, phrases)
    assert large.pattern is not small.pattern
    assert large.spans(text) == small.spans(text)
    assert large.snippet(text) == small.snippet(text)

