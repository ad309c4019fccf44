"""Refusals the service explains: an HTTP status, a stable code and a plain-English message.

Why one exception type: every refusal, whether from accounts, uploads or the checker, reaches
the client as ``{"detail", "code"}`` (docs/api.md) and the CLI prints the same message, so the
core raises :class:`ServiceProblem` and only the web layer turns it into a response.
"""

from __future__ import annotations

from nccid_desktop.errors import NccidError


class ServiceProblem(NccidError):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def bad_credentials() -> ServiceProblem:
    return ServiceProblem(401, "bad_credentials",
                          "The user name or password is wrong. Check them and try again.")


def session_expired() -> ServiceProblem:
    return ServiceProblem(401, "session_expired",
                          "Your session has ended. Please sign in again.")


def forbidden(what: str) -> ServiceProblem:
    return ServiceProblem(403, "forbidden", f"Your account is not allowed to {what}.")
