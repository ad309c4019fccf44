"""``nccid doctor``: check the road to the collection service, one plain-English verdict a step.

Why a command as well as a button: IT staff diagnose from a remote shell, often on a machine
where nobody is signed in. The password for the sign-in step comes from ``NCCID_PASSWORD`` or a
prompt (``--sign-in``), never an option, so it cannot end up in shell history.
"""

from __future__ import annotations

import argparse
import getpass
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    doctor = subparsers.add_parser("doctor", help="check the network path to the service")
    doctor.add_argument("--server", help="collection service address (default: the settings)")
    doctor.add_argument("--user", help="user name for the sign-in test (or NCCID_USER)")
    doctor.add_argument("--proxy", help='proxy URL, "system" or "none" (default: the settings)')
    doctor.add_argument("--ca-bundle", help="extra trusted CA certificates (PEM file)")
    doctor.add_argument("--sign-in", action="store_true",
                        help="also test signing in (password from NCCID_PASSWORD or a prompt)")
    doctor.add_argument("--timeout", type=float, default=10.0, help="seconds per step (10)")
    doctor.set_defaults(handler=_doctor)


def _password(args: argparse.Namespace, username: str | None) -> str | None:
    from nccid_desktop import config

    password = config.password_from_environment()
    if password or not args.sign_in or not username:
        return password
    if not sys.stdin.isatty():
        return None
    return getpass.getpass(f"Password for {username}: ") or None


def _doctor(args: argparse.Namespace) -> int:
    from nccid_desktop import config
    from nccid_desktop.doctor import diagnose

    effective = config.resolve({"server_url": args.server, "username": args.user,
                                "proxy": args.proxy, "ca_bundle": args.ca_bundle})
    username = effective.value("username") or None
    report = diagnose(effective, username=username, password=_password(args, username),
                      timeout=args.timeout)
    print("\n".join(report.lines()))
    print("All checks passed." if report.ok else "Some checks failed: see above.")
    return 0 if report.ok else 1
