"""The import report: what was imported, what was skipped (where, and why), and warnings.

It is kept in ``dataset.json`` so ``smartlap datasets show`` can repeat it later. Skip
counts per reason are always complete; the list of individual skips is capped so a
hostile file with a million bad rows cannot blow up memory or the JSON.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

REASONS = {
    "empty": "no lyrics in this record",
    "too short": "fewer lines or words than a song needs",
    "duplicate": "the same lyrics were imported already",
    "near-duplicate": "almost the same lyrics were imported already",
    "not text": "not lyrics (numbers, codes, or unreadable data)",
    "too long": "larger than one song can be (a whole collection in one record?)",
}
MAX_LISTED_SKIPS = 1000
MAX_LISTED_BOILERPLATE = 100  # templates need a quarter of the songs' edges: never so many


@dataclass
class ImportReport:
    imported: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    skipped_by_reason: Counter = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    boilerplate: list[dict[str, Any]] = field(default_factory=list)
    source: dict[str, Any] = field(default_factory=dict)

    @property
    def skipped_count(self) -> int:
        return sum(self.skipped_by_reason.values())

    def skip(self, where: str, reason: str, detail: str = "") -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown skip reason {reason!r}")
        self.skipped_by_reason[reason] += 1
        if len(self.skipped) < MAX_LISTED_SKIPS:
            entry = {"where": where, "reason": reason}
            if detail:
                entry["detail"] = detail
            self.skipped.append(entry)

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def to_dict(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "skipped_count": self.skipped_count,
            "skipped_by_reason": dict(sorted(self.skipped_by_reason.items())),
            "skipped": list(self.skipped),
            "skipped_listed_all": self.skipped_count <= len(self.skipped),
            "warnings": list(self.warnings),
            "boilerplate": self.boilerplate[:MAX_LISTED_BOILERPLATE],
            "source": dict(self.source),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImportReport:
        return cls(
            imported=int(data.get("imported", 0)),
            skipped=list(data.get("skipped", [])),
            skipped_by_reason=Counter(data.get("skipped_by_reason", {})),
            warnings=list(data.get("warnings", [])),
            boilerplate=list(data.get("boilerplate", [])),
            source=dict(data.get("source", {})),
        )
