"""The user's own settings: ``settings.toml`` in the per-user config folder.

Why TOML written by hand: the file holds a few plain strings, and writing them ourselves keeps
it readable for a support engineer without another dependency. A JSON string literal is a
valid TOML basic string, so values are quoted with :func:`json.dumps`. Writes are atomic, so
a crash never leaves half a settings file.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

from nccid_desktop.config.definitions import BY_NAME, problem_with
from nccid_desktop.config.policy import line_of
from nccid_desktop.errors import ConfigError
from nccid_desktop.paths import user_config_dir

SETTINGS_FILE = "settings.toml"


def settings_path() -> Path:
    return user_config_dir() / SETTINGS_FILE


def read_user_settings(path: Path | None = None) -> dict[str, str]:
    path = path or settings_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError):
        raise ConfigError(f"The settings file {path} cannot be read.") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"The settings file {path} cannot be read: {error}") from None
    if "password" in data:
        raise ConfigError("Passwords must not be kept in the settings file.")
    unknown = sorted(set(data) - set(BY_NAME))
    if unknown:
        raise ConfigError(f"The settings file {path} has unknown settings: {', '.join(unknown)}.")
    values: dict[str, str] = {}
    for key, value in data.items():
        line = line_of(text, key)
        where = f"{path}, line {line}" if line else str(path)
        if not isinstance(value, str):
            raise ConfigError(f"The settings file {where}: {key} must be text in quotes.")
        problem = problem_with(key, value.strip())
        if problem:
            raise ConfigError(f"The settings file {where}: {key} {problem}.")
        values[key] = value.strip()
    return values


def write_user_settings(values: Mapping[str, str], path: Path | None = None) -> Path:
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# NCCID Desktop settings for this user; the machine policy may override them."]
    lines += [f"{key} = {json.dumps(values[key], ensure_ascii=False)}"
              for key in BY_NAME if values.get(key)]
    temporary = path.with_name(path.name + ".part")
    temporary.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return path
