"""The collection service's API (docs/api.md) as plain Python calls with plain-English errors.

Why a thin client: the uploader, the CLI and the GUI all talk to the service, and each must
show the same sentence for the same failure. Every call goes through :func:`send_with_retry`
(so proxies, TLS and retries are the same everywhere) and every refusal through
:func:`raise_for_response`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import requests

from nccid_desktop.dicom.select.clinical_windows import ClinicalWindow
from nccid_desktop.errors import TransportError
from nccid_desktop.keys import SiteKeys
from nccid_desktop.records import ClinicalEnvelope
from nccid_desktop.tasks import NEVER_CANCELLED, CancelToken
from nccid_desktop.transport.errors import raise_for_response, transport_error
from nccid_desktop.transport.http import HttpSettings, make_session, send_with_retry
from nccid_desktop.transport.stow import StowClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignedIn:
    token: str
    expires_at: str
    username: str
    site: str
    site_name: str
    roles: tuple[str, ...]
    password_change_required: bool

    @classmethod
    def from_json(cls, data: Any) -> SignedIn:
        try:
            user = data["user"]
            return cls(token=str(data["token"]), expires_at=str(data.get("expires_at", "")),
                       username=str(user["username"]), site=str(user["site"]),
                       site_name=str(user.get("site_name", "")),
                       roles=tuple(str(r) for r in user.get("roles", [])),
                       password_change_required=bool(data.get("password_change_required")))
        except (KeyError, TypeError) as error:
            raise TransportError("The collection service sent an unexpected sign-in answer.") from error


@dataclass(frozen=True)
class RowResult:
    index: int
    pseudonym: str
    kind: str
    status: str
    message: str
    #: for a rejected record: the rule the service named and the field concerned
    code: str = ""
    field: str = ""


@dataclass(frozen=True)
class CheckerResult:
    nhs_index: str
    clinical_data: str | None
    status: str | None
    studies: int
    images: int
    #: each received study: (de-identified StudyInstanceUID, images, date received)
    study_list: tuple[tuple[str, int, str], ...] = ()


#: The service accepts at most 10,000 NHS indexes per checker call (docs/api.md).
CHECKER_CHUNK = 5000


class CollectorClient:
    """One signed-in conversation with the service at ``server_url``.

    Two retry policies: ``settings`` (patient: bulk uploads ride out a flaky link) for
    uploads, and ``interactive`` (default: ``settings.interactive()``) for the calls a person
    waits on: sign-in, password change, keys, the checker and the summary.
    """

    def __init__(self, server_url: str, settings: HttpSettings | None = None,
                 session: requests.Session | None = None,
                 interactive: HttpSettings | None = None) -> None:
        self.server_url = server_url.rstrip("/")
        self.settings = settings or HttpSettings()
        self.interactive = interactive or self.settings.interactive()
        self.session = session or make_session(self.settings)
        self.signed_in: SignedIn | None = None

    def _send(self, method: str, path: str, *, json: Any = None,
              cancel: CancelToken = NEVER_CANCELLED, waiting: bool = False) -> requests.Response:
        settings = self.interactive if waiting else self.settings
        try:
            return send_with_retry(self.session, method, self.server_url + path,
                                   settings, json=json, cancel=cancel)
        except requests.RequestException as error:
            raise transport_error(error) from error

    def _call(self, method: str, path: str, *, json: Any = None,
              cancel: CancelToken = NEVER_CANCELLED, waiting: bool = False) -> requests.Response:
        response = self._send(method, path, json=json, cancel=cancel, waiting=waiting)
        raise_for_response(response)
        return response

    def _json(self, method: str, path: str, *, json: Any = None,
              cancel: CancelToken = NEVER_CANCELLED, waiting: bool = False) -> Any:
        response = self._call(method, path, json=json, cancel=cancel, waiting=waiting)
        try:
            return response.json()
        except ValueError as error:
            raise TransportError("The collection service sent an answer the app cannot read. "
                                 "Is the server address right?") from error

    def _adopt(self, data: Any) -> SignedIn:
        self.signed_in = SignedIn.from_json(data)
        self.session.headers["Authorization"] = f"Bearer {self.signed_in.token}"
        return self.signed_in

    def health(self) -> dict[str, Any]:
        return self._json("GET", "/api/v1/health", waiting=True)

    def sign_in(self, username: str, password: str) -> SignedIn:
        """Sign in; when the password has expired the result says so (change it next)."""
        self.session.headers.pop("Authorization", None)
        return self._adopt(self._json("POST", "/api/v1/session", waiting=True,
                                      json={"username": username, "password": password}))

    def change_password(self, old_password: str, new_password: str) -> SignedIn:
        return self._adopt(self._json("POST", "/api/v1/session/password", waiting=True,
                                      json={"old_password": old_password,
                                            "new_password": new_password}))

    def sign_out(self) -> None:
        if self.signed_in is None:
            return
        try:
            self._call("DELETE", "/api/v1/session", waiting=True)
        finally:
            self.signed_in = None
            self.session.headers.pop("Authorization", None)

    def site_keys(self) -> SiteKeys:
        """The site's pseudonym key and the controller's public key (kept in memory only)."""
        return SiteKeys.from_json(self._json("GET", "/api/v1/site/keys", waiting=True))

    def upload_clinical(self, batch_id: str, envelopes: Sequence[ClinicalEnvelope],
                        cancel: CancelToken = NEVER_CANCELLED) -> list[RowResult]:
        data = self._json("POST", "/api/v1/clinical/batches", cancel=cancel, json={
            "batch_id": batch_id, "envelopes": [e.to_json() for e in envelopes]})
        try:
            return [RowResult(int(r["index"]), str(r.get("pseudonym") or ""), str(r.get("kind") or ""),
                              str(r["status"]), str(r.get("message") or ""),
                              str(r.get("code") or ""), str(r.get("field") or ""))
                    for r in data["results"]]
        except (KeyError, TypeError, ValueError) as error:
            raise TransportError("The collection service sent an unexpected upload answer.") from error

    def known_sop_instances(self, sop_instance_uids: Sequence[str],
                            cancel: CancelToken = NEVER_CANCELLED) -> set[str]:
        """Which of these instances the service already holds for the site (to skip them)."""
        known: set[str] = set()
        for start in range(0, len(sop_instance_uids), 1000):
            chunk = list(sop_instance_uids[start:start + 1000])
            data = self._json("POST", "/api/v1/images/known", cancel=cancel,
                              json={"sop_instance_uids": chunk})
            known.update(str(uid) for uid in (data.get("known") or []))
        return known

    def held_images(self, sop_instance_uids: Sequence[str], pseudonyms: Sequence[str],
                    cancel: CancelToken = NEVER_CANCELLED) -> tuple[set[str], set[str]]:
        """Of these instances (each with the pseudonym it would be sent under): those the
        service holds for the same patient (to skip), and those it holds for another patient
        (two different images share one identifier: to hold back)."""
        same: set[str] = set()
        other: set[str] = set()
        for start in range(0, len(sop_instance_uids), 1000):
            chunk = list(sop_instance_uids[start:start + 1000])
            data = self._json("POST", "/api/v1/images/known", cancel=cancel,
                              json={"sop_instance_uids": chunk,
                                    "pseudonyms": list(pseudonyms[start:start + 1000])})
            same.update(str(uid) for uid in (data.get("known") or []))
            other.update(str(uid) for uid in (data.get("other_patient") or []))
        return same, other

    def clinical_windows(self, cancel: CancelToken = NEVER_CANCELLED
                         ) -> dict[str, tuple[ClinicalWindow, ...]] | None:
        """Per pseudonym, the date windows of the records the service holds for the site, so
        images can be chosen without the sheet at hand; None from a service without the call."""
        response = self._send("GET", "/api/v1/clinical/windows", cancel=cancel)
        if response.status_code == 404:
            return None
        raise_for_response(response)
        try:
            return {str(patient["pseudonym"]): tuple(
                        ClinicalWindow(w["kind"], date.fromisoformat(w["test_date"]))
                        for w in patient["windows"])
                    for patient in response.json()["patients"]}
        except (KeyError, TypeError, ValueError) as error:
            raise TransportError("The collection service sent unexpected clinical dates.") from error

    def check(self, nhs_indexes: Sequence[str]) -> list[CheckerResult]:
        """Per patient, what the service holds; long lists go in chunks the service accepts."""
        results: list[CheckerResult] = []
        for start in range(0, len(nhs_indexes), CHECKER_CHUNK):
            chunk = list(nhs_indexes[start:start + CHECKER_CHUNK])
            data = self._json("POST", "/api/v1/checker", json={"nhs_indexes": chunk},
                              waiting=True)
            try:
                results.extend(
                    CheckerResult(str(r["nhs_index"]), r.get("clinical_data"), r.get("status"),
                                  int(r.get("studies") or 0), int(r.get("images") or 0),
                                  tuple((str(s["study_uid"]), int(s["images"]),
                                         str(s.get("received") or ""))
                                        for s in r.get("study_list") or ()))
                    for r in data["results"])
            except (KeyError, TypeError, ValueError) as error:
                raise TransportError(
                    "The collection service sent an unexpected checker answer.") from error
        return results

    def summary(self) -> dict[str, Any]:
        return self._json("GET", "/api/v1/summary", waiting=True)

    def withdrawal_preview(self, patient: dict[str, str]) -> dict[str, Any]:
        """What the service holds for a patient named by pseudonym and/or NHS/CHI index."""
        return self._json("POST", "/api/v1/withdrawals/preview", json=patient, waiting=True)

    def withdraw(self, patient: dict[str, str], reason: str) -> dict[str, Any]:
        """Withdraw the patient (the user has confirmed): everything held for them goes."""
        return self._json("POST", "/api/v1/withdrawals", waiting=True,
                          json={**patient, "reason": reason, "confirmed": True})

    def remove_study(self, study_uid: str) -> dict[str, Any]:
        """Remove a study's images, named by its de-identified StudyInstanceUID."""
        return self._json("POST", "/api/v1/images/remove", json={"study_uid": study_uid},
                          waiting=True)

    def stow(self, **kwargs: Any) -> StowClient:
        """A STOW-RS client on this signed-in session."""
        return StowClient(self.session, self.server_url + "/dicom-web", self.settings, **kwargs)
