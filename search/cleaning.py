"""Cleaning the archive's Pandoc Markdown into plain text: linear in the text's length,
whatever its markup (a million `*`, `[`, `<!--`), and with no control character left."""

from __future__ import annotations

import html
import re
from bisect import bisect_left

# Spaces that Pandoc and the site put between words; all become plain spaces.
_ODD_SPACES = ("\u00a0", "\u202f", "\u2007", "\u2009", "\t")
# Invisible characters the site puts inside words ("COVID-\u206019"): removed.
_INVISIBLE = ("\u2060", "\u200b", "\u00ad", "\ufeff")
# A backslash before ASCII punctuation is a Pandoc escape. While the markup is removed, each
# escaped character stands in as a private-use character, so it is never read as markup.
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_PROTECT_BASE = 0xF0000
_UNPROTECT = re.compile("[\U000F0021-\U000F007E]")
_BREAK = "\u2028"  # a line break the author meant, kept inside a paragraph

_BLOCK_TAGS = "table|thead|tbody|tfoot|tr|p|div|figure|figcaption|blockquote|ul|ol|li|h[1-6]|hr"
_CELL_TAGS = "td|th|colgroup|col"
_INLINE_TAGS = "span|u|s|sup|sub|strong|em|b|i|a|small|mark|abbr|cite|code|del|ins"
_BLOCK_TAG = re.compile(rf"</?(?:{_BLOCK_TAGS})\b[^<>]*>", re.IGNORECASE)
_CELL_TAG = re.compile(rf"</?(?:{_CELL_TAGS})\b[^<>]*>", re.IGNORECASE)
_INLINE_TAG = re.compile(rf"</?(?:{_INLINE_TAGS})\b[^<>]*>", re.IGNORECASE)
_BR_TAG = re.compile(r"<br\b[^<>]*>", re.IGNORECASE)
_IMG_TAG = re.compile(r"<img\b[^<>]*>", re.IGNORECASE)
_IMG_ALT = re.compile(r"""\balt\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
# No bracket, brace or parenthesis inside the text or the target of a link: besides being
# Pandoc's own output, this keeps each match attempt short, so a file of a million "[" or "!["
# takes linear time, not quadratic.
_MD_IMAGE = re.compile(r"!\[([^\[\]\n]*)\]\([^()\n]*\)")
_MD_LINK = re.compile(r"\[([^\[\]]*)\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+\"[^\"\[\]]*\")?\)")
_MD_SPAN = re.compile(r"\[([^\[\]]*)\]\{[^{}\n]*\}")
# Regular expressions that begin with a literal character are the fast ones here.
_HARD_BREAK = re.compile(r"(?<=  )\n")
_HEADING = re.compile(r"(?m)^ {0,3}#{1,6}(?:[ ]+(.*))?$")  # trailing spaces are stripped after
# A decimal character reference too long for html.unescape, whose int() refuses more than
# 4,300 digits; with over 7 digits it is beyond Unicode anyway.
_LONG_DECIMAL_REF = re.compile(r"&#([0-9]{8,});?")
_BLANK_LINES = re.compile(r"\n[ ]*\n(?:[ ]*\n)*")
_LIST_ITEM = re.compile(r"\n(?=[ ]*(?:[-*+]|\d{1,3}(?:[.)]|\U000F002E))[ ])")


def clean_inline(text: str) -> str:
    """Clean a one-line value such as a title: plain spaces, no escapes, no runs of spaces."""
    text = _ESCAPE.sub(r"\1", _plain_spaces(text))
    return " ".join(text.split())


# Control characters other than tab and line feed (a stray \x01, a form feed, a lone CR):
# spaces, so that they neither glue words together nor reach a page or a terminal.
TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _plain_spaces(text: str) -> str:
    if TEXT_CONTROL.search(text):
        text = TEXT_CONTROL.sub(" ", text.replace("\r\n", "\n"))
    for space in _ODD_SPACES:
        if space in text:
            text = text.replace(space, " ")
    for invisible in _INVISIBLE:
        if invisible in text:
            text = text.replace(invisible, "")
    return text


def clean_body(text: str) -> str:
    """Plain text from the archive's Pandoc Markdown.

    Escapes become their characters, non-breaking spaces plain spaces, formatting markup is
    removed, hard-wrapped lines are joined, and paragraphs stay apart (one blank line). Line
    breaks the author meant (two trailing spaces, a trailing backslash, <br>, list items,
    headings) stay as single newlines inside a paragraph. Tags that are not formatting,
    such as <script>, stay as text: the page that shows it escapes it.
    """
    text = _plain_spaces(text)
    text = _HARD_BREAK.sub(_BREAK, text.replace("\\\n", _BREAK))
    text = _ESCAPE.sub(lambda m: chr(_PROTECT_BASE + ord(m[1])), text)
    if "<" in text:
        text = _without_comments(text)
        text = _BR_TAG.sub(_BREAK, text)
        text = _IMG_TAG.sub(_img_alt, text)
        text = _BLOCK_TAG.sub("\n\n", text)
        text = _CELL_TAG.sub(" ", text)
        text = _INLINE_TAG.sub("", text)
    if "[" in text:
        text = _MD_IMAGE.sub(r"\1", text)
        text = _MD_LINK.sub(r"\1", text)
        text = _MD_SPAN.sub(r"\1", text)
    if "#" in text:
        text = _HEADING.sub(lambda m: _BREAK + (m[1] or "").rstrip(" ") + _BREAK, text)
    paragraphs = []
    for paragraph in _BLANK_LINES.split(text):
        paragraph = _LIST_ITEM.sub(_BREAK, paragraph).replace("\n", " ")
        lines = []
        for line in paragraph.split(_BREAK):
            line = " ".join(line.split())
            if line[:2] in ("* ", "+ "):
                line = "- " + line[2:]
            if line:
                lines.append(line)
        if lines:
            paragraphs.append("\n".join(lines))
    text = "\n\n".join(paragraphs)
    if "*" in text:
        text = "\n".join(_without_emphasis(line) if line.count("*") > 1 else line for line in text.split("\n"))
    if "&" in text:
        text = html.unescape(_LONG_DECIMAL_REF.sub(_decimal_ref, text))
        if TEXT_CONTROL.search(text):  # `&#27;`, `&#13;`: a character reference is no way round
            text = TEXT_CONTROL.sub(" ", text)
    return _UNPROTECT.sub(lambda m: chr(ord(m[0]) - _PROTECT_BASE), text)


def _img_alt(match: re.Match) -> str:
    alt = _IMG_ALT.search(match[0])
    return (alt[1] or alt[2] or "") if alt else ""


def _without_comments(text: str) -> str:
    """Text without its <!-- HTML comments -->. A loop of finds, where the regular expression
    `<!--.*?-->` would scan to the end of the text again for every unclosed `<!--`."""
    pieces, done = [], 0
    while (start := text.find("<!--", done)) != -1 and (end := text.find("-->", start + 4)) != -1:
        pieces.append(text[done:start])
        done = end + 3
    pieces.append(text[done:])
    return "".join(pieces)


def _without_emphasis(line: str) -> str:
    r"""One line with *emphasis*, **strong** and ***both*** unwrapped.

    It gives what `re.sub(r"(\*{1,3})(?=\S)(.+?)(?<=\S)\1", r"\2", line)` gives, in
    O(n log n) time: that expression rescans the rest of the line for every star without a
    closing one, which makes a line of a million stars take hours.
    """
    stars = [i for i, c in enumerate(line) if c == "*"]
    # Where a closing run of n stars may start: after a character that is not a space.
    closers = {n: [i for i in stars if line.startswith("*" * n, i) and i and not line[i - 1].isspace()] for n in (1, 2, 3)}
    pieces, done = [], 0
    for start in stars:
        if start < done:
            continue
        for n in (3, 2, 1):  # as many stars as the opening run has, then fewer
            inner = start + n
            if not line.startswith("*" * n, start) or inner >= len(line) or line[inner].isspace():
                continue
            ends = closers[n]
            k = bisect_left(ends, inner + 1)  # the emphasised text is one character or more
            if k < len(ends):
                pieces += [line[done:start], line[inner : ends[k]]]
                done = ends[k] + n
                break
    pieces.append(line[done:])
    return "".join(pieces)


def _decimal_ref(match: re.Match) -> str:
    digits = match[1].lstrip("0") or "0"
    return "\ufffd" if len(digits) > 7 else f"&#{digits};"
