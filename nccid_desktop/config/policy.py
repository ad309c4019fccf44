"""The machine policy: settings hospital IT deploys to every workstation, optionally locked.

Why a file and not the registry: one TOML file is what SCCM, Intune, Group Policy (file
preferences) and Linux configuration management can all drop in place, and what a support
engineer can read. It lives where users cannot write: ``%ProgramData%\\NCCID Desktop\\policy.toml``
on Windows, ``/etc/nccid-desktop/policy.toml`` elsewhere; ``NCCID_POLICY_FILE`` points at another
file (tests, or IT trying a policy out).

Format (see ``packaging/policy.example.toml``): top-level ``key = "value"`` lines for
server_url, site, proxy, ca_bundle, hospital_pattern, linking, negative_window_days_after
and the size limits (max_image_size, max_compression_ratio, max_workbook_part_size,
max_shared_strings_size, max_sheet_cells), and ``locked = [...]``
naming the keys users may not change. A key that is set but not locked is only a default.
A mistake (bad TOML, an unknown key, a value of the wrong kind, locking a key it does not
set) stops the app with a message naming the file and the line, because guessing what IT
meant could send data to the wrong place.
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from nccid_desktop.config.definitions import POLICY_NAMES, problem_with
from nccid_desktop.errors import ConfigError

POLICY_ENVIRONMENT = "NCCID_POLICY_FILE"
LOCKED_KEY = "locked"


def default_policy_path() -> Path:
    if sys.platform == "win32":
        program_data = os.environ.get("PROGRAMDATA") or r"C:\ProgramData"
        return Path(program_data) / "NCCID Desktop" / "policy.toml"
    return Path("/etc/nccid-desktop/policy.toml")


def policy_path() -> Path:
    override = os.environ.get(POLICY_ENVIRONMENT)
    return Path(override) if override else default_policy_path()


@dataclass(frozen=True)
class Policy:
    """What the policy file sets (``values``) and which of those users may not change."""

    values: dict[str, str] = field(default_factory=dict)
    locked: frozenset[str] = frozenset()
    path: Path | None = None


def line_of(text: str, key: str) -> int | None:
    """The line (1-based) where ``key`` is assigned, so an error can point IT at it."""
    pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return None


def _problem(path: Path, text: str, key: str, message: str) -> ConfigError:
    line = line_of(text, key)
    where = f"{path}, line {line}" if line else str(path)
    return ConfigError(f"The machine policy file {where}: {message} Ask IT to correct it.")


def parse_policy(text: str, path: Path) -> Policy:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"The machine policy file {path} is not valid TOML: {error}. "
                          "Ask IT to correct it.") from None
    locked_raw = data.pop(LOCKED_KEY, [])
    values: dict[str, str] = {}
    for key, value in data.items():
        if key not in POLICY_NAMES:
            allowed = ", ".join(POLICY_NAMES)
            raise _problem(path, text, key, f'"{key}" is not a policy setting (allowed: '
                           f"{allowed}, and locked).")
        if not isinstance(value, str):
            raise _problem(path, text, key, f'"{key}" must be text in quotes.')
        problem = problem_with(key, value.strip())
        if problem:
            raise _problem(path, text, key, f'"{key}" {problem}.')
        values[key] = value.strip()
    if not isinstance(locked_raw, list) or not all(isinstance(k, str) for k in locked_raw):
        raise _problem(path, text, LOCKED_KEY, 'locked must be a list of setting names, for '
                       'example locked = ["server_url", "proxy"].')
    for key in locked_raw:
        if key not in values:
            raise _problem(path, text, LOCKED_KEY, f'locked names "{key}", which the policy '
                           "does not set.")
    return Policy(values, frozenset(locked_raw), path)


def read_policy(path: Path | None = None) -> Policy:
    """The policy at ``path`` (default: :func:`policy_path`); an absent file is an empty policy."""
    path = path or policy_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Policy(path=path)
    except (OSError, UnicodeDecodeError) as error:
        reason = "is not UTF-8 text" if isinstance(error, UnicodeDecodeError) else "cannot be read"
        raise ConfigError(f"The machine policy file {path} {reason}. Ask IT to check it.") \
            from None
    return parse_policy(text, path)
