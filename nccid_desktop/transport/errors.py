"""Turning network failures and service answers into messages a nurse can act on.

Why a mapping in one place: "HTTPSConnectionPool(host=..., port=443): Max retries exceeded"
means nothing at a ward desk. Each failure the app can meet (server down, proxy refusing,
certificate not trusted, wrong password, locked account, expired password or session) gets
one sentence that says what happened and what to do, and a class the uploader can act on
(an expired session asks for a new sign-in; the queue stays).
"""

from __future__ import annotations

import requests

from nccid_desktop.errors import AuthError, TransportError


class SessionExpiredError(AuthError):
    """The sign-in has expired: sign in again; nothing queued is lost."""


class PasswordChangeRequiredError(AuthError):
    """The password has expired: the service allows only a password change."""


class AccountLockedError(AuthError):
    """Too many failed sign-ins: the account is locked for a while."""


class RefusedError(TransportError):
    """The service itself refused a whole request for what it holds (not for who sent it, nor
    for being busy, nor an address it does not serve): the same again would be refused again.
    ``code`` is the service's (docs/api.md)."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


#: What to do about an item the service refused, by the rule it named (docs/api.md).
REFUSAL_ADVICE: dict[str, str] = {
    "identifying_attribute": "It still holds patient details, so it was not sent. De-identify "
                             "it again with this version of NCCID Desktop; if this happens "
                             "again, tell IT.",
    "identifier_value": "It holds something that looks like an NHS/CHI or hospital number, so "
                        "it was not sent. Check where that value comes from before sending again.",
    "private_tag": "It still holds vendor-specific details, so it was not sent. De-identify it "
                   "again with this version of NCCID Desktop.",
    "overlay_or_curve": "It still holds an overlay, so it was not sent. De-identify it again "
                        "with this version of NCCID Desktop.",
    "not_pseudonymised": "It is not de-identified, so it was not sent. De-identify it first.",
    "not_marked_deidentified": "It is not marked as de-identified, so it was not sent. "
                               "De-identify it first.",
    "burned_in_text": "Images of this kind may show patient details in their pixels and are "
                      "not collected.",
    "submitting_centre": "Records must name your own site; check the site setting.",
}


def refusal_message(what: str, message: str, code: str | None = None) -> str:
    """One line for a refused item: which one, the service's words, what to do."""
    advice = REFUSAL_ADVICE.get(code or "")
    text = message.strip() or "The collection service did not accept it."
    return f"{what}: {text}" + (f" {advice}" if advice and advice not in text else "")


_AUTH_MESSAGES: dict[str, tuple[type[AuthError], str]] = {
    "bad_credentials": (AuthError, "The user name or password is not right. Check them and try again."),
    "locked": (AccountLockedError, "This account is locked after too many failed sign-ins. "
               "Wait a while or ask your site administrator to unlock it."),
    "session_expired": (SessionExpiredError, "Your sign-in has expired. Sign in again to carry "
                        "on; nothing waiting to be sent has been lost."),
    "password_change_required": (PasswordChangeRequiredError, "Your password has expired. "
                                 "Choose a new password to carry on."),
    "forbidden": (AuthError, "Your account is not allowed to do this. Ask your site "
                  "administrator for the right role."),
    "account_disabled": (AuthError, "This account has been disabled. Ask your site "
                         "administrator if you should still have access."),
}


#: Service faults that waiting will not mend: the service's own sentence is shown, not "busy".
_SERVICE_FAULTS: dict[str, str] = {
    "site_keys_unavailable": "The collection service cannot give out your site's key at the "
                             "moment. Tell the service administrator; your work is kept.",
}


def _service_detail(response: requests.Response) -> tuple[str, str]:
    try:
        payload = response.json()
    except ValueError:
        return "", ""
    if not isinstance(payload, dict):
        return "", ""
    detail = payload.get("detail")
    code = payload.get("code")
    return (detail if isinstance(detail, str) else "", code if isinstance(code, str) else "")


def raise_for_response(response: requests.Response) -> None:
    """Raise the right error for a non-2xx answer; return quietly for a 2xx one."""
    if response.status_code < 300:
        return
    detail, code = _service_detail(response)
    if code in _AUTH_MESSAGES:
        cls, fallback = _AUTH_MESSAGES[code]
        raise cls(detail or fallback)
    if response.status_code == 401:
        raise SessionExpiredError(_AUTH_MESSAGES["session_expired"][1])
    if response.status_code == 423:
        raise AccountLockedError(_AUTH_MESSAGES["locked"][1])
    if response.status_code == 403:
        raise AuthError(detail or _AUTH_MESSAGES["forbidden"][1])
    if response.status_code == 407:
        raise TransportError("The proxy server asked for a sign-in the app does not have. "
                             "Ask IT which proxy to use.")
    if code in _SERVICE_FAULTS:
        raise TransportError(f"{detail} Your work is kept." if detail else _SERVICE_FAULTS[code])
    if response.status_code in (408, 429) or response.status_code >= 500:
        raise TransportError("The collection service is busy or having trouble. Your work is "
                             "kept; try again in a few minutes.")
    if code and response.status_code not in (404, 405):
        raise RefusedError(detail or f"The collection service refused the request "
                           f"(HTTP {response.status_code}).", code)
    # not the service's own refusal (a proxy, another server, a wrong address): keep the work
    raise TransportError(detail or f"The collection service refused the request "
                         f"(HTTP {response.status_code}).")


def transport_error(error: requests.RequestException) -> TransportError:
    """A plain-English :class:`TransportError` for a failure to get any answer at all."""
    if isinstance(error, requests.exceptions.SSLError):
        return TransportError("The collection service's security certificate is not trusted by "
                              "this computer, so nothing was sent. Ask IT to check the "
                              "certificate or the CA bundle setting.")
    if isinstance(error, requests.exceptions.ProxyError):
        return TransportError("The proxy server refused the connection. Check the proxy "
                              "setting or ask IT.")
    if isinstance(error, requests.Timeout):
        return TransportError("The collection service did not answer in time. Your work is kept; "
                              "try again later.")
    if isinstance(error, requests.ConnectionError):
        return TransportError("Cannot reach the collection service. Check the network and the "
                              "server address; your work is kept and can be resumed.")
    if isinstance(error, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return TransportError("The server address is not a valid web address (it should start "
                              "with https://).")
    return TransportError("The request to the collection service failed.")
