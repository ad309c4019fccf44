"""``nccid config show``: every setting, its effective value, where it came from, and locks.

Why: when a workstation sends to the wrong place or through the wrong proxy, the first
question a support engineer asks is "which setting won, and who set it?".
"""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    group = subparsers.add_parser("config", help="show the effective settings and their sources")
    actions = group.add_subparsers(dest="config_action", metavar="ACTION")
    actions.required = True
    show = actions.add_parser("show", help="each setting, its value and where it came from")
    show.add_argument("--format", choices=("text", "json"), default="text")
    show.set_defaults(handler=_show)


def _show(args: argparse.Namespace) -> int:
    from nccid_desktop import config
    from nccid_desktop.config.report import as_text, describe

    described = describe(config.resolve())
    print(json.dumps(described, indent=2) if args.format == "json" else as_text(described))
    return 0
