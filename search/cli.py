"""The `search` command: a thin layer over the library.

Results go to stdout; progress and messages to stderr. Errors the user can act on are one line
and exit 1; a query or an option that cannot be read exits 2.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from . import __version__, settings, terminal
from .errors import QueryError, SearchError

EXAMPLES = """
\b
Examples:
  search index                          # index seeds/ into index/
  search query "DPRK Russia"
  search index --archive ../shared/archive --index /tmp/wh-index
  search query --index /tmp/wh-index "NATO Indo-Pacific partners" --since 2024-01-01
  search trends Ukraine Gaza --by year   # matches per year, compared
  search serve                          # the search page on http://127.0.0.1:8000
"""


class _Group(click.Group):
    """Turns the library's errors into one-line messages and exit codes."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except QueryError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(2)
        except SearchError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            click.echo("Interrupted; the previous index is unchanged.", err=True)
            ctx.exit(130)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception:
            # Whoosh fails in many ways on a damaged file: if the index's files are not as
            # written, say so in one line; if they are, this is a bug, and the traceback stays.
            damage = _damage(ctx)
            if damage is None:
                raise
            click.echo(f"Error: {damage}", err=True)
            ctx.exit(1)


def _index_path(option: str | None):
    """The index folder a command reads, remembered for `_damage`."""
    path = settings.index_path(option)
    click.get_current_context().meta["search.index"] = path
    return path


def _damage(ctx) -> SearchError | None:
    from .storage import diagnose

    path = ctx.meta.get("search.index")
    return diagnose(path) if path is not None else None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXAMPLES)
@click.version_option(__version__, prog_name="search")
def cli():
    """Full-text search over archives of documents: press releases, briefings, speeches.

    Build an index from folders of Markdown documents with `search index`, then search it
    with `search query`, `search batch` or the web page of `search serve`. A search.toml
    beside the index (or --config) describes the archive: its title, collections and facets.
    """


_archive_option = click.option(
    "--archive", "archives", metavar="[NAME=]DIR", multiple=True,
    help=f"Folder of documents, as the collection NAME (default: the folder's name); repeat for several "
         f"[default: ${settings.ARCHIVE_ENV}, else search.toml's [archives], else seeds/]",
)
_config_option = click.option("--config", "config_file", metavar="FILE",
                              help=f"The archive's configuration [default: ${settings.CONFIG_ENV}, else search.toml beside the index]")
_index_option = click.option(
    "--index", "index_dir", metavar="DIR", envvar=settings.INDEX_ENV, show_envvar=True,
    help="Index folder [default: index/]",
)
_json_option = click.option("--json", "json_", is_flag=True, help="Print JSON instead of text.")


@cli.command("index")
@_archive_option
@_index_option
@_config_option
@click.option("--facet", "facets", metavar="KEY", multiple=True,
              help="Make this front-matter key a facet: filterable (KEY:value) and counted; repeat for several.")
@click.option("--update", is_flag=True, help="Only add new, re-index changed and remove deleted files.")
@click.option("--no-speakers", "no_speakers", is_flag=True,
              help="Do not split transcripts into speakers' turns (no speaker: search; a faster rebuild).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@_json_option
def index_command(archives, index_dir, config_file, facets, update, no_speakers, quiet, json_):
    """Rebuild the index from the archive (or update it with --update).

    The new index replaces the old one only when it is complete, so an interrupted run
    leaves the previous index searchable.
    """
    from .indexing import build_index, update_index
    from .serialize import to_dict

    index_path = settings.index_path(index_dir)
    config = _config(config_file, index_path)
    sources = settings.archive_sources(archives, config.archives)
    keys = list(facets) or list(config.facets) or (None if update else [])
    with terminal.progress(quiet) as progress:
        if update:
            report = update_index(sources, index_path, progress=progress, facets=keys)
        else:
            report = build_index(sources or settings.archive_path(), index_path, progress=progress,
                                 speakers=not no_speakers, facets=keys or ())
    if json_:
        click.echo(terminal.as_json(to_dict(report)))
    else:
        terminal.print_report(report)


@cli.command("query")
@click.argument("text")
@_index_option
@click.option("--limit", "-n", default=settings.DEFAULT_LIMIT, show_default=True, type=click.IntRange(1, settings.MAX_LIMIT), help="Results per page.")
@click.option("--page", default=1, show_default=True, type=click.IntRange(1), help="Page of results.")
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="Only documents with this tag (repeat for any of several).")
@click.option("--since", metavar="YYYY-MM-DD", help="Only documents dated on or after this day.")
@click.option("--until", metavar="YYYY-MM-DD", help="Only documents dated on or before this day.")
@click.option("--sort", type=click.Choice(["relevance", "newest", "oldest"]), default="relevance", show_default=True)
@click.option("--speaker", "speakers", multiple=True, metavar="NAME",
              help="Only the words this person spoke in transcripts (repeat for any of several).")
@click.option("--collection", "collections", multiple=True, metavar="NAME",
              help="Only documents of this collection (repeat for any of several).")
@click.option("--where", "where", multiple=True, metavar="KEY=VALUE",
              help="Only documents whose declared facet KEY has VALUE (repeat; values of one KEY: any of them).")
@click.option("--keep-duplicates", is_flag=True, help="List every copy of a document, not each group of copies once.")
@click.option("--explain", is_flag=True, help="Say how the query was read and how each score was made.")
@click.option("--exact", is_flag=True, help="Search the words as typed, even when they find nothing.")
@click.option("--facets", is_flag=True, help="Count the matches by category, year and speaker (with --json).")
@_json_option
def query_command(text, index_dir, limit, page, tags, since, until, sort, speakers, collections, where, keep_duplicates,
                  explain, exact, facets, json_):
    """Search the index.

    \b
    Words are matched in any form ("running" finds "run"); documents with all the words
    come first. Syntax: "exact phrase", AND, OR, NOT, -word, +word, (groups),
    title:word, body:word, tags:blog, speaker:Kirby, collection:NAME, path:a/b*,
    source_url:URL, KEY:value for a declared facet (president:"Abraham Lincoln"), word*,
    word~ (fuzzy), date:2024, date:2024-07, date:[2024-07-01 to 2024-07-31].
    """
    from .searching import open_index

    with open_index(_index_path(index_dir)) as ix:
        results = ix.search(text, tags=tags, since=since, until=until, sort=sort, page=page, limit=limit, explain=explain,
                            exact=exact, speakers=speakers, facets=facets, collections=collections,
                            filters=_pairs(where), keep_duplicates=keep_duplicates)
    if json_:
        from .serialize import to_dict

        click.echo(terminal.as_json(to_dict(results)))
    else:
        terminal.print_results(results)


def _pairs(texts: tuple[str, ...]) -> dict[str, list[str]]:
    """--where KEY=VALUE options as {KEY: [VALUE, ...]}."""
    found: dict[str, list[str]] = {}
    for text in texts:
        key, sep, value = text.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{text!r} is not KEY=VALUE", param_hint="--where")
        found.setdefault(key.strip(), []).append(value)
    return found


def _config(option: str | None, index):
    """The archive's configuration (search.toml), read once per command."""
    from .config import load_config

    path, required = settings.config_path(option, index)
    return load_config(path, required)


@cli.command("export")
@click.argument("folder", metavar="DIR")
@_index_option
@click.option("--format", "format_", type=click.Choice(["opensearch"]), default="opensearch", show_default=True)
@click.option("--name", default="archive", show_default=True, help="The index name the bulk files load into.")
def export_command(folder, index_dir, format_, name):
    """Write the index's documents as files OpenSearch or Elasticsearch load: an index
    definition (index.json) and bulk files (documents-0001.ndjson, ...). The README says how to
    load them, and when an archive has outgrown this engine."""
    from .export import export_opensearch
    from .searching import open_index
    from .sources import check_name

    with open_index(_index_path(index_dir)) as ix:
        report = export_opensearch(ix, Path(folder), check_name(name))
    click.echo(f"Exported {terminal.count(report.documents, 'document')} into {report.folder}: {report.definition} and "
               f"{terminal.count(len(report.files), 'bulk file')} ({', '.join(report.files)}).")


@cli.command("stats")
@_index_option
@click.option("--top", default=20, show_default=True, type=click.IntRange(1, 1000), help="Speakers to list.")
@_json_option
def stats_command(index_dir, top, json_):
    """Who speaks in the index's transcripts: by category, the share of documents with
    speakers' turns and of text inside them, and the speakers with the most turns."""
    from .searching import open_index
    from .stats import speaker_stats

    with open_index(_index_path(index_dir)) as ix:
        stats = speaker_stats(ix.searcher, top)
    if json_:
        from .serialize import to_dict

        click.echo(terminal.as_json(to_dict(stats)))
        return
    click.echo(f"{'category':22} {'documents':>9} {'with turns':>10} {'text in turns':>13} {'by name':>8}")
    for row in stats.coverage:
        named = row.named / row.characters if row.characters else 0.0
        click.echo(f"{terminal.printable(row.category)[:22]:22} {row.documents:>9,} {row.documents_share:>10.1%} "
                   f"{row.text_share:>13.1%} {named:>8.1%}")
    click.echo(f"\n{terminal.count(stats.turns, 'turn')}; the speakers with the most:")
    for name, turns in stats.speakers:
        click.echo(f"  {turns:>7,}  {terminal.printable(name)}")


@cli.command("show")
@click.argument("path")
@_index_option
@click.option("--cite", type=click.Choice(["chicago", "apa", "bibtex"]), is_flag=False, flag_value="chicago",
              help="Print a citation instead (Chicago when no style is named), accessed today.")
@_config_option
@_json_option
def show_command(path, index_dir, cite, config_file, json_):
    """Print one document, by its path in the archive, as it was indexed (or cite it:
    search show PATH --cite apa; the issuing office is search.toml's [site] office)."""
    from .searching import open_index

    with open_index(_index_path(index_dir)) as ix:
        document = ix.document(path)
    if cite:
        from .citations import cite as citation

        click.echo(terminal.shown(citation(document, cite, _config(config_file, _index_path(index_dir)).office)))
        return
    if json_:
        from .serialize import to_dict

        click.echo(terminal.as_json(to_dict(document)))
        return
    click.echo(click.style(terminal.shown(document.title), bold=True))
    click.echo(terminal.shown(" · ".join(filter(None, [document.date or "undated", ", ".join(document.tags)]))))
    if document.source_url:
        click.echo(terminal.shown(document.source_url))
    click.echo(f"path: {terminal.printable(document.path)}\n")
    click.echo(terminal.shown(document.body))


@cli.command("trends")
@click.argument("queries", nargs=-1, required=True)
@_index_option
@click.option("--by", type=click.Choice(["month", "year", "decade"]), help="Count by this period [default: months over five years or less, else years, else decades].")
@click.option("--per-thousand", "per_thousand", is_flag=True, help="Matches per 1,000 documents of each period, not counts.")
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="Only documents with this tag (repeat for any of several).")
@click.option("--since", metavar="YYYY-MM-DD", help="Only documents dated on or after this day.")
@click.option("--until", metavar="YYYY-MM-DD", help="Only documents dated on or before this day.")
@click.option("--speaker", "speakers", multiple=True, metavar="NAME", help="Only the words this person spoke.")
@click.option("--collection", "collections", multiple=True, metavar="NAME", help="Only documents of this collection (repeat for any of several).")
@click.option("--where", "where", multiple=True, metavar="KEY=VALUE", help="Only documents whose declared facet KEY has VALUE (repeat).")
@_json_option
def trends_command(queries, index_dir, by, per_thousand, tags, since, until, speakers, collections, where, json_):
    """How many documents each search finds per month, year or decade (up to four searches,
    compared on one axis; "" counts every document). The counts are what `search query`
    counts in each period."""
    from .searching import open_index

    with open_index(_index_path(index_dir)) as ix:
        trend = ix.trends(list(queries), tags=tags, since=since, until=until, speakers=speakers, by=by,
                          collections=collections, filters=_pairs(where))
    if json_:
        from .serialize import to_dict

        click.echo(terminal.as_json(to_dict(trend)))
    else:
        terminal.print_trend(trend, per_thousand, bars=sys.stdout.isatty())


@cli.command("batch")
@click.argument("queries", type=click.File("rb"))
@_index_option
@click.option("--limit", "-n", default=settings.DEFAULT_LIMIT, show_default=True, type=click.IntRange(1, settings.MAX_LIMIT), help="Results per query.")
@click.option("--format", "format_", type=click.Choice(["jsonl", "csv", "trec"]), default="jsonl", show_default=True)
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-", help="Write here instead of stdout.")
@click.option("--keep-duplicates", is_flag=True, help="A row for every copy of a document, not each group of copies once.")
def batch_command(queries, index_dir, limit, format_, output, keep_duplicates):
    """Run many queries, one per line (`id<TAB>query`, or plain text numbered from 1).

    Writes one row per hit: JSON lines and CSV with the fields of `search query --json`,
    or a TREC run (qid Q0 docid rank score tag). Blank lines and lines starting with #
    are skipped. Use - to read the queries from stdin.
    """
    from .batch import read_queries, run_batch

    def report_error(qid: str, exc: Exception) -> None:
        click.echo(terminal.printable(f"query {qid}: {exc}"), err=True)

    report = run_batch(
        _index_path(index_dir), read_queries(queries), output, limit=limit, format=format_,
        on_error=report_error, keep_duplicates=keep_duplicates,
    )
    click.echo(f"{report.queries} queries, {report.rows} rows, {report.failed} failed, {report.seconds:.2f} s", err=True)


@cli.command("serve")
@_index_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on; 0.0.0.0 for every interface.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--threads", default=settings.SERVE_THREADS, show_default=True, type=click.IntRange(1, 64), help="Threads in each process.")
@click.option("--processes", default=settings.serve_processes(), show_default=True, type=click.IntRange(1, 32), help="Server processes sharing the port (one core each).")
@click.option("--deadline", default=settings.SERVE_DEADLINE_SECONDS, show_default=True, type=click.FloatRange(0.1, 600), help="Seconds a search may take before it stops with a 503.")
@click.option("--connection-limit", default=settings.SERVE_CONNECTION_LIMIT, show_default=True, type=click.IntRange(1, 10_000), help="Connections each process serves at once; more wait.")
@click.option("--request-timeout", default=settings.SERVE_REQUEST_SECONDS, show_default=True, type=click.FloatRange(0.5, 3600), help="Seconds a connection may take to send a whole request.")
@click.option("--costly-slots", default=settings.SERVE_COSTLY_SLOTS, show_default=True, type=click.IntRange(1, 64), help="Costly searches each process runs at once; more are a 503.")
@_config_option
def serve_command(index_dir, host, port, threads, processes, deadline, connection_limit, request_timeout, costly_slots,
                  config_file):
    """Serve the search page (with waitress) until Ctrl-C.

    A worker process that dies is replaced; if they keep dying, the server stops with
    exit code 1.
    """
    from web.server import Limits, serve

    _config(config_file, settings.index_path(index_dir))  # a bad file is a one-line error now, not in the page
    if config_file:  # the server's processes read it as they start
        os.environ[settings.CONFIG_ENV] = os.path.abspath(config_file)

    limits = Limits(threads=threads, connection_limit=connection_limit, request_timeout=request_timeout,
                    deadline=deadline, costly_slots=costly_slots)
    serve(settings.index_path(index_dir), host=host, port=port, processes=processes, limits=limits)


def main() -> None:
    # NO_COLOR (no-color.org) and a dumb terminal turn colour and bold off, even on a terminal.
    plain = bool(os.environ.get("NO_COLOR")) or os.environ.get("TERM") == "dumb"
    cli(prog_name="search", color=False if plain else None)
