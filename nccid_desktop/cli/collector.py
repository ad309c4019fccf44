"""``nccid collector ...``: a thin alias of the ``nccid-collector`` command.

Why a child process, not an import: the desktop package never imports the collection service
(see :mod:`nccid_desktop.local_service`). When the service is installed, this runs
``python -m nccid_collector`` with the same arguments and returns its exit status.
"""

from __future__ import annotations

import argparse
import subprocess

from nccid_desktop.errors import NotInstalledError
from nccid_desktop.local_service import NOT_INSTALLED, service_command, service_installed


def register(subparsers: argparse._SubParsersAction) -> None:
    alias = subparsers.add_parser(
        "collector", help="run and administer the collection service (the same as "
        "nccid-collector; 'nccid collector ACTION --help' for an action's options)")
    alias.add_argument("arguments", nargs=argparse.REMAINDER, metavar="ACTION ...",
                       help="serve, add-site, add-user, reset-password, with their options")
    alias.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    if not service_installed():
        raise NotInstalledError(NOT_INSTALLED)
    return subprocess.call(service_command(*args.arguments))
