"""``nccid password change``: the app's Change password, for a terminal.

Why it signs in by itself rather than through the shared session: an expired password (or
one an administrator set) must be changeable here, and the shared sign-in refuses to go on
until it is changed. The passwords are never options (they would sit in the shell history):
the current one comes from ``NCCID_PASSWORD`` or a prompt, the new one from
``NCCID_NEW_PASSWORD`` or two prompts. The use case is
:mod:`nccid_desktop.workflows.password_change`, the same as the app's.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import sys

from nccid_desktop.errors import AuthError, NccidError


def register(subparsers: argparse._SubParsersAction) -> None:
    password = subparsers.add_parser("password", help="change your password")
    actions = password.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    change = actions.add_parser(
        "change", help="change your password (current one from NCCID_PASSWORD or a prompt, "
        "the new one from NCCID_NEW_PASSWORD or two prompts)")
    from nccid_desktop.cli._session import connection_options

    connection_options(change)
    change.set_defaults(handler=_change)


def _ask(prompt: str) -> str:
    if not sys.stdin.isatty():
        raise AuthError("No password given: set NCCID_PASSWORD and NCCID_NEW_PASSWORD, or run "
                        "this in a terminal.")
    return getpass.getpass(prompt)


def _change(args: argparse.Namespace) -> int:
    from nccid_desktop import config
    from nccid_desktop.transport.client import CollectorClient
    from nccid_desktop.transport.http import http_settings_for
    from nccid_desktop.workflows.password_change import (
        FORCED_REASON,
        change_password,
        check_entries,
    )

    settings = config.load({"server_url": args.server, "username": args.user,
                            "proxy": args.proxy, "ca_bundle": args.ca_bundle})
    username = settings.require_username()
    client = CollectorClient(settings.require_server(), http_settings_for(settings))
    current = config.password_from_environment()
    if current is None:
        current = _ask(f"Current password for {username}: ")
    signed = client.sign_in(username, current)
    if signed.password_change_required:
        print(FORCED_REASON, file=sys.stderr)
    new = os.environ.get("NCCID_NEW_PASSWORD")
    again = new
    if new is None:
        new = _ask("New password: ")
        again = _ask("New password again: ")
    check_entries(current, new, again or "")
    try:
        change_password(client, current, new, again or "")
    finally:
        with contextlib.suppress(NccidError):  # the answer that matters is the change's
            client.sign_out()
    print(f"Password changed for {username}. Use the new password from now on.")
    return 0
