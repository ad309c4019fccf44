"""The size caps as settings: parsed from policy text, defaults that match, bad values refused."""

from __future__ import annotations

import pytest

from nccid_desktop import config
from nccid_desktop.config.definitions import BY_NAME
from nccid_desktop.errors import ConfigError
from nccid_desktop.limits import (
    DEFAULT_LIMITS,
    SETTING_FIELDS,
    Limits,
    current_limits,
    describe_size,
    limits_from,
    parse_size,
)


@pytest.mark.parametrize("text, size", [
    ("2 GB", 2_000_000_000), ("500MB", 500_000_000), ("1.5 gb", 1_500_000_000),
    ("2 GiB", 2**31), ("1048576", 1048576), (" 64 KiB ", 65536), ("3 TB", 3 * 10**12),
])
def test_sizes_read_as_people_write_them(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "big", "2 GBs", "-1 MB", "0", "1.5.2 MB", "MB"])
def test_sizes_that_are_not_sizes_are_refused(text):
    with pytest.raises(ValueError):
        parse_size(text)


def test_the_settings_defaults_are_the_built_in_limits():
    """One truth: the table's default text parses to the Limits default."""
    from_table = limits_from({name: BY_NAME[name].default or "" for name in SETTING_FIELDS})
    assert from_table == DEFAULT_LIMITS == Limits()
    assert all(BY_NAME[name].policy for name in SETTING_FIELDS)


def test_the_machine_policy_sets_the_limits(tmp_path, monkeypatch):
    policy = tmp_path / "policy.toml"
    policy.write_text('max_image_size = "300 MB"\nmax_compression_ratio = "40"\n'
                      'max_sheet_cells = "1,000,000"\nlocked = ["max_image_size"]\n',
                      encoding="utf-8")
    monkeypatch.setenv("NCCID_POLICY_FILE", str(policy))
    limits = current_limits()
    assert limits.image_bytes == 300_000_000
    assert limits.compression_ratio == 40
    assert limits.sheet_cells == 1_000_000
    assert limits.workbook_part_bytes == DEFAULT_LIMITS.workbook_part_bytes
    with pytest.raises(ConfigError, match="set by your IT department"):
        config.save_user_settings({"max_image_size": "50 GB"})


def test_a_bad_limit_in_the_policy_names_the_file_and_line(tmp_path, monkeypatch):
    policy = tmp_path / "policy.toml"
    policy.write_text('site = "RSH"\nmax_image_size = "huge"\n', encoding="utf-8")
    monkeypatch.setenv("NCCID_POLICY_FILE", str(policy))
    with pytest.raises(ConfigError, match=r"line 2.*size such as"):
        current_limits()


def test_ratio_cap_has_a_grace_for_small_parts():
    limits = Limits(compression_ratio=10)
    assert limits.inflate_cap(100, 10**9) == 1 << 20
    assert limits.inflate_cap(10**6, 10**9) == 10**7
    assert limits.inflate_cap(10**9, 5 * 10**8) == 5 * 10**8


@pytest.mark.parametrize("size, text", [(12_345, "12 KB"), (340_000_000, "340 MB"),
                                        (2_147_483_648, "2.1 GB"), (10, "1 KB")])
def test_sizes_are_described_plainly(size, text):
    assert describe_size(size) == text
