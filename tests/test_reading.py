"""How a query's words are read before they are scored: operators typed in capitals, words typed
more than once, questions, and periods named in the words."""

from __future__ import annotations

import pytest

from search import build_index, open_index
from search.periods import named_periods
from search.ranking import Ranking

from .conftest import write_doc


@pytest.fixture
def consumer(tmp_path):
    root = tmp_path / "a"
    write_doc(root, "include.md", title="One", date="'2021-01-01'", body="Consumer advice does include labels.")
    write_doc(root, "advice.md", title="Two", date="'2021-01-02'", body="Advice for the consumer.")
    write_doc(root, "only.md", title="Three", date="'2021-01-03'", body="Advice centres.")
    build_index(root, tmp_path / "ix")
    return tmp_path / "ix"


def test_a_query_typed_in_capitals_reads_and_or_not_as_words(consumer):
    """A pasted all-capitals passage ("IT DOES NOT INCLUDE ...") has no case to tell an operator
    from a word; with one lowercase letter anywhere, the capitals are operators again."""
    with open_index(consumer) as ix:
        passage = ix.search("IT DOES NOT INCLUDE CONSUMER ADVICE")
        assert passage.results[0].path == "include.md" and passage.total == 3
        assert "include.md" not in [h.path for h in ix.search("it does NOT include consumer advice").results]
        assert ix.search("CONSUMER AND ADVICE").total == 3  # "and" is a word, and a stop word
        assert ix.search("consumer AND advice").total == 2
        assert ix.search("ADVICE OR CONSUMER").total == 3
        assert ix.search("(NOT CONSUMER) ADVICE").total == 3
        assert ix.search("(NOT consumer) advice").total == 1


def _scores(ix, text: str) -> dict[str, float]:
    """Unrounded scores by path (a hit's score is rounded for display)."""
    matches = ix.matches(ix.reader.read(text, ix.searcher.reader()).query)
    stored = ix.searcher.reader().stored_fields
    return {stored(int(d))["path"]: float(s) for d, s in zip(matches.docnums, matches.scores)}


def test_a_word_typed_twice_weighs_as_bm25_weighs_a_query_terms_frequency(tmp_path):
    """n times weighs (k3 + 1) * n / (k3 + n): twice is 1.375 times once with k3 = 1.2."""
    root = tmp_path / "a"
    write_doc(root, "alpha.md", title="Note", body="alpha and filler words here")
    write_doc(root, "beta.md", title="Note", body="beta and filler words here")
    build_index(root, tmp_path / "ix")
    with open_index(tmp_path / "ix") as ix:
        once = _scores(ix, "alpha beta")
        assert once["alpha.md"] == pytest.approx(once["beta.md"], rel=1e-12)
        twice = _scores(ix, "alpha beta beta")
        k3 = ix.ranking.query_term_saturation
        assert k3 == 1.2
        assert twice["beta.md"] / twice["alpha.md"] == pytest.approx((k3 + 1) * 2 / (k3 + 2), rel=1e-9)
        assert twice["alpha.md"] == pytest.approx(once["alpha.md"], rel=1e-12)
        assert _scores(ix, "alpha beta BETA") == pytest.approx(twice, rel=1e-12)  # the same word, as typed
        thrice = _scores(ix, "alpha beta beta beta")
        assert thrice["beta.md"] / thrice["alpha.md"] == pytest.approx((k3 + 1) * 3 / (k3 + 3), rel=1e-9)
        assert list(_scores(ix, "alpha beta -beta")) == ["alpha.md"]  # a word under NOT does not count
        assert _scores(ix, "alpha beta NOT beta") == _scores(ix, "alpha beta -beta")
    with open_index(tmp_path / "ix", ranking=Ranking(query_term_saturation=0)) as ix:
        flat = _scores(ix, "alpha beta beta")
        assert flat["alpha.md"] == pytest.approx(flat["beta.md"], rel=1e-12)


@pytest.mark.parametrize("text, labels", [
    ("Kishida call readout March 2023", ["March 2023"]),
    ("statement Jan. 5, 2024 on Ukraine", ["January 2024"]),
    ("Sept 2022 jobs report", ["September 2022"]),
    ("proclamation 2021", ["2021"]),
    ("briefing 2023-03-14", ["March 2023"]),
    ("2021 and 2022 and 2021", ["2021", "2022"]),
    ("1789 inaugural address", ["1789"]),
    ("$2000 checks", []), ("2000% rise", []), ("2,000 troops", []), ("FY2024 budget", []), ("120210", []),
    ("3.2024", []), ("Russia date:2024 date:[2021 to 2022]", []), ("Russia", []), ("march on Selma", []),
])
def test_the_periods_a_query_names_are_months_and_years_never_amounts(text, labels):
    assert [p.label for p in named_periods(text)] == labels


def test_named_periods_are_the_days_a_date_field_holds():
    (feb,) = named_periods("February 2024")
    assert (feb.start, feb.end) == ("2024-02-01", "2024-02-29")
    (year,) = named_periods("2021")
    assert (year.start, year.end) == ("2021-01-01", "2021-12-31")


@pytest.fixture
def readouts(tmp_path):
    """The same readout three years running, each as short as the others."""
    root = tmp_path / "a"
    for year in (2021, 2022, 2023):
        write_doc(root, f"readout-{year}.md", title="Readout of the President's Call with Prime Minister Kishida",
                  date=f"'{year}-03-14'", body=f"The President spoke with Prime Minister Kishida of Japan. Call {year % 10}.")
    write_doc(root, "other.md", title="Statement on Japan", date="'2022-06-01'", body="Japan and the alliance.")
    build_index(root, tmp_path / "ix")
    return tmp_path / "ix"


def test_a_period_in_the_words_puts_the_document_of_that_period_first_and_filters_nothing(readouts):
    with open_index(readouts, ranking=Ranking(period_bonus=0.5)) as ix:
        march = ix.search("Kishida call readout March 2022", explain=True)
        assert march.results[0].path == "readout-2022.md"
        assert march.total == ix.search("Kishida call readout").total == 3  # a soft signal, not a filter
        assert ix.search("Kishida readout 2023").results[0].path == "readout-2023.md"
        assert any("dated in March 2022" in line for line in march.reading)
        scores = _scores(ix, "Kishida call readout March 2022")
        assert scores["readout-2022.md"] == pytest.approx(scores["readout-2021.md"] * 1.5, rel=1e-6)
        (hit,) = [h for h in march.results if h.path == "readout-2022.md"]
        assert "the period bonus: dated in March 2022" in " ".join(hit.explanation.lines())
    with open_index(readouts, ranking=Ranking(period_bonus=0.0)) as ix:
        scores = _scores(ix, "Kishida call readout March 2022")
        assert len(set(round(v, 9) for v in scores.values())) == 1  # without it, nothing tells them apart


QUESTION_WORDS = frozenset("what when where who whom whose why how which did does do say said says saying tell me about".split())


@pytest.fixture
def insulin(tmp_path):
    root = tmp_path / "a"
    write_doc(root, "roundup.md", title="'WHAT THEY ARE SAYING: What They Said About the Plan'", date="'2023-01-01'",
              body="What they are saying, what they said, what leaders say about the plan and insulin.")
    write_doc(root, "insulin.md", title="Statement on Insulin Prices", date="'2023-03-01'",
              body="The President on lowering insulin prices for seniors: a $35 cap on insulin prices.")
    build_index(root, tmp_path / "ix")
    return tmp_path / "ix"


def test_a_questions_framing_is_left_out_and_the_reading_says_so(insulin):
    question = "what did the president say about insulin prices?"
    with open_index(insulin, ranking=Ranking(question_words=QUESTION_WORDS)) as ix:
        asked = ix.search(question, explain=True)
        assert asked.results[0].path == "insulin.md"
        assert asked.reading[-1] == "left out, as the framing of a question: what, did, say, about"
        assert _scores(ix, question) == pytest.approx(_scores(ix, "president insulin prices"), rel=1e-12)
        # Not a question: every word counts, "say" and "about" included.
        assert _scores(ix, "say about insulin")["roundup.md"] > _scores(ix, "insulin")["roundup.md"]
        assert not any(line.startswith("left out") for line in ix.search("say about insulin", explain=True).reading)
        # Only framing words: nothing would be left, so nothing is left out.
        assert ix.search("what did they say?").results[0].path == "roundup.md"
    with open_index(insulin, ranking=Ranking(question_words=frozenset())) as ix:
        assert ix.search(question).results[0].path == "roundup.md"  # the framing drives the match
