"""``nccid diagnostics -o FILE.zip``: the support bundle, without patient data, keys or passwords.

Why a command: on a workstation where the app will not start (a broken policy, a missing
library), IT can still collect what support needs from a shell.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    command = subparsers.add_parser("diagnostics", help="save a support bundle (zip) without "
                                    "patient data, keys or passwords")
    command.add_argument("-o", "--output", type=Path, required=True, metavar="FILE.zip")
    command.set_defaults(handler=_diagnostics)


def _diagnostics(args: argparse.Namespace) -> int:
    from nccid_desktop.diagnostics import save_diagnostics

    output = args.output if args.output.suffix.lower() == ".zip" else \
        args.output.with_name(args.output.name + ".zip")
    path = save_diagnostics(output)
    print(f"Diagnostics saved to {path}. It holds no patient data, keys or passwords; "
          "send it to your IT or NCCID support contact.")
    return 0
