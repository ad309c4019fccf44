"""The collection service as an ASGI app (FastAPI): sessions, keys, and error handling.

Why FastAPI: its OpenAPI document describes every call, so the API can be fuzzed
(schemathesis) and the contract in docs/api.md checked against what runs (the document is
served only with ``--api-docs``, and then to signed-in users: :mod:`.api_docs`). Every
refusal is ``{"detail", "code"}`` with a message a user can act on, and is audited
(:mod:`.refusal_audit`); an unexpected failure is logged
(scrubbed) and answered with a generic message, never a traceback. The access log records the
route template and status only: never a query string or a body.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, FastAPI, Request, Response, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, StringConstraints
from starlette.exceptions import HTTPException as StarletteHTTPException

from nccid_collector import accounts, audit
from nccid_collector.accounts import Caller, SignedIn
from nccid_collector.api_auth import active_caller, bearer, session_caller
from nccid_collector.api_docs import install_api_docs
from nccid_collector.api_takeback import router as takeback
from nccid_collector.api_uploads import router as uploads
from nccid_collector.objectstore import StorageError
from nccid_collector.problems import ServiceProblem
from nccid_collector.refusal_audit import audit_refusal
from nccid_collector.service import CollectorService
from nccid_desktop import __version__

log = logging.getLogger(__name__)
HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type"}


#: Text without NUL characters (PostgreSQL cannot hold them; no real name or password has one).
UserText = Annotated[str, StringConstraints(max_length=1024, pattern=r"^[^\x00]*$")]


class SignInRequest(BaseModel):
    username: UserText
    password: UserText


class PasswordChangeRequest(BaseModel):
    old_password: UserText
    new_password: UserText


class UserOut(BaseModel):
    username: str
    site: str
    site_name: str
    roles: list[str]


class SessionOut(BaseModel):
    token: str
    expires_at: str
    user: UserOut
    password_change_required: bool


class HealthOut(BaseModel):
    status: str
    version: str


class SiteKeysOut(BaseModel):
    format: str
    version: int
    site: str
    secret: str
    controller_public_key: str


def _session_out(signed: SignedIn) -> SessionOut:
    caller = signed.caller
    return SessionOut(
        token=signed.token,
        expires_at=datetime.fromtimestamp(signed.expires_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        user=UserOut(username=caller.username, site=caller.site, site_name=caller.site_name,
                     roles=list(caller.roles)),
        password_change_required=caller.password_change_required,
    )


def _problem(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail, "code": code}, status_code=status)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceProblem)
    async def _service_problem(request: Request, exc: ServiceProblem) -> JSONResponse:
        await audit_refusal(request, exc.code, exc)
        return _problem(exc.status, exc.code, exc.message)

    @app.exception_handler(StorageError)
    async def _storage(_request: Request, exc: StorageError) -> JSONResponse:
        log.warning("Warehouse unavailable: %s", exc.message)
        return _problem(503, "storage_unavailable", "The warehouse cannot be written just now. "
                        "Nothing was lost: try again in a few minutes.")

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        what = str(first.get("msg", "not valid"))
        await audit_refusal(request, "bad_request")
        return _problem(422, "bad_request",
                        f"The request is not in the expected form ({where or 'body'}: {what}).")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else "The request was refused."
        code = HTTP_CODES.get(exc.status_code, "http_error")
        await audit_refusal(request, code)
        return _problem(exc.status_code, code, detail)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.error("Unexpected failure (%s)", type(exc).__name__, exc_info=exc)
        return _problem(500, "server_error", "The collection service hit an unexpected problem. "
                        "Try again later; if it keeps happening, tell the service administrator.")


def _install_access_log(app: FastAPI) -> None:
    access = logging.getLogger("nccid_collector.access")

    @app.middleware("http")
    async def _log_request(request: Request, call_next):
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "(no route)")
        access.info("%s %s %d %.0fms", request.method, path, response.status_code,
                    (time.perf_counter() - started) * 1000)
        return response


def create_app(service: CollectorService) -> FastAPI:
    """The web app over ``service`` (which the caller opens and closes)."""
    app = FastAPI(title="NCCID collection service", version=__version__,
                  description="Collects pseudonymised records and de-identified images from "
                  "NCCID sites into the warehouse raw layout. See docs/api.md.",
                  openapi_url=None, docs_url=None, redoc_url=None)
    app.state.service = service
    _install_error_handlers(app)
    _install_access_log(app)
    if service.settings.api_docs:
        install_api_docs(app, active_caller)
    app.include_router(uploads)
    app.include_router(takeback)

    @app.get("/api/v1/health", response_model=HealthOut, name="health")
    def health() -> HealthOut:
        return HealthOut(status="ok", version=__version__)

    @app.post("/api/v1/session", response_model=SessionOut, name="sign_in")
    def sign_in(body: SignInRequest) -> SessionOut:
        return _session_out(accounts.sign_in(service.db, service.settings, body.username,
                                             body.password))

    @app.post("/api/v1/session/password", response_model=SessionOut, name="password_change")
    def change_password(body: PasswordChangeRequest,
                        caller: Annotated[Caller, Depends(session_caller)]) -> SessionOut:
        return _session_out(accounts.change_password(service.db, service.settings, caller,
                                                     body.old_password, body.new_password))

    @app.delete("/api/v1/session", status_code=204, name="sign_out")
    def sign_out(caller: Annotated[Caller, Depends(session_caller)],
                 credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]
                 ) -> Response:
        if credentials is not None:
            accounts.sign_out(service.db, service.settings, credentials.credentials, caller)
        return Response(status_code=204)

    @app.get("/api/v1/site/keys", response_model=SiteKeysOut, name="keys_fetch")
    def site_keys(caller: Annotated[Caller, Depends(active_caller)], response: Response) -> dict:
        keys = accounts.site_keys(service.db, caller.site, master_key=service.master_key)
        audit.record(service.db, service.settings.now(), caller.username, caller.site,
                     "keys_fetch", "ok")
        response.headers["Cache-Control"] = "no-store"
        return keys.to_json()

    return app
