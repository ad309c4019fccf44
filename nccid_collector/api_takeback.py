"""Routes that take data back: withdraw a patient, remove a wrongly linked study.

Who may (decision): withdrawing a patient is open to a site's ``nurse`` and ``admin`` roles,
and only with ``"confirmed": true``, which both front ends send after the user has seen what
the service holds and confirmed. Why not admin only: opt-outs and patient requests reach the
R&D nurses, and the National Data Opt-out must be honoured promptly; what makes an
irreversible removal safe is the explicit confirmation, the tombstone naming who did it, and
the audit row. ``imaging`` staff may not withdraw patients; they (and ``admin``) may remove a
study they sent, named by its de-identified StudyInstanceUID only.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, StringConstraints

from nccid_collector import audit
from nccid_collector.accounts import Caller
from nccid_collector.api_auth import active_caller, get_service
from nccid_collector.db import images
from nccid_collector.problems import ServiceProblem, forbidden
from nccid_collector.service import CollectorService
from nccid_collector.warehouse_removal import remove_image_rows
from nccid_collector.withdrawal import holding, withdraw

router = APIRouter()
Service = Annotated[CollectorService, Depends(get_service)]
ActiveCaller = Annotated[Caller, Depends(active_caller)]
Pseudonym = Annotated[str, StringConstraints(pattern=r"^Covid[0-9]{16}$")]
NhsIndex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Uid = Annotated[str, StringConstraints(pattern=r"^[0-9]+(\.[0-9]+)*$", max_length=64)]


class PatientIn(BaseModel):
    pseudonym: Pseudonym | None = None
    nhs_index: NhsIndex | None = None


class WithdrawIn(PatientIn):
    reason: Literal["opt-out", "patient-request", "wrong-patient"]
    confirmed: bool = False


class HoldingOut(BaseModel):
    pseudonyms: int
    records: int
    studies: int
    images: int
    withdrawn_on: str | None


class WithdrawalOut(BaseModel):
    pseudonyms: int
    records: int
    images: int
    files: int
    withdrawn_on: str


class StudyIn(BaseModel):
    study_uid: Uid


class StudyRemovedOut(BaseModel):
    study_uid: str
    images: int


def _patient(body: PatientIn) -> None:
    if body.pseudonym is None and body.nhs_index is None:
        raise ServiceProblem(400, "no_patient", "Say which patient: a pseudonym or an NHS/CHI "
                             "index is needed.")


@router.post("/api/v1/withdrawals/preview", response_model=HoldingOut, name="withdrawal_preview")
def withdrawal_preview(body: PatientIn, caller: ActiveCaller, service: Service) -> dict:
    if not caller.may("nurse"):
        raise forbidden("withdraw patients")
    _patient(body)
    held = holding(service.db, caller.site, body.pseudonym, body.nhs_index)
    audit.record(service.db, service.settings.now(), caller.username, caller.site,
                 "withdrawal_preview", "ok", held.images + held.records)
    return held.to_json()


@router.post("/api/v1/withdrawals", response_model=WithdrawalOut, name="withdrawal")
def withdrawal(body: WithdrawIn, caller: ActiveCaller, service: Service) -> dict:
    if not caller.may("nurse"):
        raise forbidden("withdraw patients")
    _patient(body)
    if not body.confirmed:
        raise ServiceProblem(400, "confirmation_required", "Withdrawing a patient removes "
                             "everything held for them and cannot be undone: confirm it.")
    done = withdraw(service.db, service.store, service.settings, site=caller.site,
                    username=caller.username, reason=body.reason, pseudonym=body.pseudonym,
                    nhs_index=body.nhs_index)
    return done.to_json()


@router.post("/api/v1/images/remove", response_model=StudyRemovedOut, name="study_remove")
def study_remove(body: StudyIn, caller: ActiveCaller, service: Service) -> dict:
    if not caller.may("imaging"):
        raise forbidden("remove images")
    with service.db.connect() as conn:
        ids = conn.execute(images.select().with_only_columns(images.c.id).where(
            images.c.site == caller.site, images.c.study_uid == body.study_uid)).scalars().all()
    if not ids:
        raise ServiceProblem(404, "study_not_held", "The service holds no images of this study "
                             "for your site.")
    remove_image_rows(service.db, service.store, ids)
    audit.record(service.db, service.settings.now(), caller.username, caller.site,
                 "study_remove", "ok", len(ids))
    return {"study_uid": body.study_uid, "images": len(ids)}
