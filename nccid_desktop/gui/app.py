"""Entry point of ``nccid-desktop`` (the window arrives with the desktop-app issue)."""

from __future__ import annotations

import sys


def main() -> int:
    print("The NCCID Desktop window is not built yet; use the 'nccid' command.", file=sys.stderr)
    return 1
