"""The audit chain's hash rule: the wire contract shared by the terminal and the backend.

An entry's hash covers the previous entry's hash and its own content, so an
edited, deleted or reordered entry breaks the chain from that point on. Both
the till (which writes the chain) and the backend (which re-checks every batch
it is sent) use exactly this function.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

GENESIS = "0" * 64


def detail_json(detail: Mapping[str, Any]) -> str:
    return json.dumps(dict(detail), sort_keys=True, separators=(",", ":"))


def entry_hash(*, prev_hash: str, at: int, actor: str, action: str, detail_json: str) -> str:
    material = json.dumps([prev_hash, at, actor, action, detail_json], separators=(",", ":"))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()
