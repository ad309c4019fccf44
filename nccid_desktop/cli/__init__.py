"""The ``nccid`` command: every core capability, for scripting and support.

Why discovery: each command group lives in its own module in this package and exposes
``register(subparsers)``; this module only finds them, parses, and turns errors into plain
messages and exit codes. A traceback never reaches the screen: it goes to the (scrubbed) log.

Why every command module imports only the standard library and tiny core modules at the top:
building the parser imports them all, and ``nccid --help`` must answer at once. What a command
needs (pydicom, openpyxl, requests, cryptography, the workflows, the transport) is imported
inside its handler, when that command runs (``tests/cli/test_cli_startup.py`` checks it).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence

from nccid_desktop import __version__
from nccid_desktop.errors import NccidError

log = logging.getLogger(__name__)

#: Exit code for a failure the app did not foresee (details in the log).
UNEXPECTED_EXIT = 70


def _command_modules() -> list[str]:
    return sorted(
        info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nccid",
        description="NCCID Desktop: validate, pseudonymise, de-identify and upload to the "
        "National COVID-19 Chest Imaging Database.",
    )
    parser.add_argument("--version", action="version", version=f"nccid {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in _command_modules():
        module = importlib.import_module(f"{__name__}.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # Only now: --help and --version answer without opening the log.
    from nccid_desktop.logsafe import configure_logging, scrub
    from nccid_desktop.paths import user_log_dir

    try:
        log_path = configure_logging(user_log_dir())
    except OSError:
        log_path = None
    try:
        return int(args.handler(args) or 0)
    except NccidError as error:
        print(f"nccid: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("nccid: cancelled.", file=sys.stderr)
        return 130
    except Exception as error:  # the last line of defence: explain, log, never show a traceback
        log.exception("Unexpected failure in 'nccid %s'", args.command)
        where = f" Details are in the log: {log_path}" if log_path else ""
        print(scrub(f"nccid: something unexpected went wrong ({type(error).__name__}).{where}"),
              file=sys.stderr)
        return UNEXPECTED_EXIT
