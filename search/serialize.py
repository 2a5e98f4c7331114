"""The one conversion of results to JSON-ready data, shared by `--json`, batch and the web API."""

from __future__ import annotations

import dataclasses
from typing import Any


def to_dict(value: Any) -> Any:
    """A dataclass (or a list of them) as plain dicts and lists."""
    if isinstance(value, list):
        return [to_dict(v) for v in value]
    return dataclasses.asdict(value)
