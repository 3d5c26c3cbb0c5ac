"""LRC (synchronised lyrics): strip the timestamps and metadata tags, keep the words."""

from __future__ import annotations

import re

_TIMESTAMP = re.compile(r"[\[<]\d{1,3}:\d{2}(?:[.:]\d{1,3})?[\]>]")
_METADATA = re.compile(r"^\[(?P<key>[a-z#]{1,8}):(?P<value>[^\]]*)\]\s*$", re.IGNORECASE)
_LRC_LINE = re.compile(r"^\s*\[\d{1,3}:\d{2}(?:[.:]\d{1,3})?\]")


def looks_like_lrc(text: str) -> bool:
    """Whether most non-blank lines start with an LRC timestamp."""
    lines = [line for line in text.splitlines()[:200] if line.strip()]
    return bool(lines) and sum(1 for line in lines if _LRC_LINE.match(line)) >= len(lines) / 2


def strip_lrc(text: str) -> tuple[str, dict[str, str]]:
    """Return the plain lyrics and the metadata tags (``ti`` title, ``ar`` artist, ...)."""
    metadata: dict[str, str] = {}
    lines = []
    for line in text.splitlines():
        meta = _METADATA.match(line.strip())
        if meta and not _LRC_LINE.match(line):
            metadata[meta["key"].lower()] = meta["value"].strip()
            continue
        lines.append(_TIMESTAMP.sub("", line).strip())
    return "\n".join(lines), metadata
