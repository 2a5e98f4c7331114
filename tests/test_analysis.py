"""The analyzer: porter2 stemming, and the fast indexing path agreeing with Whoosh's chain."""

from __future__ import annotations

from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.analysis import StemmingAnalyzer

from search.analysis import index_terms, stem, text_analyzer


def analyzed(text: str) -> list[str]:
    return [t.text for t in text_analyzer()(text)]


def test_porter2_keeps_running_as_run_where_whooshs_default_does_not():
    assert analyzed("running runs ran") == ["run", "run", "ran"]
    assert [t.text for t in StemmingAnalyzer()("running")] == ["runn"]  # the reason we do not use it


def test_possessives_and_curly_apostrophes():
    assert analyzed("Biden’s plan, Biden's plan") == ["biden", "plan", "biden", "plan"]


def test_stop_words_and_single_letters_are_dropped_but_numbers_stay():
    assert analyzed("the U.S. and the 2024 COVID-19 plan") == ["2024", "covid", "19", "plan"]


def test_plural_and_singular_meet():
    assert stem("sanctions") == stem("sanction") == stem("sanctioned")
    assert stem("policies") == stem("policy")


def whoosh_positions(text: str) -> dict[str, list[int]]:
    positions = defaultdict(list)
    for token in text_analyzer()(text, positions=True):
        positions[token.text].append(token.pos)
    return dict(positions)


words = st.sampled_from(
    ["The", "running", "U.S.", "Biden’s", "don't", "COVID-19", "a", "2024", "Kishida", "policies",
     "États", "naïve", "x", "of", "NATO’s", "co-operation", "'quoted'", "—", "\u00a0", "tax-credits"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(words, st.text(max_size=12)), max_size=40))
def test_fast_index_terms_agree_with_the_whoosh_analyzer(parts):
    text = " ".join(parts)
    terms = index_terms(text)
    assert terms.positions == whoosh_positions(text)
    assert terms.length == sum(len(p) for p in terms.positions.values())
