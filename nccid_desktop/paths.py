"""Per-user folders for logs, the upload journal and staging (platformdirs, overridable).

Why overridable: tests, support staff and locked-down machines need to point the app at
another folder; ``NCCID_HOME`` moves all of them under one root.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "NCCID Desktop"
APP_AUTHOR = "NCCID"


def _home_override() -> Path | None:
    home = os.environ.get("NCCID_HOME")
    return Path(home) if home else None


def user_data_dir() -> Path:
    override = _home_override()
    if override:
        return override / "data"
    import platformdirs  # on first use: the command parsers never load it

    return Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))


def user_log_dir() -> Path:
    override = _home_override()
    if override:
        return override / "logs"
    import platformdirs  # on first use: the command parsers never load it

    return Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR))


def user_config_dir() -> Path:
    override = _home_override()
    if override:
        return override / "config"
    import platformdirs  # on first use: the command parsers never load it

    return Path(platformdirs.user_config_dir(APP_NAME, APP_AUTHOR))
