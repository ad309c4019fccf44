"""The FastAPI dependencies every route shares: the open service and the signed-in caller.

Why a module of their own: the web app (:mod:`nccid_collector.app`) and the upload routes
(:mod:`nccid_collector.api_uploads`) both need them, and the app includes the upload routes; kept
in either one, the two modules would import each other.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from nccid_collector import accounts
from nccid_collector.accounts import Caller
from nccid_collector.problems import ServiceProblem, session_expired
from nccid_collector.service import CollectorService

bearer = HTTPBearer(auto_error=False)


def get_service(request: Request) -> CollectorService:
    return request.app.state.service


def session_caller(service: Annotated[CollectorService, Depends(get_service)],
                   credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]
                   ) -> Caller:
    """Any signed-in user, including one who must change their password first."""
    if credentials is None:
        raise session_expired()
    return accounts.authenticate(service.db, service.settings, credentials.credentials)


def active_caller(caller: Annotated[Caller, Depends(session_caller)]) -> Caller:
    if caller.password_change_required:
        raise ServiceProblem(403, "password_change_required",
                             "Your password has expired or was set by an administrator. "
                             "Choose a new password to continue.")
    return caller
