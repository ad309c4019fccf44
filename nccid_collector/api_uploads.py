"""Upload, checker and summary routes: clinical batches, STOW-RS, known instances.

Why STOW is async and the rest is not: the STOW body is streamed part by part to spool files
(so a 1 GB batch never sits in memory) while each finished part is checked and stored in a
worker thread; the JSON calls are small and simply run in FastAPI's thread pool.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StringConstraints
from starlette.requests import ClientDisconnect

from nccid_collector import audit, checker
from nccid_collector.accounts import Caller
from nccid_collector.api_auth import active_caller, get_service
from nccid_collector.multipart import parse_content_type, spool_parts
from nccid_collector.problems import ServiceProblem, forbidden
from nccid_collector.service import CollectorService
from nccid_collector.stow import CANNOT_UNDERSTAND, InstanceOutcome
from nccid_collector.windows import site_windows

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


class ClinicalBatchOut(BaseModel):
    batch_id: str
    results: list[RowResultOut]


class KnownIn(BaseModel):
    sop_instance_uids: list[Annotated[str, StringConstraints(max_length=64)]] = Field(
        max_length=MAX_UIDS)


class KnownOut(BaseModel):
    known: list[str]


class CheckerIn(BaseModel):
    nhs_indexes: list[Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]] = Field(
        max_length=MAX_INDEXES)


class CheckerResult(BaseModel):
    nhs_index: str
    clinical_data: str | None
    status: str | None
    studies: int
    images: int


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


@router.post("/api/v1/clinical/batches", response_model=ClinicalBatchOut)
def clinical_batch(body: ClinicalBatchIn, caller: ActiveCaller, service: Service) -> dict:
    if not caller.may("nurse"):
        raise forbidden("upload clinical records")
    results = service.clinical.upload_batch(caller, body.batch_id, body.envelopes)
    return {"batch_id": body.batch_id, "results": results}


@router.get("/api/v1/clinical/windows", response_model=WindowsOut)
def clinical_windows(caller: ActiveCaller, service: Service) -> dict:
    if not caller.may("imaging"):
        raise forbidden("upload images")
    patients = site_windows(service.db, caller.site)
    audit.record(service.db, service.settings.now(), caller.username, caller.site,
                 "clinical_windows", "ok", len(patients))
    return {"patients": patients}


@router.post("/api/v1/images/known", response_model=KnownOut)
def images_known(body: KnownIn, caller: ActiveCaller, service: Service) -> dict:
    if not caller.may("imaging"):
        raise forbidden("upload images")
    known = service.images.known(caller.site, body.sop_instance_uids)
    audit.record(service.db, service.settings.now(), caller.username, caller.site,
                 "images_known", "ok", len(known))
    return {"known": known}


@router.post("/api/v1/checker", response_model=CheckerOut)
def nhs_checker(body: CheckerIn, caller: ActiveCaller, service: Service) -> dict:
    results = checker.check_indexes(service.db, caller.site, body.nhs_indexes)
    audit.record(service.db, service.settings.now(), caller.username, caller.site, "checker",
                 "ok", len(results))
    return {"results": results}


@router.get("/api/v1/summary", response_model=SummaryOut)
def site_summary(caller: ActiveCaller, service: Service) -> dict:
    audit.record(service.db, service.settings.now(), caller.username, caller.site, "summary", "ok")
    return checker.summary(service.db, caller.site)


STOW_BODY = {"requestBody": {"required": True, "content": {
    'multipart/related; type="application/dicom"': {"schema": {"type": "string",
                                                                "format": "binary"}}}}}


@router.post("/dicom-web/studies", openapi_extra=STOW_BODY,
             responses={200: {"description": "all stored"}, 202: {"description": "some failed"},
                        409: {"description": "all failed"}})
async def stow_rs(request: Request, caller: ActiveCaller, service: Service) -> JSONResponse:
    if not caller.may("imaging"):
        raise forbidden("upload images")
    content_type = parse_content_type(request.headers.get("content-type", ""))
    wanted = content_type.params.get("type", DICOM).lower()
    if content_type.media_type != "multipart/related" or wanted != DICOM:
        raise ServiceProblem(415, "unsupported_media_type", 'Images must be sent as '
                             'multipart/related; type="application/dicom".')
    outcomes: list[InstanceOutcome] = []
    try:
        async for part in spool_parts(request.stream(), content_type.params.get("boundary", ""),
                                      service.store.spool_file):
            part_type = parse_content_type(part.headers.get("content-type", DICOM)).media_type
            if part_type != DICOM:
                part.path.unlink(missing_ok=True)
                outcomes.append(InstanceOutcome("", "", False, "This part is not a DICOM file.",
                                                CANNOT_UNDERSTAND))
                continue
            outcomes.append(await run_in_threadpool(service.images.store_part, caller,
                                                    part.path, part.size))
    except ClientDisconnect:
        _audit_stow(service, caller, outcomes, "disconnected")
        raise ServiceProblem(400, "disconnected", "The upload was interrupted.") from None
    if not outcomes:
        raise ServiceProblem(400, "bad_multipart", "The upload holds no instances.")
    status, body = stow_response(outcomes)
    _audit_stow(service, caller, outcomes, {200: "ok", 202: "partial", 409: "rejected"}[status])
    return JSONResponse(body, status_code=status, media_type="application/dicom+json")


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
                                   "message": o.message} for o in failed]
    status = 200 if not failed else (202 if stored else 409)
    return status, body
