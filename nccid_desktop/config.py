"""The user's settings: which service, as whom, through which proxy, with which site rules.

Why layered: a support engineer running the CLI passes options; a scripted job sets
``NCCID_SERVER`` / ``NCCID_USER`` / ``NCCID_PASSWORD``; a user saves the rest once in
``settings.toml`` in their config folder. Options win over the environment, which wins over the
file. (A later issue adds the machine policy, which will sit above all of them.) The password
is never stored in the file.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from nccid_desktop.errors import ConfigError
from nccid_desktop.paths import user_config_dir

SETTINGS_FILE = "settings.toml"
ENVIRONMENT = {"server_url": "NCCID_SERVER", "username": "NCCID_USER"}
LINKING_CHOICES = ("hospital", "nhs")


@dataclass(frozen=True)
class Settings:
    server_url: str | None = None
    username: str | None = None
    proxy: str | None = None
    ca_bundle: str | None = None
    site: str | None = None
    linking: str = "hospital"
    hospital_pattern: str | None = None

    def require_server(self) -> str:
        if not self.server_url:
            raise ConfigError("No collection service address is set. Use --server, set "
                              "NCCID_SERVER, or add server_url to the settings file.")
        return self.server_url

    def require_username(self) -> str:
        if not self.username:
            raise ConfigError("No user name is set. Use --user, set NCCID_USER, or add "
                              "username to the settings file.")
        return self.username


def settings_path() -> Path:
    return user_config_dir() / SETTINGS_FILE


def _from_file(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as error:
        raise ConfigError(f"The settings file {path} cannot be read: {error}") from error
    if "password" in data:
        raise ConfigError("Passwords must not be kept in the settings file.")
    unknown = sorted(set(data) - {f.name for f in fields(Settings)})
    if unknown:
        raise ConfigError(f"The settings file {path} has unknown settings: {', '.join(unknown)}.")
    return {k: v for k, v in data.items() if isinstance(v, str)}


def load(options: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None,
         path: Path | None = None) -> Settings:
    """Settings from ``options`` (None values ignored) > environment > the settings file."""
    environ = os.environ if environ is None else environ
    merged: dict[str, Any] = _from_file(path or settings_path())
    merged.update({field: environ[name] for field, name in ENVIRONMENT.items() if environ.get(name)})
    merged.update({k: v for k, v in (options or {}).items() if v is not None})
    settings = replace(Settings(), **{k: v for k, v in merged.items()
                                      if k in {f.name for f in fields(Settings)}})
    if settings.linking not in LINKING_CHOICES:
        raise ConfigError("The linking setting must be 'hospital' or 'nhs'.")
    if settings.ca_bundle and not Path(settings.ca_bundle).is_file():
        raise ConfigError(f"The CA bundle file {settings.ca_bundle} does not exist.")
    return settings


def password_from_environment(environ: Mapping[str, str] | None = None) -> str | None:
    return (os.environ if environ is None else environ).get("NCCID_PASSWORD") or None
