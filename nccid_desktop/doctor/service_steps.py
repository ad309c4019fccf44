"""The doctor's last steps: does the NCCID service answer, and does signing in work.

Why apart from the network path (:mod:`.path_steps`): these go through the app's own HTTP
client (:mod:`nccid_desktop.transport`), with the proxy and CA settings the uploads use, so a
pass here means an upload would get through too.
"""

from __future__ import annotations

import logging

from nccid_desktop.doctor.path_steps import Target
from nccid_desktop.doctor.report import Check, fail
from nccid_desktop.errors import AuthError, NccidError
from nccid_desktop.transport.client import CollectorClient
from nccid_desktop.transport.http import http_settings_for

log = logging.getLogger(__name__)


def service_client(target: Target) -> CollectorClient:
    http = http_settings_for(target.settings, connect_timeout=target.timeout,
                             read_timeout=target.timeout, max_attempts=1)
    return CollectorClient(target.url, http)


def check_service(client: CollectorClient) -> Check:
    try:
        health = client.health()
    except NccidError as error:
        raise fail("Service", str(error), "If the address is right, ask IT whether a proxy or "
                   "firewall blocks it, or the NCCID service desk whether it is up.") from None
    if not isinstance(health, dict) or health.get("status") != "ok":
        raise fail("Service", "Something answered, but not the NCCID collection service.",
                   "Check the server address with IT.")
    return Check("Service", "pass", "The NCCID collection service answered (version "
                 f"{health.get('version', 'unknown')}).")


def check_sign_in(client: CollectorClient, username: str | None, password: str | None) -> Check:
    if not password or not username:
        return Check("Sign-in", "skip", "Not tested: give a user name and password to test it.")
    try:
        signed = client.sign_in(username, password)
    except AuthError as error:
        raise fail("Sign-in", str(error), "If your password is right, ask the NCCID service "
                   "desk to check your account.") from None
    except NccidError as error:
        raise fail("Sign-in", str(error)) from None
    try:
        client.sign_out()
    except NccidError:
        log.info("doctor: sign-out after the sign-in test failed")
    return Check("Sign-in", "pass", f"Signed in as {signed.username} (site {signed.site}).")
