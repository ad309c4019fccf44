"""Allow ``python -m nccid_desktop`` as a synonym for the ``nccid`` command."""

from __future__ import annotations

import sys

from nccid_desktop.cli import main

sys.exit(main())
