"""Every refusal the web app answers goes to the audit trail, with who, where from and why.

Why in one place: refusals come from everywhere (a forged token, a wrong role, a bad body, an
unknown path, an instance or record the checks refuse) and each must leave a row: time, user
(or ``(unknown)``), site, route, reason and source address, rate-limited by
:func:`nccid_collector.audit.refusal`. Auditing never turns a refusal into a server error.
"""

from __future__ import annotations

import logging

from fastapi.concurrency import run_in_threadpool
from starlette.requests import Request

from nccid_collector import accounts, audit
from nccid_collector.problems import ServiceProblem

log = logging.getLogger(__name__)


def route_of(request: Request) -> tuple[str, str]:
    """The action (the route's name) and the route ("POST /api/v1/summary") of a request."""
    route = request.scope.get("route")
    path = getattr(route, "path", None) or "(no route)"
    return getattr(route, "name", None) or "request", f"{request.method} {path}"[:80]


def address_of(request: Request) -> str | None:
    return request.client.host if request.client else None


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _who(request: Request, problem: ServiceProblem | None) -> tuple[str | None, str | None]:
    if problem is not None and problem.audit_user:
        return problem.audit_user, problem.audit_site
    token = _bearer(request)
    owner = accounts.token_owner(request.app.state.service.db, token) if token else None
    return owner if owner is not None else (None, None)


def _record(request: Request, reason: str, problem: ServiceProblem | None) -> None:
    service = request.app.state.service
    try:
        user, site = _who(request, problem)
        action, route = route_of(request)
        audit.refusal(service.db, service.settings.now(), user, site, action, reason,
                      route=route, address=address_of(request))
    except Exception as exc:  # the refusal is answered whatever happens to its audit row
        log.error("A refusal could not be audited (%s).", type(exc).__name__)


async def audit_refusal(request: Request, code: str, problem: ServiceProblem | None = None
                        ) -> None:
    """Audit a refused request (off the event loop: it writes to the database)."""
    reason = (problem.audit_reason if problem is not None else None) or code
    await run_in_threadpool(_record, request, reason, problem)


def audit_item_refusals(request: Request, user: str, site: str,
                        reasons: list[str]) -> None:
    """Audit the refused items of an answered upload (one row per reason, repeats counted)."""
    service = request.app.state.service
    action, route = route_of(request)
    for reason in reasons:
        try:
            audit.refusal(service.db, service.settings.now(), user, site, action, reason,
                          route=route, address=address_of(request))
        except Exception as exc:
            log.error("A refusal could not be audited (%s).", type(exc).__name__)
