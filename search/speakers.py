"""Who said it: a transcript's turns, found at its speaker labels, and each speaker's full name.

A third of a briefing-room archive is transcripts (briefings, gaggles, calls, remarks), in which
each paragraph that starts a turn starts with a label: `MS. JEAN-PIERRE:`, `MR. KIRBY:`,
`SECRETARY MAYORKAS:`, `THE PRESIDENT:`, `SENIOR ADMINISTRATION OFFICIAL:`, and `Q` for a
reporter. A label holds a surname; the full name is looked for where the document gives it, in
its title or its opening paragraphs ("... and National Security Communications Adviser John
Kirby"), so that `MR. KIRBY` is "John Kirby". `THE PRESIDENT` and `THE VICE PRESIDENT` are the
holders of the office on the document's date. Reporters are "Reporter"; anonymised officials
and roles (`MODERATOR`) keep their label, in title case.

Text before a document's first label (a dateline, a room, a time) has no speaker, nor has a
document without labels: a statement's or a proclamation's words are the office's, and the
title already says whose.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from dataclasses import dataclass

REPORTER = "Reporter"

# A label: a line that starts with capitals and a colon, or with Q and spaces (or Q:).
_LABEL = re.compile(
    r"(?m)^(?:(?P<q>Q)(?::[ \u00a0\t]*|[ \u00a0\t]+)(?=\S)|(?P<label>[A-Z][A-Z0-9.'’\- \u00a0]{0,58}[A-Z0-9.]):[ \u00a0\t]+(?=\S))"
)
# Capitals followed by a colon that are headings or addresses, not people.
_NOT_A_SPEAKER = re.compile(
    r"SENT TO THE SENATE|^TO THE |^SUBJECT$|^NOTE$|^UPDATE$|^RE$|^FROM$|^ATTN$|^WHEREAS$|^SEC\.|^SECTION |^PART |"
    r"^TITLE |^FACT SHEET$|^WHAT |^WHO$|^WHEN$|^WHERE$|^WHY$|^HOW$|^Q\d|^A$|^DATE$|^TIME$|^LOCATION$|^AGENDA$"
)
_HONORIFICS = {"MR", "MS", "MRS", "MISS", "DR", "MX"}
# Words of an office or a rank that stand before a surname in a label or a text.
_TITLE_WORDS = {
    "ACTING", "ADMINISTRATOR", "ADMIRAL", "ADVISER", "ADVISOR", "AMBASSADOR", "ATTORNEY", "CAPTAIN", "CHAIR",
    "CHAIRMAN", "CHAIRWOMAN", "CHANCELLOR", "CHIEF", "COLONEL", "COMMISSIONER", "CONGRESSMAN", "CONGRESSWOMAN",
    "COUNCILMEMBER", "COUNCILMAN", "COUNCILWOMAN", "DEPUTY", "DIRECTOR", "EMIR", "FIRST", "GENERAL", "GOVERNOR",
    "JUDGE", "JUSTICE", "KING", "LADY", "LEADER", "LIEUTENANT", "MAJOR", "MAYOR", "MINISTER", "PRESIDENT",
    "PRIME", "PRINCE", "QUEEN", "REPRESENTATIVE", "SECRETARY", "SECRETARY-GENERAL", "SENATOR", "SERGEANT",
    "SHERIFF", "SPEAKER", "SUPERINTENDENT", "SURGEON", "TAOISEACH", "VICE", "HIS", "HER", "MAJESTY", "HIGHNESS",
    "EXCELLENCY", "PRESS", "NATIONAL", "SECURITY", "COMMUNICATIONS", "COORDINATOR", "SENIOR", "SPECIAL",
    "ASSISTANT", "DR.", "MR.", "MS.", "MRS.", "GOV.", "SEN.", "REP.", "SEC.", "AMB.", "ADM.", "GEN.", "LT.",
}
# Words of a department or an office, which stand between a title and a name ("Secretary of
# Energy Jennifer Granholm") and are never a given name.
_OFFICE_WORDS = {
    "AFFAIRS", "AGRICULTURE", "BUDGET", "CLIMATE", "COMMERCE", "COUNCIL", "DEFENSE", "DEVELOPMENT", "DOMESTIC",
    "ECONOMIC", "ADVISERS", "ADVISORS", "EDUCATION", "ENERGY", "HEALTH", "HOMELAND", "HOUSE", "HOUSING", "HUMAN",
    "INTERIOR", "LABOR", "MANAGEMENT", "OFFICE", "POLICY", "SERVICES", "STAFF", "STATE", "TRANSPORTATION",
    "TREASURY", "URBAN", "VETERANS", "WHITE", "JUSTICE", "RESPONSE", "TEAM", "AGENCY", "DEPARTMENT", "STATES",
    "UNITED", "AMERICA", "AMERICAN", "PROTECTION", "ENVIRONMENTAL", "SMALL", "BUSINESS", "ADMINISTRATION", "COVID-19",
}
# Presidents and vice presidents by the day they took office: THE PRESIDENT on a date is the
# one whose term holds it.
PRESIDENTS: list[tuple[str, str | None]] = [
    ("1789-04-30", "George Washington"), ("1797-03-04", "John Adams"), ("1801-03-04", "Thomas Jefferson"),
    ("1809-03-04", "James Madison"), ("1817-03-04", "James Monroe"), ("1825-03-04", "John Quincy Adams"),
    ("1829-03-04", "Andrew Jackson"), ("1837-03-04", "Martin Van Buren"), ("1841-03-04", "William Henry Harrison"),
    ("1841-04-04", "John Tyler"), ("1845-03-04", "James K. Polk"), ("1849-03-05", "Zachary Taylor"),
    ("1850-07-09", "Millard Fillmore"), ("1853-03-04", "Franklin Pierce"), ("1857-03-04", "James Buchanan"),
    ("1861-03-04", "Abraham Lincoln"), ("1865-04-15", "Andrew Johnson"), ("1869-03-04", "Ulysses S. Grant"),
    ("1877-03-04", "Rutherford B. Hayes"), ("1881-03-04", "James A. Garfield"), ("1881-09-19", "Chester A. Arthur"),
    ("1885-03-04", "Grover Cleveland"), ("1889-03-04", "Benjamin Harrison"), ("1893-03-04", "Grover Cleveland"),
    ("1897-03-04", "William McKinley"), ("1901-09-14", "Theodore Roosevelt"), ("1909-03-04", "William Howard Taft"),
    ("1913-03-04", "Woodrow Wilson"), ("1921-03-04", "Warren G. Harding"), ("1923-08-02", "Calvin Coolidge"),
    ("1929-03-04", "Herbert Hoover"), ("1933-03-04", "Franklin D. Roosevelt"), ("1945-04-12", "Harry S. Truman"),
    ("1953-01-20", "Dwight D. Eisenhower"), ("1961-01-20", "John F. Kennedy"), ("1963-11-22", "Lyndon B. Johnson"),
    ("1969-01-20", "Richard Nixon"), ("1974-08-09", "Gerald Ford"), ("1977-01-20", "Jimmy Carter"),
    ("1981-01-20", "Ronald Reagan"), ("1989-01-20", "George H. W. Bush"), ("1993-01-20", "Bill Clinton"),
    ("2001-01-20", "George W. Bush"), ("2009-01-20", "Barack Obama"), ("2017-01-20", "Donald Trump"),
    ("2021-01-20", "Joe Biden"), ("2025-01-20", "Donald Trump"),
]
VICE_PRESIDENTS: list[tuple[str, str | None]] = [
    ("1953-01-20", "Richard Nixon"), ("1961-01-20", "Lyndon B. Johnson"), ("1963-11-22", None),
    ("1965-01-20", "Hubert Humphrey"), ("1969-01-20", "Spiro Agnew"), ("1973-10-10", None),
    ("1973-12-06", "Gerald Ford"), ("1974-08-09", None), ("1974-12-19", "Nelson Rockefeller"),
    ("1977-01-20", "Walter Mondale"), ("1981-01-20", "George H. W. Bush"), ("1989-01-20", "Dan Quayle"),
    ("1993-01-20", "Al Gore"), ("2001-01-20", "Dick Cheney"), ("2009-01-20", "Joe Biden"),
    ("2017-01-20", "Mike Pence"), ("2021-01-20", "Kamala Harris"), ("2025-01-20", "JD Vance"),
]
# Where a full name is looked for, beyond the title: the opening of the text.
_OPENING_CHARS = 4000


@dataclass(frozen=True)
class Turn:
    """One speaker's turn: `start` and `end` are offsets in the document's cleaned text, the
    label included."""

    speaker: str  # "John Kirby", "Reporter", "Senior Administration Official"
    label: str  # as written: "MR. KIRBY", "Q"
    start: int
    end: int
    words: int = -1  # where the words after the label start (-1: at `start`)


def split_turns(text: str, title: str = "", date: str | None = None) -> list[Turn]:
    """The turns of a transcript, in order; [] for text with fewer than two labelled turns."""
    starts: list[tuple[int, str, int]] = []
    for m in _LABEL.finditer(text):
        if m.group("q"):
            starts.append((m.start(), "Q", m.end()))
            continue
        label = " ".join(m.group("label").replace("\u00a0", " ").split())
        if _is_speaker(label):
            starts.append((m.start(), label, m.end()))
    if len(starts) < 2:
        return []
    names = _Names(title, text[:_OPENING_CHARS], date)
    ends = [s for s, _, _ in starts[1:]] + [len(text)]
    turns = [Turn(names.speaker(label), label, start, _trimmed(text, start, end), words)
             for (start, label, words), end in zip(starts, ends)]
    # A label the document spells otherwise once (QMS. PSAKI beside MS. PSAKI) is the person
    # another label of the same surname named.
    named = {t.speaker.split()[-1].upper(): t.speaker for t in turns if found_by_name(t.speaker, t.label)}
    return [dataclasses.replace(t, speaker=named.get(t.label.split()[-1], t.speaker)) if _misspelt(t) else t for t in turns]


def found_by_name(speaker: str, label: str) -> bool:
    """Whether a turn's speaker is a person found by name: not a reporter, and not a label
    kept as written (a role, an anonymised official, a surname the document never spells out)."""
    return speaker != REPORTER and speaker != _title_case(label)


def _misspelt(turn: Turn) -> bool:
    """A label left as written whose first word is no honorific or title (QMS., M.)."""
    words = turn.label.split()
    return (not found_by_name(turn.speaker, turn.label) and len(words) > 1
            and words[0].rstrip(".") not in _HONORIFICS and words[0] not in _TITLE_WORDS and not turn.label.startswith("THE "))


def speaker_name(name: str) -> str:
    """A speaker's name as the index's `speaker` field keeps it: without the characters its
    fields split on."""
    return " ".join(name.replace(",", " ").replace("|", " ").split())


def folded(name: str) -> str:
    """A name as names are compared: lowercase, its words single-spaced."""
    return speaker_name(name).lower()


def names_match(name: str, words: list[str]) -> bool:
    """Whether a speaker's name has every one of the (lowercase) words, in any order:
    `kirby` and `john kirby` name John Kirby."""
    own = set(folded(name).split())
    return all(w in own for w in words)


def word_spans(turns: list[Turn], length: int) -> tuple[list[tuple[int, int]], list[int | None]]:
    """Spans covering the whole text, for `analysis.index_terms`, and the turn each is the
    words of (None for the text before a turn, and for the labels)."""
    spans: list[tuple[int, int]] = []
    owners: list[int | None] = []
    position = 0
    for n, turn in enumerate(turns):
        words = max(turn.words, turn.start)
        if words > position:
            spans.append((position, words))  # the text before, and the label
            owners.append(None)
        spans.append((words, turn.end))
        owners.append(n)
        position = turn.end
    if position < length:
        spans.append((position, length))
        owners.append(None)
    return spans, owners


def stored(turns: list[Turn], positions: list[tuple[int, int]]) -> list[tuple[str, str, int, int, int, int, int]]:
    """Turns as the index stores them: (speaker, label, start, start of the words, end, and
    the token positions of the words: first, and after the last), as `StoredTurn` reads them."""
    return [(t.speaker, t.label, t.start, max(t.words, t.start), t.end, first, after)
            for t, (first, after) in zip(turns, positions)]


def turn_at(turns: list, offset: int, starts: list[int] | None = None) -> int | None:
    """The index of the stored turn that holds `offset` (in its label or its words), or None;
    `starts`, the turns' starts, when the caller looks up many offsets."""
    index = bisect.bisect_right(starts if starts is not None else [t[2] for t in turns], offset) - 1
    return index if index >= 0 and offset < turns[index][4] else None


def office_holder(table: list[tuple[str, str | None]], date: str | None) -> str | None:
    """Who held the office on `date` (YYYY-MM-DD), by the table of when each took it."""
    if not date:
        return None
    index = bisect.bisect_right([day for day, _ in table], date[:10]) - 1
    return table[index][1] if index >= 0 else None


def _is_speaker(label: str) -> bool:
    words = label.split()
    return 0 < len(words) <= 6 and not _NOT_A_SPEAKER.search(label) and any(len(w.strip(".")) > 1 for w in words)


def _trimmed(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


class _Names:
    """The full names of one document's speakers, found once per label."""

    def __init__(self, title: str, opening: str, date: str | None):
        self.sources = (title, opening)
        self.date = date
        self.known: dict[str, str] = {}

    def speaker(self, label: str) -> str:
        if label == "Q":
            return REPORTER
        if label not in self.known:
            self.known[label] = self._resolve(label)
        return self.known[label]

    def _resolve(self, label: str) -> str:
        if label in ("THE PRESIDENT", "PRESIDENT"):
            return office_holder(PRESIDENTS, self.date) or "The President"
        if label == "THE VICE PRESIDENT":
            return office_holder(VICE_PRESIDENTS, self.date) or "The Vice President"
        words = label.replace("’", "'").split()
        first = words[0].rstrip(".")
        if label.startswith("THE ") or (first not in _HONORIFICS and words[0] not in _TITLE_WORDS):
            return _title_case(label)  # a role or an anonymised official: SENIOR ADMINISTRATION OFFICIAL
        name = [w for w in words if w not in _TITLE_WORDS and w.rstrip(".") not in _HONORIFICS]
        if not name:
            return _title_case(label)
        surname = " ".join(name)
        for table, office in ((PRESIDENTS, "PRESIDENT"), (VICE_PRESIDENTS, "VICE PRESIDENT")):
            holder = office_holder(table, self.date)
            if holder and office in label and holder.upper().endswith(" " + surname):
                return holder
        return self._full_name(surname) or _title_case(label)

    def _full_name(self, surname: str) -> str | None:
        """`Karine Jean-Pierre` for JEAN-PIERRE: the capitalised words just before the surname,
        past any title, where the title or the opening names the person."""
        pattern = re.compile(
            r"((?:[A-Z][\w'’.\-]*\s+){1,3})(" + r"\s+".join(re.escape(w) for w in surname.split()) + r")\b",
            re.IGNORECASE,
        )
        stop = _TITLE_WORDS | {"AND", "BY", "WITH", "OF", "THE", "FOR", "TO", "ON", "AT", "IN", "FROM"}
        for source in self.sources:
            for m in pattern.finditer(source.replace("\u00a0", " ")):
                if not m.group(2)[0].isupper():
                    continue
                given: list[str] = []
                for word in reversed(m.group(1).split()):  # the capitalised words just before it
                    upper = word.upper().rstrip(",")
                    if (not word[0].isupper() or upper in stop or upper.rstrip(".") in _HONORIFICS or upper in _OFFICE_WORDS
                            or len(given) == 2 or (word.isupper() and len(word) > 2 and "." not in word)):
                        break
                    given.insert(0, word)
                if given and not given[-1].endswith(","):
                    return " ".join(given + [m.group(2)])
        return None


def _title_case(label: str) -> str:
    """MS. JEAN-PIERRE as Ms. Jean-Pierre, MCDONOUGH as McDonough."""
    def word(w: str) -> str:
        w = "-".join(part[:1] + part[1:].lower() for part in w.split("-"))
        return "Mc" + w[2:3].upper() + w[3:] if w.startswith("Mc") and len(w) > 3 else w
    return " ".join(word(w) for w in label.split())
