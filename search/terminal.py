"""How the command line's results look on a terminal: counts, results with their marked
words, reports, trends as bars; text made printable whatever a document holds (no control
character reaches the terminal). Colour and bold through Click, which drops them when the
output is not a terminal (or NO_COLOR is set)."""

from __future__ import annotations

import json
import re
import shlex
import sys
from typing import Any

import click


class progress:
    """A Click progress bar on stderr, shown only on a terminal and without --quiet."""

    def __init__(self, quiet: bool):
        self.enabled = not quiet and sys.stderr.isatty()
        self.bar: Any = None

    def __enter__(self):
        return self.update if self.enabled else None

    def update(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=total, label="Indexing", file=sys.stderr, show_pos=True)
            self.bar.__enter__()
        self.bar.update(done - self.bar.pos)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)


def print_report(report) -> None:
    if report.mode == "up to date":
        click.echo(f"The index at {report.index} is up to date ({count(report.documents, 'document')}).")
    elif report.mode == "update":
        click.echo(
            f"Updated {report.index}: {report.added:,} added, {report.updated:,} changed, "
            f"{report.removed:,} removed; {count(report.documents, 'document')} in {report.seconds:.1f} s."
        )
    else:
        click.echo(
            f"Indexed {count(report.documents, 'document')} from {report.archive} "
            f"into {report.index} in {report.seconds:.1f} s."
        )
    if len(report.collections) > 1:
        click.echo(f"Collections: {', '.join(report.collections)}.")
    if report.facets:
        click.echo(f"Facets: {', '.join(report.facets)}.")
    if report.duplicate_groups:
        click.echo(f"Copies: {count(report.duplicate_groups, 'group')} of documents with the same source URL or text "
                   f"({report.duplicate_documents:,} documents); results show each group once.")
    if report.note:
        click.echo(f"Note: {report.note}.")
    if report.skipped:
        click.echo(f"Skipped {count(len(report.skipped), 'file')}:")
        for problem in report.skipped:
            click.echo(f"  {printable(problem.path)}: {printable(problem.reason)}")
    if report.warnings:
        shown = report.warnings if len(report.warnings) <= 20 else report.warnings[:10]
        click.echo(f"{count(len(report.warnings), 'warning')}:")
        for problem in shown:
            click.echo(f"  {printable(problem.path)}: {printable(problem.reason)}")
        if len(shown) < len(report.warnings):
            click.echo(f"  ... and {len(report.warnings) - len(shown):,} more (--json lists them all)")


def count(n: int, noun: str, plural: str | None = None) -> str:
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def print_results(results) -> None:
    query, suggestion = printable(results.query), printable(results.suggestion or "")
    if results.corrected:
        click.echo(f'No results for "{query}". Showing results for "{suggestion}".')
        click.echo(f'Search instead for "{query}": search query --exact {shlex.quote(results.query)}')
    elif results.suggestion:
        click.echo(f"Did you mean: {suggestion}?")
    for hint in results.hints:
        click.echo(f"Note: {printable(hint)}")
    if not results.total:
        click.echo(f'No results for "{query}".')
        return
    if results.note:
        click.echo(printable(results.note))
    if results.reading:
        click.echo("Read as:")
        for line in results.reading:
            click.echo("  " + printable(line))
        click.echo()
    first = results.results[0].rank if results.results else 0
    last = results.results[-1].rank if results.results else 0
    shown = f"{first}-{last} of " if results.results else "none of "
    click.echo(f"{shown}{count(results.total, 'result')} ({results.seconds:.2f} s)")
    for hit in results.results:
        click.echo()
        click.echo(f"{hit.rank:>3}. " + click.style(printable(hit.title), bold=True))
        click.echo("     " + printable(" · ".join(filter(None, [hit.date or "undated", ", ".join(hit.tags)]))))
        if hit.source_url:
            click.echo("     " + printable(hit.source_url))
        who = click.style(printable(hit.snippet.speaker) + ": ", bold=True) if hit.snippet.speaker else ""
        click.echo("     " + who + marked(hit.snippet.text, hit.snippet.matches))
        click.echo("     " + click.style(f"path: {printable(hit.path)}", dim=True))
        if hit.copies:
            click.echo("     " + click.style(f"also filed as: {printable(', '.join(hit.copies))}", dim=True))
        if hit.explanation is not None:
            click.echo("     score:")
            for line in hit.explanation.lines():
                click.echo("       " + printable(line))
    if results.page < results.pages:
        click.echo(f"\nMore: --page {results.page + 1}")
    if results.folded:
        click.echo(f"\n{count(results.folded, 'copy', 'copies')} of matching documents folded into their groups "
                   "(--keep-duplicates lists them).")
    declared = [(key.replace("_", " ").capitalize(), counts) for key, counts in (results.facets or {}).items()]
    for name, counts in [("Categories", results.tags), ("Years", results.years), ("Speakers", results.speakers),
                         ("Collections", results.collections), *declared]:
        if counts:
            click.echo(f"\n{name}: " + ", ".join(f"{printable(c.value)} ({c.count:,})" for c in counts[:12]))


def print_trend(trend, per_thousand: bool, bars: bool) -> None:
    """A row per period, a column per search; on a terminal, a bar of block characters too."""
    names = [printable(series.query) or "(all)" for series in trend.series]
    values = [[p.per_thousand if per_thousand else p.count for p in series.points] for series in trend.series]
    top = max((v for column in values for v in column), default=0) or 1
    width = max(4, 40 // len(names)) if bars else 0
    cells = [max(len(name), 8) for name in names]
    click.echo(f"{trend.by:8} " + " ".join(f"{name:>{cell}}" + " " * (width + 1 if bars else 0) for name, cell in zip(names, cells)).rstrip())
    for row, label in enumerate(trend.labels):
        line = []
        for column, cell in zip(values, cells):
            value = column[row]
            text = f"{value:>{cell},.1f}" if per_thousand else f"{value:>{cell},}"
            line.append(text + (" " + bar(value, top, width) if bars else ""))
        click.echo(f"{label:8} " + " ".join(line).rstrip())
    for series, name in zip(trend.series, names):
        undated = f" ({series.undated:,} undated, not counted)" if series.undated else ""
        click.echo(f"{name}: {series.total:,} match{'' if series.total == 1 else 'es'}{undated}")


_EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(value: float, top: float, width: int) -> str:
    """`value` out of `top` as a bar `width` characters long at most, in eighths of a block."""
    eighths = round(8 * width * value / top) if top else 0
    full, part = divmod(eighths, 8)
    return ("█" * full + (_EIGHTHS[part] if part else "")).ljust(width)


def marked(text: str, matches: list[list[int]]) -> str:
    """The snippet with its matched words in bold colour (click.echo drops the codes when piped)."""
    out, last = [], 0
    for start, end in matches:
        out.append(printable(text[last:start]))
        out.append(click.style(printable(text[start:end]), fg="yellow", bold=True))
        last = end
    out.append(printable(text[last:]))
    return "".join(out)


# C0 and C1 controls, undecodable bytes of a file name (lone surrogates), and line separators.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029]")


def printable(text: str) -> str:
    """Text on one line, whatever characters it holds: control characters (ESC and BEL would
    drive the terminal: clear it, hide text, set its title) and undecodable bytes of a file
    name are shown as escapes."""
    return _UNPRINTABLE.sub(lambda m: repr(m[0])[1:-1], text)


def shown(text: str) -> str:
    """Text of several lines, each made printable: line breaks stay, nothing else that is not
    printable reaches the terminal."""
    return "\n".join(printable(line) for line in text.split("\n"))


def as_json(data: object) -> str:
    """Standard JSON: no NaN or Infinity, which strict parsers refuse."""
    return json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False)
