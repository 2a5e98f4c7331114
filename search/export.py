"""`search export --format opensearch DIR`: the index's documents as files OpenSearch or
Elasticsearch loads, for an archive that has outgrown one machine.

- `index.json`: the index definition (settings and mappings), with an English analyzer close to
  this engine's: words, lowercase, possessives dropped, the same stop words, porter2 stemming.
- `documents-0001.ndjson`, ...: the bulk API's format, an action line then the document, per
  document, each file under BULK_FILE_BYTES (a cluster refuses a request past 100 MB by default).

Every document is exported, copies included (each with its group), with the same fields as the
index: the cleaned text, the collection, the declared facets and the speakers.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from .analysis import STOP_WORDS
from .errors import SearchError
from .speakers import REPORTER

BULK_FILE_BYTES = 50 * 1024 * 1024
FORMATS = ("opensearch",)


@dataclass
class ExportReport:
    folder: str
    index_name: str
    documents: int
    files: list[str] = field(default_factory=list)  # the bulk files, in the order to send them
    definition: str = "index.json"


def index_definition(facets: list[str]) -> dict:
    """Settings and mappings for the exported documents."""
    keyword = {"type": "keyword"}
    properties: dict[str, dict] = {
        "path": keyword, "collection": keyword, "tags": keyword, "source_url": keyword, "group": keyword,
        "title": {"type": "text", "analyzer": "archive_english", "fields": {"raw": {"type": "keyword", "ignore_above": 512}}},
        "body": {"type": "text", "analyzer": "archive_english"},
        "date": {"type": "date", "format": "yyyy-MM-dd"},
        "published_time": {"type": "date", "format": "date_optional_time"},
        "modified_time": {"type": "date", "format": "date_optional_time"},
        "speakers": keyword,
    }
    properties.update({key: keyword for key in facets})
    return {
        "settings": {
            "analysis": {
                "filter": {
                    "archive_stop": {"type": "stop", "stopwords": sorted(STOP_WORDS)},
                    "archive_possessive": {"type": "stemmer", "language": "possessive_english"},
                    "archive_porter2": {"type": "stemmer", "language": "porter2"},
                },
                "analyzer": {
                    "archive_english": {
                        "type": "custom", "tokenizer": "standard",
                        "filter": ["archive_possessive", "lowercase", "archive_stop", "archive_porter2"],
                    },
                },
            },
        },
        # BM25 with Lucene's defaults (k1 1.2, b 0.75) is the similarity both engines use out of the box.
        "mappings": {"dynamic": "strict", "properties": properties},
    }


def export_opensearch(ix, folder: Path, index_name: str = "archive") -> ExportReport:
    """Write `ix`'s documents (an open `SearchIndex`) into `folder` as bulk files and an index
    definition. The folder is made if needed; files of an earlier export there are replaced."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("documents-*.ndjson"):
            old.unlink()
        facets = ix.facet_keys
        (folder / "index.json").write_text(json.dumps(index_definition(facets), indent=2) + "\n", encoding="utf-8")
        report = ExportReport(str(folder), index_name, 0)
        searcher = ix.searcher
        columns = ix.columns()
        groups = ix.groups()
        out = None
        written = 0
        for docnum in range(len(columns.live)):
            if not columns.live[docnum]:
                continue
            stored = searcher.stored_fields(docnum)
            action = json.dumps({"index": {"_index": index_name, "_id": stored["path"]}}, ensure_ascii=False)
            first = int(groups.group[docnum])
            group = stored["path"] if first == docnum else searcher.stored_fields(first)["path"]
            source = json.dumps(_source(stored, facets, group), ensure_ascii=False, allow_nan=False)
            size = len(action.encode("utf-8")) + len(source.encode("utf-8")) + 2
            if out is None or (written and written + size > BULK_FILE_BYTES):
                if out is not None:
                    out.close()
                name = f"documents-{len(report.files) + 1:04d}.ndjson"
                report.files.append(name)
                out = open(folder / name, "w", encoding="utf-8")
                written = 0
            out.write(action + "\n" + source + "\n")
            written += size
            report.documents += 1
        if out is not None:
            out.close()
    except OSError as exc:
        raise SearchError(f"cannot write the export into {folder}: {exc.strerror or exc}") from None
    return report


def _source(stored: dict, facets: list[str], group: str) -> dict:
    content = stored.get("content")
    speakers = sorted({turn[0] for turn in stored.get("turns") or () if turn[0] != REPORTER})
    source = {
        "path": stored["path"],
        "collection": (stored.get("collection") or [None])[0],
        "title": stored.get("title", ""),
        "date": stored.get("date"),
        "tags": [t for t in (stored.get("tags") or "").split(",") if t],
        "source_url": stored.get("source_url"),
        "published_time": stored.get("published_time"),
        "modified_time": stored.get("modified_time"),
        "body": zlib.decompress(content).decode("utf-8") if content else "",
        "speakers": speakers,
        "group": group,  # the path of the group's first document: documents of one group are copies
    }
    source.update({key: list(stored.get(key) or ()) for key in facets})
    return {k: v for k, v in source.items() if v is not None}
