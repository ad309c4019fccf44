"""``python -m nccid_collector``: the same as the ``nccid-collector`` command."""

import sys

from nccid_collector.cli import main

sys.exit(main())
