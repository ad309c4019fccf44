"""Settings for NCCID Desktop: built-in defaults, the user's file, the environment, options and
the machine policy that hospital IT can lock (see :mod:`nccid_desktop.config.layers`)."""

from __future__ import annotations

from nccid_desktop.config.definitions import (
    BY_NAME,
    DEFINITIONS,
    LINKING_CHOICES,
    POLICY_NAMES,
    SettingDefinition,
    without_credentials,
)
from nccid_desktop.config.layers import (
    LOCKED_NOTE,
    SOURCE_LABELS,
    EffectiveSettings,
    EffectiveValue,
    Settings,
    Source,
    load,
    password_from_environment,
    resolve,
    save_user_settings,
)
from nccid_desktop.config.policy import Policy, default_policy_path, policy_path, read_policy
from nccid_desktop.config.user_file import SETTINGS_FILE, read_user_settings, settings_path

__all__ = [
    "BY_NAME", "DEFINITIONS", "LINKING_CHOICES", "LOCKED_NOTE", "POLICY_NAMES", "SETTINGS_FILE",
    "SOURCE_LABELS",
    "EffectiveSettings", "EffectiveValue", "Policy", "SettingDefinition", "Settings", "Source",
    "default_policy_path", "load", "password_from_environment", "policy_path", "read_policy",
    "read_user_settings", "resolve", "save_user_settings", "settings_path", "without_credentials",
]
