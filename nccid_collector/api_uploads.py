"""Upload, checker and summary routes: clinical batches, STOW-RS, known instances.

Why STOW is async and the rest is not: the STOW body is streamed part by part to spool files
(so a 1 GB batch never sits in memory) while each finished part is checked and stored in a
worker thread; the JSON calls are small and simply run in FastAPI's thread pool.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StringConstraints
from starlette.requests import ClientDisconnect

from nccid_collector import audit, checker
from nccid_collector.accounts import Caller
from nccid_collector.api_auth import active_caller, get_service
from nccid_collector.clinical import RowResult, rejected
from nccid_collector.intake import (
    RecordRules,
    Refusal,
    SiteRules,
    check_instance,
    site_rules,
)
from nccid_collector.multipart import SpooledPart, parse_content_type, single_header, spool_parts
from nccid_collector.problems import ServiceProblem, forbidden
from nccid_collector.refusal_audit import audit_item_refusals
from nccid_collector.retention import retention_days
from nccid_collector.service import CollectorService
from nccid_collector.stow import PROCESSING_FAILURE, InstanceFacts, InstanceOutcome
from nccid_collector.windows import site_windows
from nccid_collector.withdrawal import Tombstones, withdrawn_message
from nccid_desktop.records import ClinicalEnvelope

log = logging.getLogger(__name__)
router = APIRouter()
Service = Annotated[CollectorService, Depends(get_service)]
ActiveCaller = Annotated[Caller, Depends(active_caller)]
MAX_ENVELOPES = 5000
MAX_UIDS = 50000
MAX_INDEXES = 10000
DICOM = "application/dicom"


class ClinicalBatchIn(BaseModel):
    batch_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]
    envelopes: list[Any] = Field(max_length=MAX_ENVELOPES)


class RowResultOut(BaseModel):
    index: int
    pseudonym: str | None
    kind: str | None
    status: str
    message: str
    code: str | None = None
    field: str | None = None


class ClinicalBatchOut(BaseModel):
    batch_id: str
    results: list[RowResultOut]


class KnownIn(BaseModel):
    sop_instance_uids: list[Annotated[str, StringConstraints(max_length=64)]] = Field(
        max_length=MAX_UIDS)
    #: The pseudonym each instance would be sent under (same order): with them, ``known`` is
    #: what is held for the same patient and ``other_patient`` what is held for another.
    pseudonyms: list[Annotated[str, StringConstraints(max_length=64)]] | None = Field(
        default=None, max_length=MAX_UIDS)


class KnownOut(BaseModel):
    known: list[str]
    other_patient: list[str] = []


class CheckerIn(BaseModel):
    nhs_indexes: list[Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]] = Field(
        max_length=MAX_INDEXES)


class HeldStudyOut(BaseModel):
    study_uid: str
    images: int
    received: str


class CheckerResult(BaseModel):
    nhs_index: str
    clinical_data: str | None
    status: str | None
    studies: int
    images: int
    study_list: list[HeldStudyOut] = []


class CheckerOut(BaseModel):
    results: list[CheckerResult]


class WindowOut(BaseModel):
    kind: str
    test_date: str


class PatientWindowsOut(BaseModel):
    pseudonym: str
    windows: list[WindowOut]


class WindowsOut(BaseModel):
    patients: list[PatientWindowsOut]


class RecentOut(BaseModel):
    date: str
    kind: str
    count: int


class SummaryOut(BaseModel):
    site: str
    site_name: str
    patients_data: int
    patients_status: int
    studies: int
    images: int
    recent: list[RecentOut]
    #: the deployment's retention period in days (None: not set)
    retention_days: int | None = None


@router.post("/api/v1/clinical/batches", response_model=ClinicalBatchOut, name="clinical_upload")
def clinical_batch(body: ClinicalBatchIn, caller: ActiveCaller, service: Service,
                   request: Request) -> dict:
    if not caller.may("nurse"):
        raise forbidden("upload clinical records")
    checked: list[ClinicalEnvelope | RowResult] = []
    if service.clinical.previous_results(caller.site, body.batch_id) is None:  # else a replay
        rules = RecordRules.for_now(site_rules(service.db, caller.site), service.settings.clock())
        tombstones = Tombstones(service.db, caller.site)
        refusals: list[str] = []
        for index, raw in enumerate(body.envelopes):
            verdict = rules.check(raw)
            if not isinstance(verdict, Refusal):
                when = tombstones.when(verdict.pseudonym, verdict.nhs_index)
                if when is not None:
                    verdict = Refusal("withdrawn", None, withdrawn_message(when))
            if isinstance(verdict, Refusal):
                refusals.append(verdict.reason)
                checked.append(rejected(index, raw, verdict.code, verdict.keyword,
                                        verdict.message))
            else:
                checked.append(verdict)
        audit_item_refusals(request, caller.username, caller.site, refusals)
    results = service.clinical.upload_batch(caller, body.batch_id, checked)
    return {"batch_id": body.batch_id, "results": results}


@router.get("/api/v1/clinical/windows", response_model=WindowsOut, name="clinical_windows")
def clinical_windows(caller: ActiveCaller, service: Service) -> dict:
    if not caller.may("imaging"):
        raise forbidden("upload images")
    patients = site_windows(service.db, caller.site)
    audit.record(service.db, service.settings.now(), caller.username, caller.site,
                 "clinical_windows", "ok", len(patients))
    return {"patients": patients}


@router.post("/api/v1/images/known", response_model=KnownOut, name="images_known",
             response_model_exclude_unset=True)
def images_known(body: KnownIn, caller: ActiveCaller, service: Service) -> dict:
    if not caller.may("imaging"):
        raise forbidden("upload images")
    other: list[str] = []
    if body.pseudonyms is None:
        known = service.images.known(caller.site, body.sop_instance_uids)
    elif len(body.pseudonyms) != len(body.sop_instance_uids):
        raise ServiceProblem(422, "bad_request", "Give one pseudonym per SOP Instance UID.")
    else:
        known, other = service.images.known_by_patient(caller.site, body.sop_instance_uids,
                                                       body.pseudonyms)
    audit.record(service.db, service.settings.now(), caller.username, caller.site,
                 "images_known", "ok", len(known))
    # other_patient only for a caller that sent pseudonyms (older clients see the old shape)
    return {"known": known} if body.pseudonyms is None else {"known": known,
                                                             "other_patient": other}


@router.post("/api/v1/checker", response_model=CheckerOut, name="checker")
def nhs_checker(body: CheckerIn, caller: ActiveCaller, service: Service) -> dict:
    results = checker.check_indexes(service.db, caller.site, body.nhs_indexes)
    audit.record(service.db, service.settings.now(), caller.username, caller.site, "checker",
                 "ok", len(results))
    return {"results": results}


@router.get("/api/v1/summary", response_model=SummaryOut, name="summary")
def site_summary(caller: ActiveCaller, service: Service) -> dict:
    audit.record(service.db, service.settings.now(), caller.username, caller.site, "summary", "ok")
    return {**checker.summary(service.db, caller.site),
            "retention_days": retention_days(service.db)}


STOW_BODY = {"requestBody": {"required": True, "content": {
    'multipart/related; type="application/dicom"': {"schema": {"type": "string",
                                                                "format": "binary"}}}}}


@router.post("/dicom-web/studies", openapi_extra=STOW_BODY, name="stow",
             responses={200: {"description": "all stored"}, 202: {"description": "some failed"},
                        409: {"description": "all failed"}})
async def stow_rs(request: Request, caller: ActiveCaller, service: Service) -> JSONResponse:
    if not caller.may("imaging"):
        raise forbidden("upload images")
    content_type = parse_content_type(single_header(request.headers.getlist("content-type")))
    wanted = content_type.params.get("type", DICOM).lower()
    if content_type.media_type != "multipart/related" or wanted != DICOM:
        raise ServiceProblem(415, "unsupported_media_type", 'Images must be sent as '
                             'multipart/related; type="application/dicom".')
    rules = await run_in_threadpool(site_rules, service.db, caller.site)
    outcomes: list[InstanceOutcome] = []
    try:
        async for part in spool_parts(request.stream(), content_type.params.get("boundary", ""),
                                      service.store.spool_file):
            outcome = await run_in_threadpool(_check_and_store, service, caller, rules, part)
            outcomes.append(outcome)
            if not outcome.stored:
                await run_in_threadpool(audit_item_refusals, request, caller.username,
                                        caller.site, [_reason(outcome)])
    except ClientDisconnect:
        _audit_stow(service, caller, outcomes, "disconnected")
        raise ServiceProblem(400, "disconnected", "The upload was interrupted.") from None
    if not outcomes:
        raise ServiceProblem(400, "bad_multipart", "The upload holds no instances.")
    status, body = stow_response(outcomes)
    _audit_stow(service, caller, outcomes, {200: "ok", 202: "partial", 409: "rejected"}[status])
    return JSONResponse(body, status_code=status, media_type="application/dicom+json")


def _check_and_store(service: CollectorService, caller: Caller, rules: SiteRules,
                     part: SpooledPart) -> InstanceOutcome:
    """Check one spooled part (:mod:`.intake`) and store it only if it passes; nothing of a
    refused part is kept."""
    try:
        part_type = parse_content_type(part.headers.get("content-type", DICOM)).media_type
        if part_type != DICOM:
            verdict: InstanceFacts | Refusal = Refusal("not_dicom", None,
                                                       "This part is not a DICOM file.")
        else:
            verdict = check_instance(part.path, rules)
    except Exception as exc:  # a check that fails refuses: fail closed
        part.path.unlink(missing_ok=True)
        if isinstance(exc, ServiceProblem):
            raise
        log.error("An instance check failed (%s).", type(exc).__name__)
        verdict = Refusal("check_failed", None, "The image could not be checked; it was not "
                          "stored. Tell the service administrator if this keeps happening.",
                          PROCESSING_FAILURE)
    if isinstance(verdict, Refusal):
        part.path.unlink(missing_ok=True)
        return InstanceOutcome(verdict.sop_class_uid, verdict.sop_instance_uid, False,
                               verdict.message, verdict.reason_code, code=verdict.code,
                               keyword=verdict.keyword)
    return service.images.store_part(caller, part.path, part.size, verdict)


def _reason(outcome: InstanceOutcome) -> str:
    return f"{outcome.code}:{outcome.keyword}" if outcome.keyword else outcome.code or "refused"


def _audit_stow(service: CollectorService, caller: Caller, outcomes: list[InstanceOutcome],
                outcome: str) -> None:
    audit.record(service.db, service.settings.now(), caller.username, caller.site, "stow",
                 outcome, sum(o.stored for o in outcomes))


def _uid(value: str) -> dict[str, Any]:
    return {"vr": "UI", "Value": [value]} if value else {"vr": "UI"}


def stow_response(outcomes: list[InstanceOutcome]) -> tuple[int, dict[str, Any]]:
    """PS3.18 STOW-RS response: 200 all stored, 202 some failed, 409 all failed."""
    stored = [o for o in outcomes if o.stored]
    failed = [o for o in outcomes if not o.stored]
    body: dict[str, Any] = {}
    if stored:
        body["00081199"] = {"vr": "SQ", "Value": [
            {"00081150": _uid(o.sop_class_uid), "00081155": _uid(o.sop_instance_uid)}
            for o in stored]}
    if failed:
        body["00081198"] = {"vr": "SQ", "Value": [
            {"00081150": _uid(o.sop_class_uid), "00081155": _uid(o.sop_instance_uid),
             "00081197": {"vr": "US", "Value": [o.reason]}} for o in failed]}
        body["nccid:failures"] = [{"sop_instance_uid": o.sop_instance_uid or None,
                                   "message": o.message, "code": o.code or None,
                                   "keyword": o.keyword} for o in failed]
    status = 200 if not failed else (202 if stored else 409)
    return status, body
