"""Entry point of ``nccid-desktop``: sign in, then the main window; ``--demo`` and ``--self-test``.

Why a controller: the window comes and goes (sign out, sign in again) while the worker pool,
the settings and, in demo mode, the local collection service live as long as the app.
Demo mode starts the real collection service on 127.0.0.1 as a child process with a demo site
and account (:mod:`nccid_desktop.local_service`), and writes sample sheets and images
(made-up patients) to open from the pages.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import multiprocessing
import os
import sys
from collections.abc import Sequence

log = logging.getLogger(__name__)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nccid-desktop", description="NCCID Desktop")
    parser.add_argument("--demo", action="store_true",
                        help="run against an embedded local collection service with sample data")
    parser.add_argument("--self-test", nargs="?", const="all", metavar="CHECKS",
                        help="check this installation off screen and exit 0 or 1; optionally "
                        "only the comma-separated CHECKS (settings, qt-plugins, window, sheet, "
                        "dicom, certificates)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    multiprocessing.freeze_support()
    args = parse_args(argv)
    if args.self_test:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from nccid_desktop.logsafe import configure_logging
    from nccid_desktop.paths import user_log_dir

    with contextlib.suppress(OSError):
        configure_logging(user_log_dir())
    if args.self_test:
        from nccid_desktop.gui.self_test import run_self_test

        return run_self_test(args.self_test)
    from nccid_desktop.gui.controller import run_app

    return run_app(demo=args.demo)


if __name__ == "__main__":
    sys.exit(main())
