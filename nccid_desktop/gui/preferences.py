"""The user's settings and the machine policy that can lock them (Qt-free).

Why locks: hospital IT deploys one policy file per machine (server address, proxy, site,
hospital-number pattern); whatever it sets wins over the user's own choice and is shown as
"Set by your IT department". The policy is a JSON object at ``NCCID_POLICY_FILE`` (or
``policy.json`` beside the user settings); the user's own settings live in
``settings.json`` in the per-user config folder.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from nccid_desktop.errors import ConfigError
from nccid_desktop.paths import user_config_dir

FIELDS = ("server_url", "proxy", "site", "hospital_pattern")
LOCKED_NOTE = "Set by your IT department"


def _read(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ConfigError(f"The settings file {path.name} cannot be read. Ask IT to check it.") \
            from None
    if not isinstance(data, dict):
        raise ConfigError(f"The settings file {path.name} is not a settings object.")
    return {k: str(v) for k, v in data.items() if k in FIELDS and v is not None}


def policy_path() -> Path:
    override = os.environ.get("NCCID_POLICY_FILE")
    return Path(override) if override else user_config_dir() / "policy.json"


def settings_path() -> Path:
    return user_config_dir() / "settings.json"


@dataclass
class Preferences:
    user: dict[str, str] = field(default_factory=dict)
    policy: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls) -> Preferences:
        return cls(_read(settings_path()), _read(policy_path()))

    def value(self, name: str) -> str:
        return self.policy.get(name, self.user.get(name, ""))

    def locked(self, name: str) -> bool:
        return name in self.policy

    def update(self, changes: dict[str, str]) -> None:
        """Keep the user's changes to unlocked fields, after checking them; then save."""
        pattern = changes.get("hospital_pattern", "")
        if pattern and not self.locked("hospital_pattern"):
            try:
                re.compile(pattern)
            except re.error:
                raise ConfigError("The hospital number pattern is not a valid pattern "
                                  "(regular expression).") from None
        server = changes.get("server_url", "")
        if server and not self.locked("server_url") and not re.match(r"https?://", server):
            raise ConfigError("The server address must start with https:// (or http:// for a "
                              "local test service).")
        for name, value in changes.items():
            if name in FIELDS and not self.locked(name):
                self.user[name] = value.strip()
        path = settings_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.user, indent=2), encoding="utf-8")
