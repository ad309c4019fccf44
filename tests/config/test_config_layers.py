"""Which value wins: locked policy > option > environment > user > unlocked policy > default."""

from __future__ import annotations

import pytest

from nccid_desktop import config
from nccid_desktop.errors import ConfigError

POLICY = '''server_url = "https://policy.nhs.uk"
proxy = "http://proxy.trust.nhs.uk:8080"
site = "RSH"
linking = "nhs"
locked = ["server_url"]
'''


@pytest.fixture
def policy(tmp_path, monkeypatch):
    path = tmp_path / "policy.toml"
    path.write_text(POLICY, encoding="utf-8")
    monkeypatch.setenv("NCCID_POLICY_FILE", str(path))
    return path


def test_each_value_knows_its_source_and_lock(policy):
    config.save_user_settings({"proxy": "none", "hospital_pattern": r"RR\d{8}"})
    effective = config.resolve({"username": "optuser"}, {"NCCID_USER": "envuser"})
    table = {name: (v.value, v.source, v.locked) for name, v in effective.values.items()}
    assert table == {
        "server_url": ("https://policy.nhs.uk", "policy", True),
        "username": ("optuser", "option", False),
        "site": ("RSH", "policy", False),
        "proxy": ("none", "user", False),
        "ca_bundle": (None, "default", False),
        "hospital_pattern": (r"RR\d{8}", "user", False),
        "linking": ("nhs", "policy", False),
        "negative_window_days_after": ("0", "default", False),
        "opt_out_list": (None, "default", False),
        "max_image_size": ("2 GB", "default", False),
        "max_compression_ratio": ("100", "default", False),
        "max_workbook_part_size": ("200 MB", "default", False),
        "max_shared_strings_size": ("50 MB", "default", False),
        "max_sheet_cells": ("20000000", "default", False),
    }
    assert effective.policy_file == policy


def test_a_locked_value_beats_options_environment_and_the_user_file(policy, tmp_path):
    user_file = tmp_path / "settings.toml"
    user_file.write_text('server_url = "https://user.example"\n')
    settings = config.load({"server_url": "https://option.example"},
                           {"NCCID_SERVER": "https://env.example"}, user_file)
    assert settings.server_url == "https://policy.nhs.uk"


def test_unlocked_policy_is_only_a_default(policy, tmp_path):
    user_file = tmp_path / "settings.toml"
    assert config.load({}, {}, user_file).linking == "nhs"
    user_file.write_text('linking = "hospital"\n')
    assert config.load({}, {}, user_file).linking == "hospital"
    assert config.load({"linking": "nhs"}, {}, user_file).linking == "nhs"


def test_without_a_policy_options_beat_environment_beat_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("NCCID_POLICY_FILE", str(tmp_path / "absent.toml"))
    user_file = tmp_path / "settings.toml"
    user_file.write_text('server_url = "https://file.example"\nusername = "fileuser"\n')
    settings = config.load({"username": "optuser", "proxy": None},
                           {"NCCID_SERVER": "https://env.example"}, user_file)
    assert (settings.server_url, settings.username) == ("https://env.example", "optuser")
    assert config.resolve({}, {}, user_file).source("server_url") == "user"


@pytest.mark.parametrize(("proxy", "url", "direct"), [
    ("system", None, False), ("none", None, True), ("NONE", None, True),
    ("http://proxy.trust.nhs.uk:8080", "http://proxy.trust.nhs.uk:8080", False)])
def test_proxy_keywords_become_an_address_or_a_mode(tmp_path, monkeypatch, proxy, url, direct):
    monkeypatch.setenv("NCCID_POLICY_FILE", str(tmp_path / "absent.toml"))
    settings = config.load({"proxy": proxy}, {})
    assert (settings.proxy, settings.direct) == (url, direct)


def test_saving_refuses_to_change_a_locked_value_but_keeps_others(policy):
    with pytest.raises(ConfigError, match="set by your IT department"):
        config.save_user_settings({"server_url": "https://elsewhere.example"})
    saved = config.save_user_settings({"server_url": "https://policy.nhs.uk", "site": "RXX"})
    assert saved == {"site": "RXX"}
    assert config.read_user_settings() == {"site": "RXX"}
    assert config.resolve({}, {}).value("site") == "RXX"


def test_saving_checks_values_clears_empty_ones_and_never_stores_a_password(policy):
    with pytest.raises(ConfigError, match="not a valid pattern"):
        config.save_user_settings({"hospital_pattern": "RR[0-9"})
    with pytest.raises(ConfigError, match="is not a setting"):
        config.save_user_settings({"password": "hunter2"})
    config.save_user_settings({"hospital_pattern": r"RR\d{8}", "username": 'nurse "one"'})
    assert config.read_user_settings()["username"] == 'nurse "one"'
    config.save_user_settings({"hospital_pattern": ""})
    assert "hospital_pattern" not in config.read_user_settings()
    assert "hunter2" not in config.settings_path().read_text()


def test_bad_values_from_each_layer_are_explained(tmp_path, monkeypatch):
    monkeypatch.setenv("NCCID_POLICY_FILE", str(tmp_path / "absent.toml"))
    with pytest.raises(ConfigError, match="given on the command line must be"):
        config.load({"linking": "pacs"}, {})
    with pytest.raises(ConfigError, match="from the environment must be a web address"):
        config.load({}, {"NCCID_SERVER": "nccid.example"})
    user_file = tmp_path / "settings.toml"
    user_file.write_text('site = "RSH"\nproxy = "proxy:8080"\n')
    with pytest.raises(ConfigError, match=r"settings.toml, line 2: proxy must be"):
        config.load({}, {}, user_file)
    user_file.write_text('password = "x"\n')
    with pytest.raises(ConfigError, match="Passwords must not"):
        config.load({}, {}, user_file)


def test_a_missing_ca_bundle_is_named_with_its_source(policy, tmp_path):
    policy.write_text(f'ca_bundle = "{tmp_path / "missing.pem"}"\nlocked = ["ca_bundle"]\n')
    effective = config.resolve({}, {})
    assert effective.value("ca_bundle").endswith("missing.pem")
    with pytest.raises(ConfigError, match=r"missing.pem \(set by the machine policy\) does not"):
        effective.settings()


def test_the_user_file_round_trips_windows_paths_quotes_and_accents(tmp_path, monkeypatch):
    monkeypatch.setenv("NCCID_POLICY_FILE", str(tmp_path / "absent.toml"))
    awkward = {"ca_bundle": r"C:\ProgramData\NCCID Desktop\trust \"inspection\" CA.pem",
               "username": "Zoë O'Brien-Łukasz", "hospital_pattern": r"^RR\d{8}$"}
    config.save_user_settings(awkward)
    assert config.read_user_settings() == awkward
    assert not config.settings_path().with_name("settings.toml.part").exists()
    assert config.settings_path().read_text(encoding="utf-8").startswith("# NCCID Desktop")


def test_the_negative_window_widening_comes_from_the_policy(tmp_path, monkeypatch):
    path = tmp_path / "policy.toml"
    path.write_text('negative_window_days_after = "7"\n', encoding="utf-8")
    monkeypatch.setenv("NCCID_POLICY_FILE", str(path))
    assert config.load({}, {}, tmp_path / "settings.toml").negative_window_days_after == 7
    monkeypatch.setenv("NCCID_POLICY_FILE", str(tmp_path / "absent.toml"))
    assert config.load({}, {}, tmp_path / "settings.toml").negative_window_days_after == 0
