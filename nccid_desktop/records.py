"""The upload envelope: one pseudonymised clinical record and what travels beside it.

Why an envelope: the warehouse file (``<Pseudonym>_data.json`` / ``_status.json``) must hold
exactly the keys the NCCID loader ingests, while the collection service also needs the NHS
index (for the NHS/CHI checker) and the linkage token (for the data controller). Those two
travel beside the record and are never written into the warehouse file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from nccid_desktop.errors import NccidError
from nccid_desktop.pseudonym import is_pseudonym

RecordKind = Literal["data", "status"]
RECORD_KINDS: tuple[RecordKind, ...] = ("data", "status")


@dataclass(frozen=True)
class ClinicalEnvelope:
    """One sheet row ready to send. ``record`` is the warehouse file content, all strings."""

    kind: RecordKind
    pseudonym: str
    site: str
    record: dict[str, str]
    nhs_index: str | None = None
    linkage_token: str | None = None
    row: int | None = None

    @property
    def warehouse_name(self) -> str:
        return f"{self.pseudonym}_{self.kind}.json"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "pseudonym": self.pseudonym,
            "site": self.site,
            "record": dict(self.record),
            "nhs_index": self.nhs_index,
            "linkage_token": self.linkage_token,
            "row": self.row,
        }

    @classmethod
    def from_json(cls, data: Any) -> ClinicalEnvelope:
        """Parse and check shape; the service calls this on everything it receives."""
        if not isinstance(data, dict):
            raise NccidError("A clinical record is not an object.")
        kind = data.get("kind")
        pseudonym = data.get("pseudonym")
        record = data.get("record")
        if kind not in RECORD_KINDS:
            raise NccidError("A clinical record has an unknown kind.")
        if not isinstance(pseudonym, str) or not is_pseudonym(pseudonym):
            raise NccidError("A clinical record has no valid pseudonym.")
        if not isinstance(record, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in record.items()
        ):
            raise NccidError("A clinical record must map field names to text values.")
        if record.get("Pseudonym") != pseudonym:
            raise NccidError("A clinical record's Pseudonym field does not match its envelope.")
        row = data.get("row")
        return cls(
            kind=kind,
            pseudonym=pseudonym,
            site=str(data.get("site", "")),
            record=dict(record),
            nhs_index=data.get("nhs_index") or None,
            linkage_token=data.get("linkage_token") or None,
            row=row if isinstance(row, int) else None,
        )
