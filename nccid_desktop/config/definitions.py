"""What can be set, by whom, and what a valid value looks like: the settings as data.

Why a table: the policy reader, the user settings file, the CLI's ``config show``, the
diagnostics bundle and the Settings page all need the same facts about each setting (its
label, whether IT may set it, its environment variable, how to check a value). Keeping them
in one table means a new setting is one new row, not five edits.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from nccid_desktop.errors import KeyFileError
from nccid_desktop.keys import check_site_code
from nccid_desktop.limits import count_problem, size_problem

LINKING_CHOICES = ("hospital", "nhs")
#: Proxy values that are not an address: the system's proxy (the default), or none at all.
PROXY_KEYWORDS = ("system", "none")

Validator = Callable[[str], str | None]


def _check_server(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return ("must be a web address starting with https:// (or http:// for a local test "
                "service), for example https://nccid.example.nhs.uk")
    return None


def _check_proxy(value: str) -> str | None:
    if value.lower() in PROXY_KEYWORDS:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https", "socks5", "socks5h") or not parts.hostname:
        return ('must be "system", "none" or a proxy address such as http://proxy.trust.nhs.uk:8080')
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return "has a port that is not a number"
    return None


def _check_site(value: str) -> str | None:
    try:
        check_site_code(value)
    except KeyFileError:
        return "must be 2 to 16 letters or digits, for example RSH"
    return None


def _check_linking(value: str) -> str | None:
    return None if value in LINKING_CHOICES else 'must be "hospital" or "nhs"'


def _check_pattern(value: str) -> str | None:
    try:
        re.compile(value)
    except re.error:
        return "is not a valid pattern (regular expression), for example RR[0-9]{8}"
    return None


#: Largest widening of a negative patient's image window past the test (days).
MAX_NEGATIVE_DAYS_AFTER = 28


def _check_days_after(value: str) -> str | None:
    if value.isascii() and value.isdigit() and int(value) <= MAX_NEGATIVE_DAYS_AFTER:
        return None
    return f"must be a whole number of days from 0 to {MAX_NEGATIVE_DAYS_AFTER}, for example 7"


def _check_nothing(_value: str) -> str | None:
    return None


@dataclass(frozen=True)
class SettingDefinition:
    name: str
    label: str
    default: str | None
    policy: bool
    environment: str | None
    check: Validator


DEFINITIONS: tuple[SettingDefinition, ...] = (
    SettingDefinition("server_url", "Collection service address", None, True, "NCCID_SERVER",
                      _check_server),
    SettingDefinition("username", "User name", None, False, "NCCID_USER", _check_nothing),
    SettingDefinition("site", "Site code", None, True, None, _check_site),
    SettingDefinition("proxy", "Proxy", "system", True, None, _check_proxy),
    SettingDefinition("ca_bundle", "Extra trusted CA certificates (PEM file)", None, True, None,
                      _check_nothing),
    SettingDefinition("hospital_pattern", "Hospital number pattern", None, True, None,
                      _check_pattern),
    SettingDefinition("linking", "Identifier PACS puts in PatientID", "hospital", True, None,
                      _check_linking),
    SettingDefinition("negative_window_days_after",
                      "Days after a negative test whose images are also sent", "0", True, None,
                      _check_days_after),
    # The site's opt-out list (nccid_desktop.optouts): a text or CSV file of NHS/CHI numbers
    # whose patients are never pseudonymised or sent. IT usually sets it by policy.
    SettingDefinition("opt_out_list", "Opt-out list (NHS/CHI numbers never sent)", None, True,
                      None, _check_nothing),
    # Caps on what one input may make the app read (see nccid_desktop.limits).
    SettingDefinition("max_image_size", "Largest image file accepted", "2 GB", True, None,
                      size_problem),
    SettingDefinition("max_compression_ratio", "Largest compression ratio accepted", "100",
                      True, None, count_problem),
    SettingDefinition("max_workbook_part_size", "Largest workbook part accepted (unpacked)",
                      "200 MB", True, None, size_problem),
    SettingDefinition("max_shared_strings_size", "Largest workbook part read whole (text table, styles)",
                      "50 MB", True, None, size_problem),
    SettingDefinition("max_sheet_cells", "Most cells read from a sheet", "20000000", True,
                      None, count_problem),
)
BY_NAME = {definition.name: definition for definition in DEFINITIONS}
POLICY_NAMES = tuple(d.name for d in DEFINITIONS if d.policy)


def problem_with(name: str, value: str) -> str | None:
    """Why ``value`` is not acceptable for setting ``name`` (None if it is); empty means unset."""
    if value == "":
        return None
    return BY_NAME[name].check(value)


def without_credentials(url: str | None) -> str | None:
    """A proxy address as it may be shown or logged: any user name and password removed."""
    if not url:
        return url
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return parts._replace(netloc=f"***@{netloc}").geturl()
