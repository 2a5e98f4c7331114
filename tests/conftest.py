"""Shared fixtures: small archives written into tmp_path, and the real archive when present."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

from search import build_index, open_index

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SEARCH_SHARED", REPO.parent / "shared"))
ARCHIVE = SHARED / "archive"
SAMPLE = "statements-releases/2024-07/2024-07-11-readout-of-president-bidens-meeting-with-natos-indo-pacific-partners.md"


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No test reads the real index/ or depends on the working directory or the environment."""
    monkeypatch.delenv("SEARCH_INDEX", raising=False)
    monkeypatch.delenv("SEARCH_ARCHIVE", raising=False)
    monkeypatch.delenv("SEARCH_CONFIG", raising=False)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)


def write_doc(root: Path, relpath: str, *, body: str = "", **meta) -> Path:
    """Write one front-matter document; `meta` values are written as YAML as given."""
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["---"]
    for key, value in meta.items():
        lines.append(f"{key}: {value}")
    lines.append("---")
    path.write_text("\n".join(lines) + "\n\n" + textwrap.dedent(body).strip() + "\n", encoding="utf-8")
    return path


# Five small documents, enough to test ranking, filters, phrases and dates.
DOCS = {
    "statements-releases/2024-07/2024-07-11-nato-partners.md": dict(
        title="'Readout of President Biden’s Meeting with NATO’s Indo-Pacific Partners'",
        date="'2024-07-11'",
        published_time="2024-07-11 11:36:05-04:00",
        source_url="https://example.gov/2024/07/11/nato-partners/",
        tags="statements-releases",
        body="""
            On the margins of the NATO Summit, President Biden met the leaders of Japan,
            the Republic of Korea, Australia and New Zealand.

            The leaders condemned the unlawful arms transfers from the Democratic People’s
            Republic of Korea (DPRK) to Russia, and discussed the Department of State’s work.
        """,
    ),
    "statements-releases/2024-07/2024-07-25-maui.md": dict(
        title="Statement on Maui Wildfire Recovery",
        date="'2024-07-25'",
        source_url="https://example.gov/2024/07/25/maui/",
        tags="statements-releases",
        body="""
            One year after the wildfires, federal recovery work on Maui continues. Running
            water and rebuilt homes are returning to Lahaina.
        """,
    ),
    "press-briefings/2023-03/2023-03-02-briefing.md": dict(
        title="Press Briefing by Press Secretary Karine Jean-Pierre",
        date="'2023-03-02'",
        source_url="https://example.gov/2023/03/02/briefing/",
        tags="press-briefings",
        body="""
            Q On Russia, is there any update on sanctions?

            MS. JEAN-PIERRE: We have imposed new sanctions on Russia this week. Prime
            Minister Kishida will visit next month.
        """,
    ),
    "speeches-remarks/2022-08/2022-08-16-ira-signing.md": dict(
        title="Remarks by President Biden at Signing of the Inflation Reduction Act",
        date="'2022-08-16'",
        source_url="https://example.gov/2022/08/16/ira/",
        tags="speeches-remarks",
        body="""
            Today the Inflation Reduction Act becomes law. It lowers prescription drug
            costs, caps insulin at $35 a month, and makes the largest investment in clean
            energy in history. COVID-19 taught us a lot.
        """,
    ),
    "blog/2021-11/2021-11-17-ports.md": dict(
        title="Recent Progress at Our Ports",
        date="'2021-11-17'",
        source_url="https://example.gov/2021/11/17/ports/",
        tags="blog",
        body="""
            The ports of Los Angeles and Long Beach are moving containers more quickly.
            Supply chains are improving as ships are running on schedule.
        """,
    ),
}


def write_small_archive(root: Path) -> Path:
    for relpath, meta in DOCS.items():
        meta = dict(meta)
        body = meta.pop("body")
        write_doc(root, relpath, body=body, **meta)
    return root


PRESIDENTS = [("George Washington", 1789, "no party"), ("Abraham Lincoln", 1861, "Republican"),
              ("Franklin D. Roosevelt", 1933, "Democratic"), ("Barack Obama", 2009, "Democratic")]
SPEECH_TOPICS = ["the union and its liberty", "the war for the nation", "banking and relief for farmers",
                 "health care and new jobs", "emancipation of the enslaved", "the constitution and its courts"]


def write_speeches(root: Path) -> Path:
    """A speeches-like archive: 24 addresses from 1789 to 2014, each with `president:` and a
    `party:` list in its front matter, and no category of the briefing room's."""
    for n, (name, start, party) in enumerate(p for p in PRESIDENTS for _ in range(6)):
        year = start + n % 6
        topic = SPEECH_TOPICS[n % len(SPEECH_TOPICS)]
        write_doc(root, f"{year}-03-{n % 6 + 1:02d}-address.md", title=f"'Address of {year} on {topic}'", date=f"'{year}-03-{n % 6 + 1:02d}'",
                  president=name, party=f"[{party}, speech-{n % 2}]", tags="speeches",
                  body=f"Fellow citizens, I speak to you in {year} of {topic}. Address number {n} of {name}.")
    return root


def write_newer_briefings(root: Path) -> Path:
    """A second administration's briefing room: new categories, one fact sheet filed under two
    categories (the same text), and one URL filed twice with different text."""
    sheet = "The tariffs on imported steel take effect on May 1. Fact sheet on steel tariffs."
    write_doc(root, "briefings-statements/2025-05/2025-05-01-fact-sheet-steel.md", title="'Fact Sheet: Steel Tariffs'",
              date="'2025-05-01'", tags="briefings-statements", source_url="https://example.gov/fact-sheets/steel/", body=sheet)
    write_doc(root, "presidential-actions/2025-05/2025-05-01-fact-sheet-steel.md", title="'Fact Sheet: Steel Tariffs'",
              date="'2025-05-01'", tags="presidential-actions", body=sheet)
    write_doc(root, "presidential-actions/2025-05/2025-05-09-omb-memo.md", title="'OMB Memo M-25-11'", date="'2025-05-09'",
              tags="presidential-actions", source_url="https://example.gov/omb/m-25-11/",
              body="Memorandum for the heads of agencies on spending and tariffs.")
    write_doc(root, "briefings-statements/2025-05/2025-05-09-omb-memo.md", title="'OMB Memo M-25-11'", date="'2025-05-09'",
              tags="briefings-statements", source_url="https://example.gov/omb/m-25-11/",
              body="Memorandum for the heads of agencies on spending and tariffs, as corrected.")
    write_doc(root, "briefings-statements/2025-06/2025-06-02-tariff-briefing.md", title="'Briefing on Tariffs and Trade'",
              date="'2025-06-02'", tags="briefings-statements", body="Tariffs, trade and the war on inflation, in a briefing.")
    return root


@pytest.fixture
def small_archive(tmp_path) -> Path:
    return write_small_archive(tmp_path / "archive")


@pytest.fixture
def small_index(tmp_path, small_archive) -> Path:
    index = tmp_path / "index"
    build_index(small_archive, index)
    return index


@pytest.fixture
def small(small_index):
    with open_index(small_index) as ix:
        yield ix


def needs_archive():
    return pytest.mark.skipif(not ARCHIVE.is_dir(), reason=f"the real archive is not at {ARCHIVE} (../shared/archive)")


@pytest.fixture(scope="session")
def archive_index(tmp_path_factory) -> Path:
    """The full archive, indexed once per test session."""
    if not ARCHIVE.is_dir():
        pytest.skip(f"the real archive is not at {ARCHIVE} (../shared/archive)")
    index = tmp_path_factory.mktemp("archive") / "index"
    build_index(ARCHIVE, index)
    return index


@pytest.fixture(scope="session")
def big_index(request, tmp_path_factory) -> Path:
    """The full archive's index when the archive is there; a generated one of 3,000 documents otherwise."""
    from .harness import write_archive

    if ARCHIVE.is_dir():
        return request.getfixturevalue("archive_index")
    root = tmp_path_factory.mktemp("generated")
    write_archive(root / "archive", 3000)
    build_index(root / "archive", root / "index")
    return root / "index"


class RunningServer:
    """A real `search serve` process on loopback, started by `serve_process`."""

    def __init__(self, process, port: int, log: Path):
        self.process, self.port, self.log = process, port, log
        self.url = f"http://127.0.0.1:{port}/"

    def stderr(self) -> str:
        return self.log.read_text(encoding="utf-8")


@contextlib.contextmanager
def serve_process(index: Path, log_dir: Path, *options: str):
    """Run `search serve --index INDEX --port 0 OPTIONS` until the block ends; yields a
    RunningServer once it has printed the URL it listens on."""
    executable = shutil.which("search")
    if executable is None:
        pytest.skip("the search command is not installed (pip install . puts it on PATH)")
    log = log_dir / f"serve-{os.getpid()}-{time.monotonic_ns()}.txt"
    env = {k: v for k, v in os.environ.items() if k not in ("SEARCH_INDEX", "SEARCH_ARCHIVE", "SEARCH_CONFIG")}
    with open(log, "w") as handle:
        process = subprocess.Popen([executable, "serve", "--index", str(index), "--port", "0", *options],
                                   stdout=subprocess.DEVNULL, stderr=handle, env=env)
    try:
        deadline = time.monotonic() + 30
        while not (match := re.search(r"Serving http://[^ ]+:(\d+)/", log.read_text(encoding="utf-8"))):
            assert process.poll() is None, f"search serve exited: {log.read_text()}"
            assert time.monotonic() < deadline, f"search serve did not start: {log.read_text()}"
            time.sleep(0.05)
        yield RunningServer(process, int(match[1]), log)
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- A real browser, for the browser tests --------------------------------------------------

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (Debian's), driven by playwright; the browser test modules skip
    themselves when either is missing."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A page at desktop size that records the page's script errors in `page.errors`."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    context.close()
