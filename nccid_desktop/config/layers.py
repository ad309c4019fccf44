"""The effective settings: each value, where it came from, and whether IT has locked it.

Why this order (highest first):

1. a **locked** machine policy value: IT's decision for the machine; nothing overrides it;
2. a command-line **option** (``--server``): what the person typing asked for, now;
3. the **environment** (``NCCID_SERVER``, ``NCCID_USER``): scripted jobs;
4. the **user**'s own ``settings.toml`` (the Settings page writes it);
5. an **unlocked** policy value: IT's default for the machine, which a user may change;
6. the built-in **default**.

The password is never a setting: it comes from ``NCCID_PASSWORD`` or a prompt only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from nccid_desktop.config.definitions import BY_NAME, DEFINITIONS, problem_with
from nccid_desktop.config.policy import Policy, read_policy
from nccid_desktop.config.user_file import read_user_settings, settings_path, write_user_settings
from nccid_desktop.errors import ConfigError

Source = Literal["policy", "option", "environment", "user", "default"]
LOCKED_NOTE = "Set by your IT department"
SOURCE_LABELS: dict[str, str] = {
    "policy": "the machine policy", "option": "the command line",
    "environment": "an environment variable", "user": "your own settings",
    "default": "the built-in default"}


@dataclass(frozen=True)
class Settings:
    """The values the app acts on. ``proxy`` is an explicit proxy address or None; None with
    ``direct`` False means the environment's or the system's proxy, ``direct`` True means none."""

    server_url: str | None = None
    username: str | None = None
    proxy: str | None = None
    ca_bundle: str | None = None
    site: str | None = None
    linking: str = "hospital"
    hospital_pattern: str | None = None
    direct: bool = False
    #: Widens a negative patient's image window past the test (the guidance: 4 weeks before).
    negative_window_days_after: int = 0
    #: the opt-out list file (None: no list in force)
    opt_out_list: str | None = None

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


@dataclass(frozen=True)
class EffectiveValue:
    name: str
    value: str | None
    source: Source
    locked: bool = False


@dataclass(frozen=True)
class EffectiveSettings:
    values: dict[str, EffectiveValue]
    policy_file: Path | None
    user_file: Path

    def value(self, name: str) -> str:
        return self.values[name].value or ""

    def locked(self, name: str) -> bool:
        return self.values[name].locked

    def source(self, name: str) -> Source:
        return self.values[name].source

    def settings(self) -> Settings:
        """The values as :class:`Settings`, after checking the CA bundle file exists."""
        proxy = self.value("proxy")
        ca_bundle = self.value("ca_bundle") or None
        if ca_bundle and not Path(ca_bundle).is_file():
            by = " (set by the machine policy)" if self.source("ca_bundle") == "policy" else ""
            raise ConfigError(f"The CA bundle file {ca_bundle}{by} does not exist.")
        return Settings(
            server_url=self.value("server_url") or None,
            username=self.value("username") or None,
            proxy=None if proxy.lower() in ("", "system", "none") else proxy,
            ca_bundle=ca_bundle,
            site=self.value("site").upper() or None,
            linking=self.value("linking") or "hospital",
            hospital_pattern=self.value("hospital_pattern") or None,
            direct=proxy.lower() == "none",
            negative_window_days_after=int(self.value("negative_window_days_after") or 0),
            opt_out_list=self.value("opt_out_list") or None,
        )


def _checked(layer: dict[str, str], where: str) -> dict[str, str]:
    for name, value in layer.items():
        problem = problem_with(name, value)
        if problem:
            raise ConfigError(f"The {BY_NAME[name].label.lower()} setting {where} {problem}.")
    return layer


def resolve(options: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None,
            path: Path | None = None, policy: Policy | None = None) -> EffectiveSettings:
    """Every setting with its effective value, source and lock (see the module docstring)."""
    environ = os.environ if environ is None else environ
    policy = read_policy() if policy is None else policy
    user = read_user_settings(path)
    from_environment = _checked({d.name: environ[d.environment].strip() for d in DEFINITIONS
                                 if d.environment and environ.get(d.environment, "").strip()},
                                "from the environment")
    from_options = _checked({k: str(v).strip() for k, v in (options or {}).items()
                             if v is not None and k in BY_NAME}, "given on the command line")
    layers: list[tuple[Source, dict[str, str]]] = [
        ("option", from_options), ("environment", from_environment), ("user", user),
        ("policy", policy.values)]
    values: dict[str, EffectiveValue] = {}
    for definition in DEFINITIONS:
        name = definition.name
        if name in policy.locked:
            values[name] = EffectiveValue(name, policy.values[name], "policy", locked=True)
            continue
        found = next(((source, layer[name]) for source, layer in layers if name in layer), None)
        source, value = found or ("default", definition.default)
        values[name] = EffectiveValue(name, value, source)
    return EffectiveSettings(values, policy.path, path or settings_path())


def load(options: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None,
         path: Path | None = None, policy: Policy | None = None) -> Settings:
    """The settings to act on: :func:`resolve`, checked and converted to :class:`Settings`."""
    return resolve(options, environ, path, policy).settings()


def save_user_settings(changes: Mapping[str, str | None], path: Path | None = None,
                       policy: Policy | None = None) -> dict[str, str]:
    """Keep the user's changes (an empty value clears one); refuse any change to a locked one."""
    policy = read_policy() if policy is None else policy
    saved = read_user_settings(path)
    for name, raw in changes.items():
        if name not in BY_NAME:
            raise ConfigError(f'"{name}" is not a setting that can be saved.')
        value = (raw or "").strip()
        if name in policy.locked:
            if value != policy.values[name]:
                raise ConfigError(f"The {BY_NAME[name].label.lower()} is set by your IT "
                                  "department and cannot be changed here.")
            continue
        problem = problem_with(name, value)
        if problem:
            raise ConfigError(f"The {BY_NAME[name].label.lower()} {problem}.")
        if value:
            saved[name] = value
        else:
            saved.pop(name, None)
    write_user_settings(saved, path)
    return saved


def password_from_environment(environ: Mapping[str, str] | None = None) -> str | None:
    return (os.environ if environ is None else environ).get("NCCID_PASSWORD") or None
