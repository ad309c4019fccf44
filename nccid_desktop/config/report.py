"""The effective configuration as plain data and as a table, for support (no secrets).

Why here: ``nccid config show``, the diagnostics bundle and the Settings page describe the
settings the same way; the only value that could hold a secret (a proxy address with a user
name and password) is shown without its credentials.
"""

from __future__ import annotations

from typing import Any

from nccid_desktop.config.definitions import DEFINITIONS, without_credentials
from nccid_desktop.config.layers import EffectiveSettings

HEADINGS = ("Setting", "Value", "Source")


def describe(effective: EffectiveSettings) -> dict[str, Any]:
    policy = effective.policy_file
    return {
        "policy_file": str(policy) if policy else None,
        "policy_file_present": bool(policy and policy.is_file()),
        "user_file": str(effective.user_file),
        "settings": [
            {"name": d.name, "label": d.label,
             "value": without_credentials(effective.values[d.name].value),
             "source": effective.source(d.name), "locked": effective.locked(d.name)}
            for d in DEFINITIONS
        ],
    }


def as_text(described: dict[str, Any]) -> str:
    rows = [(s["name"], s["value"] if s["value"] is not None else "(not set)",
             s["source"] + (", locked" if s["locked"] else "")) for s in described["settings"]]
    widths = [max(len(row[i]) for row in [*rows, HEADINGS]) for i in range(3)]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    present = "present" if described["policy_file_present"] else "not present"
    return "\n".join([line(HEADINGS), *(line(row) for row in rows), "",
                      f"Machine policy: {described['policy_file']} ({present})",
                      f"User settings:  {described['user_file']}"])
