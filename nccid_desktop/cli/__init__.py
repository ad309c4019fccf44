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
import os
import pkgutil
import sys
from collections.abc import Sequence

from nccid_desktop import __version__
from nccid_desktop.errors import ConfigError, NccidError

log = logging.getLogger(__name__)

#: Exit code for a failure the app did not foresee (details in the log).
UNEXPECTED_EXIT = 70
#: Exit code when the reader of our output went away (``nccid scan ... | head``): what a
#: shell reports for a command ended by SIGPIPE (128 + 13), without a message.
CLOSED_PIPE_EXIT = 141

EXIT_CODES = """exit codes (the same in every command):
  0    done, nothing to report
  1    problems found (a sheet's errors, images held back or refused, work left to resume,
       the service unreachable or a disk full): the message says what to do
  2    bad input or usage: a file or folder that does not exist or cannot be read as what
       it should be, options that do not go together
  130  cancelled (Ctrl+C)
  141  the output was closed early (e.g. piped into head); nothing is said
  70   something unexpected went wrong; details are in the log"""


def _command_modules() -> list[str]:
    return sorted(
        info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nccid",
        description="NCCID Desktop: validate, pseudonymise, de-identify and upload to the "
        "National COVID-19 Chest Imaging Database.",
        epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter,
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
        code = int(args.handler(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush
        return code
    except BrokenPipeError:
        return _closed_pipe()
    except NccidError as error:
        print(f"nccid: {error}", file=sys.stderr)
        return exit_code_for(error)
    except KeyboardInterrupt:
        print("nccid: cancelled.", file=sys.stderr)
        return 130
    except Exception as error:  # the last line of defence: explain, log, never show a traceback
        log.exception("Unexpected failure in 'nccid %s'", args.command)
        where = f" Details are in the log: {log_path}" if log_path else ""
        print(scrub(f"nccid: something unexpected went wrong ({type(error).__name__}).{where}"),
              file=sys.stderr)
        return UNEXPECTED_EXIT


def exit_code_for(error: NccidError) -> int:
    """One code per kind of failure in every command (see ``EXIT_CODES``).

    Why here and not only on the classes: a settings, policy or key file that is missing or
    malformed is bad input to ``nccid`` (2), whatever other front ends make of it.
    """
    if isinstance(error, ConfigError):
        return 2
    return error.exit_code


def _closed_pipe() -> int:
    """The reader went away: end quietly, as Unix tools do.

    Why point stdout at /dev/null: whatever is still buffered would be flushed again when the
    interpreter exits, and fail again with "Exception ignored ... BrokenPipeError".
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout without a descriptor (tests capture it)
        pass
    return CLOSED_PIPE_EXIT
