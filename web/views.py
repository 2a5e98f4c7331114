"""The routes: each reads its parameters, calls one `SearchIndex` method and renders the result.

    GET /?q=&tag=&since=&until=&sort=&page=   the search page, with its trend chart (without q:
                                              the documents within the filters, newest first;
                                              with no filter either, the archive's overview)
    GET /doc/<path>?q=                        one document, the query's words marked
    GET /api/search?...                       the search as JSON (the same parameters)
    GET /api/doc/<path>                       a document and the ones most like it, as JSON
    GET /api/overview                         what the archive holds, as JSON
    GET /trends?q=&q=&per=1000&by=            up to four searches' matches over time, on one chart
    GET /api/trends?...                       the same, as JSON
    GET /export?q=&format=csv|jsonl           every match (at most EXPORT_CAP) as rows of `search batch`

JSON answers share one envelope: `{"ok": true, ...}`, or `{"ok": false, "error": "..."}` with
status 400 (bad parameters), 404 (unknown document) or 503 (no usable index).
"""

from __future__ import annotations

import re
from dataclasses import replace

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    make_response,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from werkzeug.exceptions import HTTPException

from search import (
    DocumentNotFound,
    IndexDamaged,
    IndexIncompatible,
    IndexNotFound,
    QueryError,
    QueryTimeout,
    SearchError,
    SearchIndex,
    ServerBusy,
    to_dict,
)
from search import download as exporting
from search.archive import path_problem
from search.citations import citations
from search.describe import Site, readable
from search.searching import SORTS
from search.settings import MAX_QUERY_CHARS
from search.trends import BY, MAX_QUERIES

from . import charts, feeds, formatting
from .params import MAX_API_LIMIT, Params, text_param

bp = Blueprint("web", __name__)

SORT_LABELS = {"relevance": "Relevance", "newest": "Newest first", "oldest": "Oldest first"}

bp.add_app_template_filter(formatting.long_date, "long_date")
bp.add_app_template_filter(formatting.pieces, "pieces")
bp.add_app_template_filter(formatting.web_url, "web_url")
bp.add_app_template_filter(formatting.host, "host")


def _index() -> SearchIndex:
    return current_app.extensions["search"].get()


def _searched() -> tuple[SearchIndex, Params]:
    """The index and this request's search parameters (its declared facets filter as ?KEY=value)."""
    ix = _index()
    return ix, Params.read(request.args, ix.facet_keys)


def _site(ix: SearchIndex | None) -> Site:
    return current_app.extensions["search.sites"].get(ix)


@bp.app_context_processor
def site_words() -> dict:
    """Every page names the site and its archive as the configuration and the index say; an
    error page without a usable index, as the configuration alone does."""
    try:
        return {"site": _site(_index())}
    except Exception:  # noqa: BLE001 - the error page of a damaged index must still render, with the configuration's words
        return {"site": _site(None)}


@bp.app_template_filter("category")
def category_name(slug: str) -> str:
    """A category's name for people: the configuration's, else by the general rule."""
    return current_app.extensions["search.sites"].config.categories.get(slug) or readable(slug)


@bp.app_template_filter("collection_name")
def collection_name(name: str) -> str:
    return current_app.extensions["search.sites"].config.collections.get(name) or readable(name)


# --- Pages -----------------------------------------------------------------------------------


@bp.get("/")
def search():
    ix, params = _searched()
    if not params.q and not params.filtered:
        overview, whole = ix.overview(), ix.trends([""])  # the archive by month, year or decade
        years = ix.trends([""], by="decade" if whole.by == "decade" else "year").series[0].points
        chart = charts.chart(whole, lambda _, point: params.bar_url(point.since, point.until))
        return render_template("home.html", params=params, overview=overview, years=years, chart=chart,
                               chart_caption="Documents over time")
    asked = params.page
    try:
        if params.problem:
            raise QueryError(params.problem)
        results = params.search(ix)
        if results.page > results.pages:  # past the end: show the last page
            params = replace(params, page=results.pages)
            results = params.search(ix)
    except QueryError as exc:
        return render_template("results.html", params=params, results=None, error=str(exc)), 400
    shown_query = results.suggestion if results.corrected and results.suggestion else params.q
    chart = charts.chart(results.timeline, lambda _, point: params.bar_url(point.since, point.until)) \
        if results.timeline is not None else None
    return render_template(
        "results.html", params=params, results=results, error=None, asked_page=asked, shown_query=shown_query,
        sorts=[(s, SORT_LABELS.get(s, s)) for s in SORTS] if not params.browsing else [], chart=chart,
        export_cap=exporting.EXPORT_CAP,
        chart_caption=("Matches" if params.q else "Documents") + " by " + (chart.by if chart else "month"),
    )


@bp.get("/feed")
def feed():
    """An Atom feed of the search's newest matches (`feeds.py`), for a feed reader to follow."""
    ix, params = _searched()
    problem = params.problem or ("" if params.q else "a feed follows a search: give its words, as in /feed?q=Ukraine")
    if not problem:
        params = replace(params, sort="newest", page=1, limit=feeds.FEED_ENTRIES)
        try:
            results = params.search(ix)
        except QueryError as exc:
            problem = str(exc)
    if problem:
        return Response(f"Error: {problem}\n", status=400, mimetype="text/plain")
    site = _site(ix).title
    body = feeds.atom_feed(
        results, title=f"“{params.q}” · {site}", feed_url=request.url,
        page_url=url_for("web.search", _external=True, **params.args(page=1)),
        document_url=lambda path: url_for("web.document", path=path, _external=True), site=site, category=category_name,
    )
    return Response(body, mimetype="application/atom+xml")


@bp.get("/doc/<path:path>")
def document(path: str):
    _check_path(path)
    ix = _index()
    doc = ix.document(path)
    similar = ix.similar(path, limit=5)
    q = text_param(request.args.get("q"))
    if len(q) > MAX_QUERY_CHARS:  # a query the search page would refuse marks nothing
        q = ""
    body_marks = ix.mark(doc.body, q) if q else []
    return render_template(
        "document.html", doc=doc, similar=similar, q=q, params=Params(q=q), marks=len(body_marks), cite=citations(doc, current_app.extensions["search.sites"].config.office),
        title=formatting.pieces(doc.title, ix.mark(doc.title, q) if q else []),
        sections=formatting.sections(doc.body, body_marks, doc.turns),
    )


@bp.get("/trends")
def trends():
    """Up to four searches' matches over time on one chart, as counts or per 1,000 documents."""
    ix, params = _searched()
    queries, by, per = [], None, False
    try:
        queries, by, per = _trend_args(request.args)
        trend = ix.trends(queries, tags=params.tags, since=params.since or None, until=params.until or None,
                          speakers=params.speakers, collections=params.collections, filters=params.facets,
                          by=by) if queries else None
    except QueryError as exc:
        return render_template("trends.html", params=params, queries=queries, by=by, per=per, chart=None, error=str(exc),
                               periods=BY), 400
    chart = charts.chart(trend, lambda n, point: replace(params, q=queries[n]).bar_url(point.since, point.until),
                         per_thousand=per) if trend is not None else None
    return render_template("trends.html", params=params, queries=queries, by=by, per=per, chart=chart, error=None,
                           periods=BY, chart_caption="Matches by " + (chart.by if chart else "month"))


@bp.get("/export")
def export():
    """Every match of a search (at most EXPORT_CAP) as CSV or JSON lines: `search/download.py`.
    The headers say how many there are and whether the export stops short."""
    ix, params = _searched()
    format_ = text_param(request.args.get("format")) or "csv"
    try:
        if params.problem:
            raise QueryError(params.problem)
        if format_ not in exporting.FORMATS:
            raise QueryError(f"format must be one of: {', '.join(exporting.FORMATS)}, not {format_[:30]!r}")
        if not params.q and not params.filtered:
            raise QueryError("an export needs a search, or a category or dates: /export?q=Ukraine&format=csv")
        found = exporting.export(ix, params.q, tags=params.tags, since=params.since or None,
                                 until=params.until or None, speakers=params.speakers, sort=params.sort,
                                 collections=params.collections, filters=params.facets)
    except QueryError as exc:
        return Response(f"Error: {exc}\n", status=400, mimetype="text/plain")
    headers = {
        "Content-Disposition": f'attachment; filename="search-export.{format_}"',
        "X-Export-Total": str(found.total), "X-Export-Rows": str(found.rows),
        "X-Export-Truncated": "true" if found.truncated else "false", "X-Export-Cap": str(exporting.EXPORT_CAP),
    }
    mimetype = "text/csv" if format_ == "csv" else "application/x-ndjson"
    return Response(stream_with_context(exporting.rows(found, format_)), mimetype=mimetype, headers=headers)


def _trend_args(args) -> tuple[list[str], str | None, bool]:
    """The searches of a trend (blank ones left out), its period and per=1000; QueryError for
    more than four searches, or a value that is not one."""
    queries = [q for q in (text_param(v) for v in args.getlist("q")) if q]
    if len(queries) > MAX_QUERIES:
        raise QueryError(f"a chart compares at most {MAX_QUERIES} searches, not {len(queries)}")
    if any(len(q) > MAX_QUERY_CHARS for q in queries):
        raise QueryError(f"a query is too long (the limit is {MAX_QUERY_CHARS:,} characters)")
    by = text_param(args.get("by")) or None
    if by is not None and by not in BY:
        raise QueryError(f"by must be one of: {', '.join(BY)}, not {by[:30]!r}")
    per = text_param(args.get("per"))
    if per not in ("", "1000"):
        raise QueryError(f"per must be 1000 (matches per 1,000 documents of each period), not {per[:30]!r}")
    return queries, by, per == "1000"


# --- JSON ------------------------------------------------------------------------------------


@bp.get("/api/search")
def api_search():
    ix, params = _searched()
    limit = text_param(request.args.get("limit"))
    if limit and not params.problem:
        if not re.fullmatch(r"[0-9]{1,3}", limit) or not 1 <= int(limit) <= MAX_API_LIMIT:
            params.problem = f"limit must be a whole number from 1 to {MAX_API_LIMIT}, not {limit[:30]!r}"
        else:
            params.limit = int(limit)
    if params.problem:
        return _json_error(400, params.problem)
    results = params.search(ix)
    if results.page > results.pages:
        return _json_error(400, f"page {params.page} is beyond the last page ({results.pages})")
    return jsonify({"ok": True, **to_dict(results)})


@bp.get("/api/doc/<path:path>")
def api_document(path: str):
    _check_path(path)
    ix = _index()
    return jsonify({"ok": True, "document": to_dict(ix.document(path)), "similar": to_dict(ix.similar(path, limit=5))})


@bp.get("/api/overview")
def api_overview():
    ix = _index()
    site = _site(ix)
    return jsonify({"ok": True, **to_dict(ix.overview()),
                    "site": {"title": site.title, "description": site.description, "examples": site.examples}})


@bp.get("/api/trends")
def api_trends():
    """The JSON twin of /trends: for each search, its periods and counts (and per 1,000)."""
    ix, params = _searched()
    try:
        queries, by, _ = _trend_args(request.args)
    except QueryError as exc:
        return _json_error(400, str(exc))
    if not queries:
        return _json_error(400, "give one to four searches, as in /api/trends?q=Ukraine&q=Gaza")
    trend = ix.trends(queries, tags=params.tags, since=params.since or None, until=params.until or None,
                      speakers=params.speakers, collections=params.collections, filters=params.facets, by=by)
    return jsonify({"ok": True, **to_dict(trend)})


# --- Documents: paths ------------------------------------------------------


def _check_path(path: str) -> None:
    """A 404 for any path that could name something outside the archive (`..`, absolute,
    backslashes, control characters, a drive letter). The index is the only thing ever
    consulted, so this is a second line: such paths are never looked up. The indexer skips
    files with such paths by the same rule, so every indexed document has a page."""
    if path_problem(path):
        abort(404)


# --- Errors ----------------------------------------------------------------------------------

_UNAVAILABLE = {
    IndexNotFound: ("No index yet", "There is no search index yet; run 'search index' to build one."),
    IndexIncompatible: ("Index out of date", "The index was built by another version; run 'search index' to rebuild it."),
    IndexDamaged: ("Index damaged", "The index is damaged; run 'search index' to rebuild it."),
}


@bp.app_errorhandler(SearchError)
def search_error(exc: SearchError):
    if isinstance(exc, DocumentNotFound):
        return _fail(404, "Document not found", "There is no document at this address in the archive.")
    if isinstance(exc, QueryError):
        return _fail(400, "Cannot search that", str(exc))
    if isinstance(exc, QueryTimeout):
        return _fail(503, "That search took too long", str(exc))
    if isinstance(exc, ServerBusy):
        response = _fail(503, "The server is busy", str(exc))
        response.headers["Retry-After"] = "2"
        return response
    # The full message names the folder: the log gets it, the visitor a next step.
    current_app.logger.warning("%s", exc)
    title, message = next(
        (v for cls, v in _UNAVAILABLE.items() if isinstance(exc, cls)),
        ("Index unavailable", "The index cannot be read; run 'search index' to rebuild it."),
    )
    return _fail(503, title, message)


@bp.app_errorhandler(Exception)
def unexpected_error(exc: Exception):
    """Anything else: a damaged index is a 503 like the others (Whoosh fails in many ways on
    a damaged file); otherwise a bug, logged with its traceback, and a plain 500."""
    damage = current_app.extensions["search"].diagnose()
    if damage is not None:
        return search_error(damage)
    current_app.logger.error("unexpected error on %s", request.path, exc_info=exc)
    return _fail(500, "Internal error", "Something went wrong on our side; the error has been logged.")


@bp.app_errorhandler(HTTPException)
def http_error(exc: HTTPException):
    if exc.code == 404:
        response = _fail(404, "Not found", "There is nothing at this address.")
    else:
        response = _fail(exc.code or 500, exc.name, exc.description or exc.name)
    allow = exc.get_response().headers.get("Allow")
    if allow:
        response.headers["Allow"] = allow
    return response


def _fail(status: int, title: str, message: str) -> Response:
    if request.path.startswith("/api/"):
        return _json_error(status, message)
    page = render_template("error.html", status=status, title=title, message=message, params=Params())
    return make_response(page, status)


def _json_error(status: int, message: str) -> Response:
    response = jsonify({"ok": False, "error": message})
    response.status_code = status
    return response
