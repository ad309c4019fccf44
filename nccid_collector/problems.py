"""Refusals the service explains: an HTTP status, a stable code and a plain-English message.

Why one exception type: every refusal, whether from accounts, uploads or the checker, reaches
the client as ``{"detail", "code"}`` (docs/api.md) and the CLI prints the same message, so the
core raises :class:`ServiceProblem` and only the web layer turns it into a response.
"""

from __future__ import annotations

from nccid_desktop.errors import NccidError


class ServiceProblem(NccidError):
    """A refusal. ``audit_user``/``audit_site`` name who was refused when the raiser knows it
    better than the request does (a sign-in); ``audit_reason`` replaces ``code`` in the audit
    trail when it says more (``locked_out`` behind a plain ``bad_credentials``)."""

    def __init__(self, status: int, code: str, message: str, *, audit_user: str | None = None,
                 audit_site: str | None = None, audit_reason: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.audit_user = audit_user
        self.audit_site = audit_site
        self.audit_reason = audit_reason

    def naming(self, user: str | None, site: str | None, reason: str | None = None
               ) -> ServiceProblem:
        """This problem, saying who was refused and why (for the audit trail)."""
        self.audit_user, self.audit_site = user, site
        self.audit_reason = reason or self.audit_reason
        return self


def bad_credentials() -> ServiceProblem:
    return ServiceProblem(401, "bad_credentials",
                          "The user name or password is wrong. Check them and try again.")


def session_expired() -> ServiceProblem:
    return ServiceProblem(401, "session_expired",
                          "Your session has ended. Please sign in again.")


def account_disabled() -> ServiceProblem:
    return ServiceProblem(403, "account_disabled", "This account has been disabled. Ask your "
                          "site administrator if you should still have access.")


def forbidden(what: str) -> ServiceProblem:
    return ServiceProblem(403, "forbidden", f"Your account is not allowed to {what}.")
