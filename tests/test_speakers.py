"""Who said it: turns found at every label form, full names, `speaker:` search ranked by a
person's own words, quotes with their speaker, the facet, and the anchors.

The fast paths are checked against references: the speakers' word counts made in the one
indexing loop against the Whoosh analyzer run on each turn's words, and the executor's
speaker queries against Whoosh's own matchers (in test_scoring)."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter

import numpy as np
import pytest
from click.testing import CliRunner

from search import QueryError, build_index, open_index
from search.analysis import index_terms, text_analyzer
from search.cli import cli
from search.documents import parse_document
from search.plan import Spoken
from search.speakers import PRESIDENTS, REPORTER, office_holder, split_turns, word_spans
from search.spoken import said
from web import create_app

from .conftest import needs_archive, write_doc
from .test_scoring import executor_and_whoosh

BRIEFING = """James S. Brady Press Briefing Room

1:42 P.M. EDT

MS. JEAN-PIERRE: Good afternoon. I will turn it over to Admiral John Kirby, who will talk about Gaza.

MR. KIRBY: Thank you, Karine. On Gaza, we continue to press for a ceasefire and for aid to get in.

Q John, on Ukraine: will the aid pass the Congress?

MR. KIRBY: Ukraine needs the aid now. Congress must act.

Q: And on Gaza, is a ceasefire near?

MS. JEAN-PIERRE: I will leave that one to John.

SECRETARY MAYORKAS: The border is not open.

ADMIRAL KIRBY: Thanks.

SENIOR ADMINISTRATION OFFICIAL: On background, the talks go on.

THE PRESIDENT: We will see.
"""


def turns_of(body: str, title: str = "", date: str | None = "2024-01-10"):
    return [(t.label, t.speaker) for t in split_turns(body, title, date)]


def test_every_label_form_starts_a_turn_and_gets_its_speaker():
    title = ("Press Briefing by Press Secretary Karine Jean-Pierre, NSC Coordinator for Strategic Communications "
             "John Kirby, and Secretary of Homeland Security Alejandro Mayorkas")
    assert turns_of(BRIEFING, title) == [
        ("MS. JEAN-PIERRE", "Karine Jean-Pierre"),
        ("MR. KIRBY", "John Kirby"),
        ("Q", REPORTER),
        ("MR. KIRBY", "John Kirby"),
        ("Q", REPORTER),
        ("MS. JEAN-PIERRE", "Karine Jean-Pierre"),
        ("SECRETARY MAYORKAS", "Alejandro Mayorkas"),
        ("ADMIRAL KIRBY", "John Kirby"),
        ("SENIOR ADMINISTRATION OFFICIAL", "Senior Administration Official"),
        ("THE PRESIDENT", "Joe Biden"),
    ]


@pytest.mark.parametrize("label, date, speaker", [
    ("THE PRESIDENT", "2022-05-01", "Joe Biden"),
    ("THE PRESIDENT", "2019-05-01", "Donald Trump"),
    ("THE PRESIDENT", "1862-12-01", "Abraham Lincoln"),
    ("THE PRESIDENT", "2021-01-20", "Joe Biden"),  # the day he took office
    ("THE PRESIDENT", "2021-01-19", "Donald Trump"),
    ("THE PRESIDENT", None, "The President"),
    ("PRESIDENT BIDEN", "2023-03-01", "Joe Biden"),
    ("PRESIDENT OBAMA", "2023-03-01", "President Obama"),  # not the president of the day, and not named
    ("THE VICE PRESIDENT", "2023-03-01", "Kamala Harris"),
    ("VICE PRESIDENT HARRIS", "2023-03-01", "Kamala Harris"),
    ("THE FIRST LADY", "2023-03-01", "The First Lady"),
    ("MODERATOR", "2023-03-01", "Moderator"),
    ("DR. FAUCI", "2021-03-01", "Dr. Fauci"),  # no full name in the document: the label
    ("MRS. BIDEN", "2021-03-01", "Mrs. Biden"),
])
def test_the_office_on_the_date_and_labels_without_a_full_name(label, date, speaker):
    body = f"Opening.\n\n{label}: Hello there.\n\nQ Thank you.\n"
    assert turns_of(body, "Remarks", date)[0] == (label, speaker)


def test_full_names_come_from_the_title_or_the_opening_lines():
    body = ("Good morning. Joining us is Deputy National Security Advisor Daleep Singh, and from the Treasury "
            "Secretary Janet L. Yellen.\n\nMR. SINGH: Thanks.\n\nSECRETARY YELLEN: Hello.\n\nMS. DALTON: Hi.\n")
    assert turns_of(body, "On-the-Record Press Call") == [
        ("MR. SINGH", "Daleep Singh"), ("SECRETARY YELLEN", "Janet L. Yellen"), ("MS. DALTON", "Ms. Dalton")]
    assert turns_of("MR. KIRBY: One.\nQ Two.\n", "Gaggle by Admiral John\u00a0Kirby")[0] == ("MR. KIRBY", "John Kirby")


def test_a_misspelt_label_is_the_person_of_that_surname_and_an_honorific_is_kept():
    body = "MS. PSAKI: Hi.\n\nQ Hi.\n\nQMS. PSAKI: Next.\n\nTHE PRESIDENT: Thanks.\n\nMRS. BIDEN: Hello.\n"
    assert turns_of(body, "Press Briefing by Press Secretary Jen Psaki", "2021-05-24") == [
        ("MS. PSAKI", "Jen Psaki"), ("Q", REPORTER), ("QMS. PSAKI", "Jen Psaki"), ("THE PRESIDENT", "Joe Biden"),
        ("MRS. BIDEN", "Mrs. Biden")]
    assert turns_of("MS. JEAN-PIERRE: Hi.\nMR. MCDONOUGH: Hi.\n")[0:2] == [
        ("MS. JEAN-PIERRE", "Ms. Jean-Pierre"), ("MR. MCDONOUGH", "Mr. McDonough")]


def test_labels_with_non_breaking_spaces_and_markdown_escapes_are_read():
    raw = ("---\ntitle: Briefing by Jen Psaki\ndate: '2021-05-24'\n---\n\n"
           "MS.\u00a0PSAKI:\u00a0Hi, everyone.\n\nQ\u00a0\u00a0Hi.\n\nMS. PSAKI\\: Next.\n\n\\- not a label\n").encode()
    document = parse_document("b.md", raw)
    assert turns_of(document.body, document.title, document.date) == [
        ("MS. PSAKI", "Jen Psaki"), ("Q", REPORTER), ("MS. PSAKI", "Jen Psaki")]


def test_headings_addresses_and_lone_labels_are_not_turns():
    assert turns_of("NOMINATIONS SENT TO THE SENATE:\n\nJohn Doe, of Ohio.\n\nSUBJECT: Memo.\n") == []
    assert turns_of("TO THE CONGRESS OF THE UNITED STATES: I transmit.\n\nWHEREAS: it is.\n") == []
    assert turns_of("THE PRESIDENT: One label is a quote, not a transcript.\n") == []
    assert turns_of("WASHINGTON — A statement.\n\nFACT SHEET: Items.\n\nNOTE: none.\n") == []


def test_the_turns_token_positions_leave_the_bodys_terms_as_they_were():
    turns = split_turns(BRIEFING, "Briefing by Karine Jean-Pierre and John Kirby", "2024-01-10")
    spans, owners = word_spans(turns, len(BRIEFING))
    terms = index_terms(BRIEFING, spans)
    assert terms.positions == index_terms(BRIEFING).positions and terms.length == index_terms(BRIEFING).length
    assert "".join(BRIEFING[a:b] for a, b in spans) == BRIEFING  # the spans cover the text
    tokens = [t.text for t in text_analyzer()(BRIEFING, removestops=False)]
    for (first, after), owner in zip(terms.bounds, owners):
        if owner is not None:
            words = BRIEFING[turns[owner].words:turns[owner].end]
            assert tokens[first:after] == [t.text for t in text_analyzer()(words, removestops=False)]


def test_office_holder_takes_the_day_of_the_oath():
    assert office_holder(PRESIDENTS, "1789-04-30") == "George Washington"
    assert office_holder(PRESIDENTS, "1789-04-29") is None


@pytest.fixture(scope="module")
def briefings(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("briefings")
    root = tmp / "a"
    write_doc(root, "press-briefings/b1.md", tags="press-briefings", date="'2024-01-10'",
              title="'Press Briefing by Press Secretary Karine Jean-Pierre and NSC Coordinator John Kirby'", body=BRIEFING)
    write_doc(root, "press-briefings/b2.md", tags="press-briefings", date="'2024-02-10'",
              title="'Press Gaggle by Karine Jean-Pierre and John Kirby'",
              body="MS. JEAN-PIERRE: Hi.\n\nQ Gaza ceasefire talks in Cairo: any news? Gaza, Gaza.\n\n"
                   "MR. KIRBY: On Ukraine, I have nothing new today. Taiwan too.\n\nTHE PRESIDENT: We will see.\n")
    write_doc(root, "press-briefings/b3.md", tags="press-briefings", date="'2024-03-10'",
              title="'Press Gaggle by Karine Jean-Pierre'",
              body="MS. JEAN-PIERRE: Gaza, Gaza and the ceasefire: the President spoke about it.\n\nQ Thanks.\n")
    write_doc(root, "statements-releases/s.md", tags="statements-releases", date="'2024-03-01'",
              title="Statement on Gaza", body="A ceasefire in Gaza is needed, said Admiral Kirby.")
    build_index(root, tmp / "ix")
    return tmp / "ix"


def test_speaker_search_matches_only_the_words_that_person_spoke(briefings):
    with open_index(briefings) as ix:
        kirby = ix.search("speaker:Kirby Gaza ceasefire", facets=True)
        # b2 has Gaza and ceasefire only in a reporter's words; s.md names Kirby in its text
        assert [h.path for h in kirby.results] == ["press-briefings/b1.md"]
        hit = kirby.results[0]
        assert hit.speaker == hit.snippet.speaker == "John Kirby"
        assert "Gaza" in hit.snippet.text and "Karine" in hit.snippet.text and "ceasefire" in hit.snippet.text
        assert hit.snippet.turn == 1
        assert [h.path for h in ix.search('speaker:"John Kirby" Gaza ceasefire').results] == ["press-briefings/b1.md"]
        assert [h.path for h in ix.search("Gaza ceasefire", speakers=["Kirby"]).results] == ["press-briefings/b1.md"]
        # Without the speaker, the reporter's Gaza counts, and the snippet says it was a reporter's.
        plain = {h.path: h for h in ix.search("Gaza ceasefire talks").results}
        assert plain["press-briefings/b2.md"].speaker == REPORTER
        assert plain["statements-releases/s.md"].speaker is None
        # Ranked by their own words: Jean-Pierre says "Gaza" three times in b3, once in b1.
        jp = ix.search("speaker:Jean-Pierre Gaza")
        assert [h.path for h in jp.results] == ["press-briefings/b3.md", "press-briefings/b1.md"]


def test_a_speakers_counts_are_the_analyzers_on_their_turns_and_score_as_bm25(briefings):
    """The reference: each document's stored turns and text read back, the speaker's words
    analyzed with the Whoosh analyzer and counted, and BM25 worked out by hand."""
    with open_index(briefings) as ix:
        searcher = ix.searcher
        analyzer = text_analyzer()
        checked = 0
        for speaker in ("John Kirby", "Karine Jean-Pierre", "Joe Biden"):
            for word in ("gaza", "ceasefir", "aid", "ukrain", "see", "congress"):
                expected = {}
                for sub, offset in searcher.leaf_searchers():
                    for doc in range(sub.reader().doc_count_all()):
                        document = ix.document(sub.reader().stored_fields(doc)["path"])
                        theirs = [document.body[t.words:t.end] for t in document.turns if t.speaker == speaker]
                        tokens = [t.text for words in theirs for t in analyzer(words, removestops=False)]
                        stems = Counter(t.text for words in theirs for t in analyzer(words))
                        if stems[word]:
                            expected[offset + doc] = (stems[word], len(tokens))
                    docs, counts, lengths = said(sub.reader(), word.encode(), (speaker,))
                    found = {offset + int(d): (int(c), int(n)) for d, c, n in zip(docs, counts, lengths)}
                    assert found == {d: v for d, v in expected.items() if offset <= d < offset + sub.reader().doc_count_all()}
                    checked += len(found)
                plan, fast, in_order, whooshs = executor_and_whoosh(ix, f'speaker:"{speaker}" {word}')
                assert in_order == whooshs
                assert isinstance(plan, Spoken)
                assert sorted(int(d) for d in fast.docnums) == sorted(expected)
                for d, (tf, length) in expected.items():
                    k1, b, avg = ix.ranking.k1, ix.ranking.b("body"), searcher.avg_field_length("body")
                    by_hand = plan.scorer.idf * (k1 + 1) * tf / (tf + k1 * (1 - b + b * length / avg))
                    position = int(np.flatnonzero(fast.docnums == d)[0])
                    assert float(fast.scores[position]) == pytest.approx(by_hand, rel=1e-12)
        assert checked >= 8


def test_speaker_alone_lists_where_they_speak_most_and_names_are_checked(briefings):
    with open_index(briefings) as ix:
        alone = ix.search("speaker:Kirby")
        assert [h.path for h in alone.results] == ["press-briefings/b1.md", "press-briefings/b2.md"]
        assert all(h.speaker == "John Kirby" for h in alone.results)
        assert ix.search("speaker:Biden").total == 2  # THE PRESIDENT of 2024
        with pytest.raises(QueryError, match="no speaker in this index is named 'Kirbyy'; the closest: John Kirby"):
            ix.search("speaker:Kirbyy Gaza")
        assert ix.search("Gaza -speaker:Kirby").total == 2  # b3, s.md
        assert ix.search("speaker:Kirby AND Taiwan").total == 1


def test_a_question_of_what_someone_said_is_a_speaker_search(briefings):
    with open_index(briefings) as ix:
        asked = ix.search("what did Kirby say about Gaza?")
        assert [h.path for h in asked.results] == ["press-briefings/b1.md"]
        assert asked.results[0].speaker == "John Kirby"
        assert [h.path for h in ix.search("what did kirby say about the gaza ceasefire").results] == ["press-briefings/b1.md"]
        assert [h.path for h in ix.search("What has Admiral Kirby said about Gaza?").results] == ["press-briefings/b1.md"]
        # Not a question of what someone said, no such speaker, or an office: the words as words.
        assert ix.search("Kirby Gaza").total == 4
        assert ix.search("what did Smith say about Gaza?").total == 4
        assert ix.search("what did the president say about Kirby and Gaza?").total == 4


def test_the_speakers_facet_counts_the_matches_without_reporters(briefings):
    with open_index(briefings) as ix:
        results = ix.search("Gaza", facets=True)
        counts = {f.value: f.count for f in results.speakers}
        assert counts == {"Karine Jean-Pierre": 3, "John Kirby": 2, "Joe Biden": 2, "Secretary Mayorkas": 1,
                          "Senior Administration Official": 1}
        assert REPORTER not in counts


def test_the_cli_the_api_and_the_page_say_who_said_it(briefings):
    runner = CliRunner()
    out = runner.invoke(cli, ["query", "--index", str(briefings), "Gaza ceasefire", "--speaker", "Kirby"])
    assert out.exit_code == 0, out.output
    assert "John Kirby: … Thank you, Karine. On Gaza" in out.output
    bad = runner.invoke(cli, ["query", "--index", str(briefings), "Gaza", "--speaker", "Nobody"])
    assert bad.exit_code == 2 and "no speaker in this index is named 'Nobody'" in bad.output
    shown = json.loads(runner.invoke(cli, ["show", "--index", str(briefings), "press-briefings/b1.md", "--json"]).output)
    assert [(t["speaker"], t["label"]) for t in shown["turns"]][:3] == [
        ("Karine Jean-Pierre", "MS. JEAN-PIERRE"), ("John Kirby", "MR. KIRBY"), (REPORTER, "Q")]
    body = shown["body"]
    second = shown["turns"][1]
    assert body[second["start"]:second["words"]].startswith("MR. KIRBY:") and body[second["end"] - 3:second["end"]] == "in."

    client = create_app({"SEARCH_INDEX": str(briefings), "TESTING": True}).test_client()
    api = client.get("/api/search?q=Gaza+ceasefire&speaker=Kirby").get_json()
    assert [r["path"] for r in api["results"]] == ["press-briefings/b1.md"]
    assert api["results"][0]["speaker"] == "John Kirby" and api["results"][0]["snippet"]["turn"] == 1
    assert {f["value"] for f in api["speakers"]} >= {"John Kirby", "Karine Jean-Pierre"}
    assert client.get("/api/search?q=Gaza&speaker=Nobody").status_code == 400
    page = client.get("/?q=Gaza+ceasefire&speaker=Kirby").get_data(as_text=True)
    assert 'href="/doc/press-briefings/b1.md?q=Gaza+ceasefire#t1">John Kirby:</a>' in page
    assert "said by Kirby" in page and 'id="speaker-title"' in page
    doc = client.get("/doc/press-briefings/b1.md?q=Gaza").get_data(as_text=True)
    assert '<div class="turn" id="t1" data-speaker="John Kirby">' in doc
    assert '<a class="turn-link" href="#t1" title="Link to this turn">John Kirby</a> <span class="turn-label">(MR. KIRBY)</span>' in doc


def test_batch_rows_carry_the_speaker_of_each_snippet(briefings, tmp_path):
    queries = tmp_path / "q.tsv"
    queries.write_text("q1\tspeaker:Kirby Gaza ceasefire\nq2\tGaza ceasefire talks\n")
    out = CliRunner().invoke(cli, ["batch", str(queries), "--index", str(briefings), "--format", "csv"])
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [(r["qid"], r["path"], r["speaker"]) for r in rows if r["qid"] == "q1"] == [
        ("q1", "press-briefings/b1.md", "John Kirby")]
    assert {r["path"]: r["speaker"] for r in rows if r["qid"] == "q2"}["statements-releases/s.md"] == ""
    lines = CliRunner().invoke(cli, ["batch", str(queries), "--index", str(briefings), "--format", "jsonl"]).stdout
    assert json.loads(lines.splitlines()[0])["speaker"] == "John Kirby"


def test_stats_give_each_categorys_share_of_attributed_text(briefings):
    out = CliRunner().invoke(cli, ["stats", "--index", str(briefings), "--json"])
    assert out.exit_code == 0, out.output
    stats = json.loads(out.output)
    rows = {r["category"]: r for r in stats["coverage"]}
    assert rows["press-briefings"]["documents"] == 3 and rows["press-briefings"]["with_turns"] == 3
    assert rows["statements-releases"]["with_turns"] == 0 and rows["statements-releases"]["in_turns"] == 0
    assert rows["all"]["documents"] == 4
    assert dict(stats["speakers"])[REPORTER] == 4


@needs_archive()
def test_kirby_on_gaza_in_the_real_archive_is_in_his_own_turns(archive_index):
    """speaker:Kirby Gaza on the full archive: every hit of the first page has a turn of John
    Kirby's that says Gaza, read back from the stored turns and text."""
    with open_index(archive_index) as ix:
        results = ix.search("speaker:Kirby Gaza", limit=10)
        assert results.total >= 10
        for hit in results.results:
            document = ix.document(hit.path)
            his = [document.body[t.words:t.end] for t in document.turns if t.speaker == "John Kirby"]
            assert any("gaza" in words.lower() for words in his), hit.path
            assert hit.speaker == "John Kirby" and "gaza" in hit.snippet.text.lower()


def test_an_index_built_without_speakers_says_so(tmp_path):
    root = tmp_path / "a"
    write_doc(root, "b.md", title="'Briefing by John Kirby'", date="'2024-01-10'", body=BRIEFING)
    out = CliRunner().invoke(cli, ["index", "--archive", str(root), "--index", str(tmp_path / "ix"), "--no-speakers", "-q"])
    assert out.exit_code == 0, out.output
    with open_index(tmp_path / "ix") as ix:
        assert "speaker" not in ix.searcher.schema and ix.document("b.md").turns == []
        assert ix.search("Gaza ceasefire").results[0].speaker is None
        with pytest.raises(QueryError, match="this index has no speakers"):
            ix.search("speaker:Kirby Gaza")
