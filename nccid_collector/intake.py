"""What the service checks before anything is written: every instance and every record.

Why here, in front of the stores: the workstation de-identifies, verifies and validates, but
one old, buggy or hand-made client is enough to put identifiers into the national warehouse.
So the routes run these checks on everything they receive, with the core's own rules (one rule
source: :mod:`nccid_desktop.dicom.verify.conformance` for images, the template definitions
through :mod:`nccid_desktop.sheets.record_check` for records, one identifier detector for
both), and hand the stores only what passed. A refusal names the rule and the attribute or
field, never the value; the caller deletes what was spooled and audits the refusal.
"""

from __future__ import annotations

import mmap
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, insert, select

from nccid_collector.db import service_config
from nccid_collector.storage import is_uid
from nccid_collector.stow import CANNOT_UNDERSTAND, InstanceFacts
from nccid_desktop.dicom.verify.conformance import UNREADABLE, Problem, check_conformance
from nccid_desktop.errors import ConfigError, NccidError
from nccid_desktop.identifier_shapes import IdentifierShapes
from nccid_desktop.pseudonym import is_pseudonym
from nccid_desktop.records import ClinicalEnvelope
from nccid_desktop.sheets.meaning import template_for_kind
from nccid_desktop.sheets.record_check import RecordCheck

HOSPITAL_PATTERN_KEY = "hospital_pattern:"
NHS_INDEX_PATTERN = re.compile(r"[0-9a-f]{64}", re.ASCII)
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_\-]+={0,2}", re.ASCII)
MAX_TOKEN_LENGTH = 4096
#: The sender's calendar may be a day ahead of the service's UTC date.
CLOCK_SLACK = timedelta(days=1)


@dataclass(frozen=True)
class Refusal:
    """Why one instance or record is not stored: a rule, what it concerns, a sentence."""

    code: str
    keyword: str | None
    message: str
    reason_code: int = CANNOT_UNDERSTAND
    sop_class_uid: str = ""
    sop_instance_uid: str = ""

    @property
    def reason(self) -> str:
        """The audit trail's reason: the rule and the attribute or field it concerns."""
        return f"{self.code}:{self.keyword}" if self.keyword else self.code


@dataclass(frozen=True)
class SiteRules:
    """What the service knows of the site a caller belongs to."""

    site: str
    shapes: IdentifierShapes


def hospital_pattern(db: Engine, site: str) -> str | None:
    with db.connect() as conn:
        return conn.execute(select(service_config.c.value).where(
            service_config.c.key == HOSPITAL_PATTERN_KEY + site)).scalar()


def set_hospital_pattern(db: Engine, site: str, pattern: str | None) -> None:
    """Remember (or, with None, forget) the site's hospital-number pattern."""
    if pattern:
        try:
            IdentifierShapes.for_site(pattern)
        except re.error:
            raise ConfigError("The hospital number pattern is not a valid regular "
                              "expression.") from None
    with db.begin() as conn:
        conn.execute(delete(service_config).where(
            service_config.c.key == HOSPITAL_PATTERN_KEY + site))
        if pattern:
            conn.execute(insert(service_config).values(key=HOSPITAL_PATTERN_KEY + site,
                                                       value=pattern))


def site_rules(db: Engine, site: str) -> SiteRules:
    pattern = hospital_pattern(db, site)
    try:
        shapes = IdentifierShapes.for_site(pattern)
    except re.error:  # set by hand in the database: fall back to NHS/CHI numbers only
        shapes = IdentifierShapes()
    return SiteRules(site, shapes)


# --- Images ---------------------------------------------------------------------------------

def check_instance(path: Path, rules: SiteRules) -> InstanceFacts | Refusal:
    """The facts the index needs, or why the spooled instance at ``path`` is refused."""
    try:
        with open(path, "rb") as handle, \
                mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            result = check_conformance(data, shapes=rules.shapes)
    except (OSError, ValueError):  # an empty part cannot be mapped
        return Refusal("not_dicom", None, "This part is not a DICOM file.")
    facts = result.facts
    sop_uid, sop_class = _first(facts, "SOPInstanceUID"), _first(facts, "SOPClassUID")
    if any(p.rule == UNREADABLE for p in result.problems):
        return Refusal("not_dicom", None, "This part is not a DICOM file.")
    if not is_uid(sop_uid) or not is_uid(sop_class):
        return Refusal("no_uid", "SOPInstanceUID",
                       "The instance has no valid SOP Instance UID or SOP Class UID.")
    if result.problems:
        return _profile_refusal(result.problems, sop_class, sop_uid)
    study, series = _first(facts, "StudyInstanceUID"), _first(facts, "SeriesInstanceUID")
    if not is_uid(study) or not is_uid(series):
        return Refusal("no_uid", "StudyInstanceUID" if not is_uid(study) else
                       "SeriesInstanceUID",
                       "The instance has no valid Study or Series Instance UID.",
                       sop_class_uid=sop_class, sop_instance_uid=sop_uid)
    if _first(facts, "MediaStorageSOPInstanceUID") not in ("", sop_uid):
        return Refusal("uid_mismatch", "MediaStorageSOPInstanceUID",
                       "The file's header and dataset disagree about the SOP Instance UID.",
                       sop_class_uid=sop_class, sop_instance_uid=sop_uid)
    return InstanceFacts(sop_class, sop_uid, _first(facts, "PatientID"), study, series,
                         _first(facts, "Modality")[:16])


def _first(facts: dict[str, list[str]], keyword: str) -> str:
    values = facts.get(keyword) or [""]
    return values[0] if len(values) == 1 else "\\".join(values)


def _profile_refusal(problems: list[Problem], sop_class: str, sop_uid: str) -> Refusal:
    first = problems[0]
    message = f"The image was not stored: {first.message}"
    if len(problems) > 1:
        others = sorted({p.keyword for p in problems[1:] if p.keyword} - {first.keyword})
        more = f" Also: {', '.join(others[:8])}." if others else ""
        message += f" ({len(problems) - 1} more problem(s).{more})"
    return Refusal(first.rule, first.keyword or None, message, sop_class_uid=sop_class,
                   sop_instance_uid=sop_uid)


# --- Clinical records -----------------------------------------------------------------------

class RecordRules:
    """The record checks of one batch: the templates' rules, the site, the service's date."""

    def __init__(self, rules: SiteRules, today: date) -> None:
        self.site = rules.site
        self.checks: dict[str, RecordCheck] = {}
        for kind in ("data", "status"):
            self.checks[kind] = RecordCheck(template_for_kind(kind), today=today + CLOCK_SLACK,
                                            shapes=rules.shapes)

    @classmethod
    def for_now(cls, rules: SiteRules, now: float) -> RecordRules:
        return cls(rules, datetime.fromtimestamp(now, UTC).date())

    def check(self, raw: Any) -> ClinicalEnvelope | Refusal:
        """The parsed envelope when it may be stored, else why not."""
        try:
            envelope = ClinicalEnvelope.from_json(raw)
        except NccidError as refused:
            if isinstance(raw, dict) and not is_pseudonym(str(raw.get("pseudonym", ""))):
                return Refusal("bad_pseudonym", "Pseudonym", "The record's pseudonym is not "
                               "'Covid' followed by 16 digits (0-9); it was not stored.")
            return Refusal("bad_shape", None, f"{refused.message} It was not stored.")
        if envelope.site != self.site:
            return Refusal("wrong_site", None,
                           "This record is for another site; it was not stored.")
        problems = self.checks[envelope.kind].problems(envelope.record, site=self.site)
        if problems:
            first = problems[0]
            more = f" ({len(problems) - 1} more problem(s).)" if len(problems) > 1 else ""
            return Refusal(first.code, first.field,
                           f"{first.message} The record was not stored.{more}")
        if envelope.nhs_index is not None and not NHS_INDEX_PATTERN.fullmatch(envelope.nhs_index):
            return Refusal("bad_nhs_index", None,
                           "The record's NHS/CHI index is not in the expected form.")
        token = envelope.linkage_token
        if token is not None and (len(token) > MAX_TOKEN_LENGTH
                                  or not TOKEN_PATTERN.fullmatch(token)):
            return Refusal("bad_linkage_token", None,
                           "The record's linkage token is not in the expected form.")
        return envelope
