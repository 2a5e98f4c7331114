"""The scoring core against its references: the executor against Whoosh's own matchers, the
scorers' array path against their one-posting path, the partial sort against a full sort,
explain against the scores, and Whoosh's codec internals against what postings.py reads.
"""

from __future__ import annotations

import math
import random
from importlib.metadata import version

import numpy as np
import pytest
from whoosh import query

from search import RankingMismatch, build_index, open_index, update_index
from search.executor import Matches, best, run
from search.plan import make_plan
from search.postings import CodecChanged, check_codec, length_bytes, postings
from search.queries import FieldsTerm
from search.ranking import Ranking
from search.scoring import BM25, BM25F, FieldNorm, Weighting, robertson_idf

from .conftest import write_doc, write_small_archive


@pytest.fixture(scope="module")
def mixed_index(tmp_path_factory):
    """The small archive, a few more documents, and an update that leaves a deleted document
    in a segment (and a second segment)."""
    tmp = tmp_path_factory.mktemp("mixed")
    root = write_small_archive(tmp / "archive")
    write_doc(root, "nk.md", title="North Korea", date="'2024-01-02'", body="North Korea fired a missile; the DPRK denied it.")
    write_doc(root, "gone.md", title="Gone", date="'2024-01-03'", body="Russia sanctions Maui DPRK, soon deleted.")
    write_doc(root, "empty.md", title="Nothing but a title", date="'2024-01-05'", body="")  # not in body:*
    write_doc(root, "both.md", title="Russia and Maui", date="'2023-05-05'", tags="blog",
              body="President Biden on Russia sanctions and Maui recovery; the president spoke.")
    build_index(root, tmp / "ix")
    (root / "gone.md").unlink()
    write_doc(root, "late.md", title="Late", date="'2024-01-04'", body="Russia and North Korea again; clean energy.")
    update_index(root, tmp / "ix")
    return tmp / "ix"


def executor_and_whoosh(ix, text: str):
    """A query read as a search reads it, run by the executor and by Whoosh's own matchers:
    (the plan, the executor's matches, its (score, document) in rank order, Whoosh's), the
    scores to 9 decimals. The plan is None, and the executor's lists empty, for a query it
    cannot plan."""
    parsed = ix.reader.read(text, ix.searcher.reader())
    plan = make_plan(parsed.query, ix.searcher, ix.ranking)
    found = run(plan, ix.searcher) if plan is not None else None
    fast = [(round(float(found.scores[p]), 9), int(found.docnums[p])) for p in best(found)] if found is not None else []
    slow = [(round(s, 9), d) for s, d in ix.searcher.search(parsed.query, limit=None, optimize=False).top_n]
    return plan, found, fast, slow


QUERIES = [
    "Russia", "Russia sanctions", "Maui recovery running", "President OR ports", "DPRK", "North Korea missile",
    '"Inflation Reduction Act"', '"Department of State"', "COVID-19 vaccines", "insul* prices", "title:Maui",
    "body:ports supply", "tags:blog ports", "clean energy investment history", "(Russia sanctions) OR Maui",
    "Maui OR (Russia sanctions)", "Russia -sanctions", "Maui recovery -ports", "Russia date:2024",
    "President date:[2022 to 2023-12-31]", "President date:2024-07", "Russia date:2024-07-11", "Kishda~ Russia",
    "date:2024", "date:[2021 to]", "President date:[2022 to]", "date:[0000 to 9999]", "date:2024-07-11 OR Maui",
    "date:[2024-01-01 to 2024-01-03]^2 OR Russia", "title:*", "body:*", "tags:*", "tags:* Maui", "Russia OR body:*^0.5",
    # Once Whoosh's only: +word, NOT, AND, ANDMAYBE, REQUIRE, nested, fuzzy categories.
    "+Russia sanctions", "Maui +recovery NOT ports", "NOT Russia", "NOT (Russia OR Maui)", "Russia AND sanctions",
    "Russia AND NOT sanctions", "Russia ANDMAYBE sanctions", "Maui ANDNOT (ports OR wildfires)", "tags:blogg~",
    "tags:blogg~ OR Russia", "(Russia OR Maui) AND date:2024", "President AND date:[2021 to 2024]",
    "((Russia -sanctions))", "x (Russia -sanctions)", "Russia^2 sanctions^0.5", "(Russia AND Maui) OR ports^3",
    "title:(Russia OR Maui) body:president", '"the president"', "NOT date:2024 Russia", "-Russia -Maui president",
    "Russia OR NOT Maui", "+date:2024 Russia", "body:running~ Maui",
    # Words typed more than once, which weigh more; operators typed in capitals throughout are words.
    "Russia sanctions Russia russia", "Maui recovery Maui^2", "RUSSIA AND NOT SANCTIONS",
]


@pytest.mark.parametrize("text", QUERIES)
def test_the_executor_scores_exactly_as_whooshs_matchers(mixed_index, text):
    """Every kind of query the reader makes is planned, and scored as Whoosh's own matchers
    score it (with this engine's scorers), to 9 decimals, in the same order."""
    with open_index(mixed_index) as ix:
        plan, _, fast, slow = executor_and_whoosh(ix, text)
        assert plan is not None, f"{text!r} should be planned"
        assert fast == slow
        assert slow or text in ("title:Maui", "Russia date:2024-07-11", "NOT date:2024 Russia") or "blogg" in text


PERIOD_QUERIES = ["Russia 2024", "Maui May 2023", "Russia sanctions 2023-05", "President 2023 2024", "NOT Maui Russia 2024",
                  "Russia -sanctions January 2024", "+Russia Maui 2023", "ports 2024", "Russia date:2024 2023"]


@pytest.mark.parametrize("text", PERIOD_QUERIES)
def test_the_period_bonus_scores_exactly_as_whooshs_matchers(mixed_index, text):
    """With a period bonus, a query naming a month or a year is planned and scored as Whoosh's
    own matchers score it, and the bonus never filters: the same documents match without it."""
    ranking = Ranking(period_bonus=0.5)
    with open_index(mixed_index, ranking=ranking) as ix:
        plan, _, fast, slow = executor_and_whoosh(ix, text)
        assert plan is not None, f"{text!r} should be planned"
        assert fast == slow and slow
    with open_index(mixed_index, ranking=Ranking(period_bonus=0.0)) as ix:
        plain = ix.reader.read(text, ix.searcher.reader())
        assert sorted(d for _, d in ix.searcher.search(plain.query, limit=None).top_n) == sorted(d for _, d in slow)


def test_a_query_the_executor_does_not_know_goes_through_whoosh(mixed_index):
    with open_index(mixed_index) as ix:
        odd = query.DisjunctionMax([query.Term("body", "russia"), query.Term("body", "maui")], tiebreak=0.1)
        assert make_plan(odd, ix.searcher, ix.ranking) is None
        found = ix.matches(odd)
        expected = ix.searcher.search(odd, limit=None, optimize=False).top_n
        assert sorted(zip(found.docnums.tolist(), np.round(found.scores, 9).tolist())) == sorted(
            (d, round(s, 9)) for s, d in expected) and len(expected) > 2


def test_the_top_of_a_partial_sort_is_the_top_of_a_full_sort():
    """Ties at the last place are broken by document number, as a full sort breaks them."""
    rng = random.Random(4)
    for _ in range(200):
        n = rng.randint(1, 60)
        scores = np.array([rng.choice([1.0, 2.0, 2.5, 3.0, rng.random()]) for _ in range(n)])
        matches = Matches(np.arange(n, dtype=np.int64) * 3, scores)
        full = best(matches)
        assert [(-scores[p], p) for p in full] == sorted((-s, i) for i, s in enumerate(scores))
        for k in (1, 2, 5, n // 2 or 1, n):
            assert best(matches, k).tolist() == full[:k].tolist()


def test_the_array_path_of_each_scorer_is_its_one_posting_path(mixed_index):
    rng = random.Random(2)
    weights = np.array([rng.choice([1.0, 2.0, 3.0, 7.0, 0.5]) for _ in range(300)])
    length_bytes_ = np.array([rng.randrange(256) for _ in range(300)], dtype=np.uint8)
    scorer = BM25("russia", "body", 2.3, 1.2, 0.75, 312.5, boost=0.6)
    assert scorer.scores(weights, length_bytes_).tolist() == [scorer.score(w, int(b)) for w, b in zip(weights, length_bytes_)]
    norm = FieldNorm("body", 1.0, 0.75, 312.5)
    fields = BM25F("russia", 2.3, 1.2, (norm,), boost=1.0, outer=0.8)
    frequencies = norm.frequency(weights, length_bytes_)
    assert fields.saturate(frequencies).tolist() == [fields.saturate(float(f)) for f in frequencies]
    assert all(f < fields.max_score for f in fields.saturate(frequencies))


def test_the_weighting_scores_as_whooshs_own_bm25_formula(mixed_index):
    """The scorers' arithmetic is Whoosh's BM25 (with Robertson's IDF), to 9 decimals."""
    from whoosh import scoring

    class Reference(scoring.BM25F):
        def idf(self, searcher, fieldname, text):
            parent = searcher.get_parent()
            return robertson_idf(parent.doc_frequency(fieldname, text), parent.doc_count_all())

    from whoosh.index import open_dir

    with open_index(mixed_index) as ix:
        whoosh_ix = open_dir(str(mixed_index / ix.generation))
        for text in ["title:Russia body:sanctions", "body:President OR title:ports OR body:Maui", "body:running", "tags:blog"]:
            q = ix.reader.read(text, ix.searcher.reader()).query
            with whoosh_ix.searcher(weighting=Reference()) as plain, whoosh_ix.searcher(weighting=Weighting(ix.ranking)) as ours:
                expected = [(h.docnum, round(h.score, 9)) for h in plain.search(q, limit=None)]
                got = [(h.docnum, round(h.score, 9)) for h in ours.search(q, limit=None)]
            assert got == expected and expected, text


def test_a_word_in_title_and_body_is_saturated_once_as_bm25f_defines(tmp_path):
    """A document with the word in both fields scores more than one with it in either, but
    less than the two summed (which is what Whoosh's per-field BM25F gives)."""
    for name, title, body in [("both", "Maui", "Maui fires."), ("title", "Maui", "Big fires."), ("body", "Fires", "Maui fires.")]:
        write_doc(tmp_path / "a", f"{name}.md", title=title, date="'2024-01-01'", body=body)
    write_doc(tmp_path / "a", "other.md", title="Other", date="'2024-01-01'", body="Nothing to see.")
    build_index(tmp_path / "a", tmp_path / "ix")
    with open_index(tmp_path / "ix") as ix:
        searcher = ix.searcher  # the library's own, weighted by this engine's scorers
        assert isinstance(searcher.weighting, Weighting)
        hits = searcher.search(FieldsTerm("maui", {"title": 1.0, "body": 1.0}), limit=None)
        score = {searcher.stored_fields(h.docnum)["path"]: h.score for h in hits}
        assert set(score) == {"both.md", "title.md", "body.md"}
        assert max(score["title.md"], score["body.md"]) < score["both.md"] < score["title.md"] + score["body.md"]
        k1, idf = 1.2, math.log(1 + (4 - 3 + 0.5) / (3 + 0.5))  # one IDF, from the 3 documents with the word anywhere
        assert all(s < idf * (k1 + 1) for s in score.values())


# --- Explain ---------------------------------------------------------------------------------

EXPLAINED = ["DPRK missile", "Russia sanctions Maui", "North Korea", '"Inflation Reduction Act" insulin', "insul*",
             "Russia -sanctions", "+Russia sanctions", "NOT Maui", "title:Maui OR date:2024", "Kishda~", "tags:blog ports"]


def _adds_up(explanation) -> bool:
    if explanation.adds and not math.isclose(sum(d.value for d in explanation.details), explanation.value, rel_tol=1e-9):
        return False
    return all(_adds_up(d) for d in explanation.details if d.adds)


@pytest.mark.parametrize("text", EXPLAINED)
def test_explain_says_how_each_score_was_made_and_its_parts_add_up(mixed_index, text):
    with open_index(mixed_index) as ix:
        results = ix.search(text, explain=True, limit=20)
        assert results.reading and results.results
        for hit in results.results:
            assert hit.explanation is not None
            assert round(hit.explanation.value, 4) == hit.score, (text, hit.path)
            assert _adds_up(hit.explanation), (text, hit.path, hit.explanation.lines())
        plain = ix.search(text, limit=20)
        assert [(h.path, h.score) for h in plain.results] == [(h.path, h.score) for h in results.results]
        assert all(h.explanation is None for h in plain.results) and plain.reading is None


def test_explain_names_the_parts_a_reader_looks_for(mixed_index):
    with open_index(mixed_index) as ix:
        hit = ix.search("North Korea missile", explain=True).results[0]
        text = "\n".join(hit.explanation.lines())
        assert "the all-words bonus" in text and "(BM25F)" in text and "title:" in text
        reading = "\n".join(ix.search("DPRK", explain=True).reading)
        # The alias's phrases are read beside the word typed (Whoosh flattens the ORs into one).
        assert "the words of the query" in reading and 'body:"north korea"' in reading and "dprk: one BM25F term" in reading


# --- The ranking configuration ---------------------------------------------------------------


def test_the_ranking_is_set_without_editing_source(small_index):
    changed = Ranking().changed(["title_bonus=0.4", "k1=1.0", "fuzzy_weights=1,0.4,0.2", "query_stop_words=said,says"])
    assert (changed.title_bonus, changed.k1, changed.fuzzy_weights) == (0.4, 1.0, (1.0, 0.4, 0.2))
    assert changed.query_stop_words == frozenset({"said", "says"})
    with pytest.raises(Exception, match="unknown ranking setting 'k3=1'"):
        Ranking().changed(["k3=1"])
    with open_index(small_index) as plain, open_index(small_index, ranking=changed) as other:
        a = [(h.path, h.score) for h in plain.search("Russia sanctions").results]
        b = [(h.path, h.score) for h in other.search("Russia sanctions").results]
        assert {p for p, _ in a} == {p for p, _ in b} and a != b  # the same matches, scored otherwise


def test_an_index_time_setting_is_recorded_and_a_mismatch_is_a_clear_error(small_archive, tmp_path):
    build_index(small_archive, tmp_path / "ix", ranking=Ranking(title_boost=1.5))
    with pytest.raises(RankingMismatch, match="built with title_boost=1.5, and this ranking asks for title_boost=2.0"):
        open_index(tmp_path / "ix")
    with open_index(tmp_path / "ix", ranking=Ranking(title_boost=1.5)) as ix:
        assert ix.meta["ranking"] == {"title_boost": 1.5}
        assert ix.search("Maui").total > 0


# --- Whoosh's codec internals ----------------------------------------------------------------


def test_the_whoosh_release_is_the_one_the_codec_internals_were_checked_against():
    """postings.py reads Whoosh's codec internals; pyproject.toml pins the range they were
    checked against. A newer Whoosh must be checked (and this test updated) before it is
    admitted."""
    assert version("whoosh-reloaded").startswith("2.7.")
    check_codec()


def test_a_changed_codec_fails_loudly(monkeypatch):
    from whoosh.codec import whoosh3

    monkeypatch.delattr(whoosh3.W3LeafMatcher, "_read_weights")
    with pytest.raises(CodecChanged, match="W3LeafMatcher._read_weights"):
        check_codec()


def test_decoded_postings_and_lengths_are_whooshs(mixed_index):
    with open_index(mixed_index) as ix:
        for sub, _ in ix.searcher.leaf_searchers():
            reader = sub.reader()
            for fieldname in ("title", "body"):
                lengths = length_bytes(reader, fieldname)
                for btext in list(reader.lexicon(fieldname))[:40]:
                    decoded = postings(reader, fieldname, btext)  # deleted documents are the caller's to drop
                    live = [(d, w) for d, w in zip(decoded.ids.tolist(), decoded.weights.tolist()) if not reader.is_deleted(d)]
                    matcher = reader.postings(fieldname, btext)
                    expected = []
                    while matcher.is_active():
                        expected.append((matcher.id(), matcher.weight()))
                        matcher.next()
                    assert live == expected
                    for docnum in decoded.ids.tolist()[:5]:
                        from whoosh.util.numeric import length_to_byte

                        assert lengths[docnum] == length_to_byte(reader.doc_field_length(docnum, fieldname))


def test_term_statistics_are_whooshs_looked_up_or_read_in_one_pass(mixed_index, monkeypatch):
    """Counted a term at a time, then (past LOOKUPS_BEFORE_TABLE) read for the whole field in
    one pass: the same figures as Whoosh's reader gives, for terms it has and terms it lacks."""
    from search import postings as postings_module

    monkeypatch.setattr(postings_module, "LOOKUPS_BEFORE_TABLE", 3)
    monkeypatch.setattr(postings_module, "_field_stats", {})
    with open_index(mixed_index) as ix:
        reader = ix.searcher.reader()
        for fieldname in ("title", "body", "tags"):
            terms = [t for t in reader.lexicon(fieldname)] + [b"zqnothing", b"russia"]
            for btext in terms:
                assert postings_module.frequency(reader, fieldname, btext) == reader.doc_frequency(fieldname, btext)
                assert postings_module.total_weight(reader, fieldname, btext) == reader.frequency(fieldname, btext)
        assert all(stats.complete for stats in postings_module._field_stats.values())


@pytest.mark.parametrize("text", QUERIES + ['"artificial spermatids"', '"Maui zqnothing" Russia', "Russia zqnothing", '"North Korea" Maui'])
def test_could_match_is_whooshs_estimate(mixed_index, text):
    """Which typed words count for the all-words bonus is decided from the kept statistics as
    Whoosh's estimate_size decides it (a phrase needs every word, an OR any clause)."""
    from search.plan import could_match

    with open_index(mixed_index) as ix:
        reader = ix.searcher.reader()
        parsed = ix.reader.read(text, reader)
        stack = [parsed.query]
        while stack:
            q = stack.pop()
            if not isinstance(q, query.Not):
                assert could_match(q, reader) == (q.estimate_size(reader) > 0), (text, q)
            stack.extend(q.children())
