"""``nccid config show``: every setting, its effective value, where it came from, and locks.

Why: when a workstation sends to the wrong place or through the wrong proxy, the first
question a support engineer asks is "which setting won, and who set it?".
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from nccid_desktop import config


def register(subparsers: argparse._SubParsersAction) -> None:
    group = subparsers.add_parser("config", help="show the effective settings and their sources")
    actions = group.add_subparsers(dest="config_action", metavar="ACTION")
    actions.required = True
    show = actions.add_parser("show", help="each setting, its value and where it came from")
    show.add_argument("--format", choices=("text", "json"), default="text")
    show.set_defaults(handler=_show)


def describe(effective: config.EffectiveSettings) -> dict[str, Any]:
    """The effective configuration as plain data (proxy credentials removed)."""
    policy = effective.policy_file
    return {
        "policy_file": str(policy) if policy else None,
        "policy_file_present": bool(policy and policy.is_file()),
        "user_file": str(effective.user_file),
        "settings": [
            {"name": d.name, "label": d.label,
             "value": config.without_credentials(effective.values[d.name].value),
             "source": effective.source(d.name), "locked": effective.locked(d.name)}
            for d in config.DEFINITIONS
        ],
    }


def as_text(described: dict[str, Any]) -> str:
    rows = [(s["name"], s["value"] if s["value"] is not None else "(not set)",
             s["source"] + (", locked" if s["locked"] else "")) for s in described["settings"]]
    widths = [max(len(row[i]) for row in [*rows, ("Setting", "Value", "Source")])
              for i in range(3)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(("Setting", "Value", "Source"), widths,
                                                   strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
              for row in rows]
    present = "present" if described["policy_file_present"] else "not present"
    lines += ["", f"Machine policy: {described['policy_file']} ({present})",
              f"User settings:  {described['user_file']}"]
    return "\n".join(lines)


def _show(args: argparse.Namespace) -> int:
    described = describe(config.resolve())
    print(json.dumps(described, indent=2) if args.format == "json" else as_text(described))
    return 0
