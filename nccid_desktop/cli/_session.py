"""What every command that talks to the collection service shares: sign-in, progress, reports.

Why a private module: ``upload``, ``resume``, ``check`` and ``summary`` share one sign-in
(server and user from options, environment or settings; the password from ``NCCID_PASSWORD``
or a prompt, never an option), one way of showing progress and one way of reporting what was
sent. The leading underscore keeps the command discovery in :mod:`nccid_desktop.cli` from
treating it as a command group. Only the standard library is imported at the top: the rest
is imported when a command runs, so ``nccid --help`` stays quick.
"""

from __future__ import annotations

import argparse
import getpass
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from nccid_desktop.errors import AuthError

if TYPE_CHECKING:
    from nccid_desktop.keys import SiteKeys
    from nccid_desktop.optouts import OptOutList
    from nccid_desktop.pseudonym import LinkingIdentifier
    from nccid_desktop.tasks import Progress
    from nccid_desktop.transport.outbox import ItemKind, Outbox
    from nccid_desktop.transport.uploader import UploadReport

LINKING_CHOICES = ("hospital", "nhs")


def opt_out_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--opt-out-list", metavar="FILE",
                        help="NHS/CHI numbers (text, one a line, or CSV with an NHS/CHI column) "
                        "of patients who opted out: never pseudonymised or sent (default: the "
                        "opt_out_list setting)")


def load_opt_outs(option: str | None, setting: str | None = None) -> OptOutList | None:
    """The opt-out lists named by the option and the setting, together (None when neither
    names one). Both apply: a list locked by machine policy is never replaced by another."""
    from pathlib import Path

    from nccid_desktop.optouts import load_opt_out_list, merged

    paths = list(dict.fromkeys(p for p in (option, setting) if p))
    return merged([load_opt_out_list(Path(p)) for p in paths]) if paths else None


def configured_opt_outs(args: argparse.Namespace) -> OptOutList | None:
    """For commands that do not sign in: the option plus the settings' (and policy's) list."""
    from nccid_desktop import config

    option = getattr(args, "opt_out_list", None)
    return load_opt_outs(option, config.load({}).opt_out_list)


def connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", help="collection service address (or NCCID_SERVER)")
    parser.add_argument("--user", help="user name (or NCCID_USER); password from NCCID_PASSWORD "
                        "or a prompt")
    parser.add_argument("--proxy", help="proxy URL (default: environment, then the system's)")
    parser.add_argument("--ca-bundle", help="extra trusted CA certificates (PEM file)")


class Session:
    """Settings, a signed-in client and the way to sign in again when the session expires."""

    def __init__(self, args: argparse.Namespace) -> None:
        from nccid_desktop import config
        from nccid_desktop.transport.client import CollectorClient
        from nccid_desktop.transport.http import http_settings_for

        self.settings = config.load({"server_url": args.server, "username": args.user,
                                     "proxy": args.proxy, "ca_bundle": args.ca_bundle,
                                     "linking": getattr(args, "linking", None)})
        self._opt_out_option: str | None = getattr(args, "opt_out_list", None)
        self.client = CollectorClient(self.settings.require_server(),
                                      http_settings_for(self.settings))
        self._password = config.password_from_environment()
        self.sign_in()

    @property
    def linking(self) -> LinkingIdentifier:
        return "nhs" if self.settings.linking == "nhs" else "hospital"

    def sign_in(self) -> None:
        from nccid_desktop.transport.errors import PasswordChangeRequiredError

        username = self.settings.require_username()
        if self._password is None:
            if not sys.stdin.isatty():
                raise AuthError("No password: set NCCID_PASSWORD or run this in a terminal.")
            self._password = getpass.getpass(f"Password for {username}: ")
        signed_in = self.client.sign_in(username, self._password)
        if signed_in.password_change_required:
            raise PasswordChangeRequiredError("Your password has expired. Choose a new one in "
                                              "NCCID Desktop, then run this again.")

    def keys(self) -> SiteKeys:
        return self.client.site_keys()

    def opt_outs(self) -> OptOutList | None:
        return load_opt_outs(self._opt_out_option, self.settings.opt_out_list)


def printer() -> Callable[[Progress], None]:
    """Progress on one terminal line (nothing when the output is not a terminal)."""
    def show(progress: Progress) -> None:
        if sys.stderr.isatty():
            percent = f"{100 * progress.fraction:3.0f}% " if progress.fraction is not None else ""
            print(f"\r{percent}{progress.message}", end="", file=sys.stderr, flush=True)
    return show


def end_progress_line() -> None:
    if sys.stderr.isatty():
        print(file=sys.stderr)


@contextmanager
def pause_on_ctrl_c(run: Any) -> Iterator[list[bool]]:
    """While sending: the first Ctrl+C asks ``run`` to pause after the batch in flight (the
    job stays journaled for ``nccid resume``); a second one stops at once. The yielded list
    holds True once Ctrl+C was pressed."""
    pressed: list[bool] = []

    def interrupted(_signum: int, _frame: object) -> None:
        if pressed:
            raise KeyboardInterrupt
        pressed.append(True)
        run.request_pause()
        print("\nnccid: stopping after the batch in flight (Ctrl+C again to stop at once)…",
              file=sys.stderr, flush=True)

    try:
        previous = signal.signal(signal.SIGINT, interrupted)
    except ValueError:  # not the main thread: leave Ctrl+C as it is
        yield pressed
        return
    try:
        yield pressed
    finally:
        signal.signal(signal.SIGINT, previous)


def print_report(report: UploadReport, outbox: Outbox,
                 kinds: tuple[ItemKind, ...] = ("record", "image")) -> int:
    """What was sent, what was refused and what is left; the exit code (1 if anything is)."""
    end_progress_line()
    if "record" in kinds:
        print(f"Records: {report.records_stored} stored, {report.records_unchanged} already up "
              "to date.")
    if "image" in kinds:
        print(f"Images: {report.images_stored} stored, {report.images_already_held} already "
              "held.")
    if report.deferred:
        print(f"{report.deferred} images could not be taken by the service just now (its "
              "storage is unavailable); they are kept and sent next time.")
    for notice in report.notices:
        print(f"Held back by the service: {notice}")
    for problem in report.problems:
        print(f"Not accepted: {problem}")
    left = sum(outbox.count_pending(kind) for kind in kinds)
    if "image" in kinds:
        left += outbox.jobs.files_to_do()
    if left:
        print(f"{left} items are still waiting; run 'nccid resume' to send them.")
    return 1 if report.problems or left else 0
