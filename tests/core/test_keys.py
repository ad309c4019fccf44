from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from nccid_desktop.errors import KeyFileError
from nccid_desktop.keys import SiteKeys, generate_site_keys, load_key_file, save_key_file
from nccid_desktop.pseudonym import linkage_token, open_linkage_token, pseudonym_for


def test_generated_keys_round_trip_and_match_the_private_key(tmp_path: Path) -> None:
    keys, private_pem = generate_site_keys("rsh")
    assert keys.site == "RSH"
    path = tmp_path / "keys.json"
    save_key_file(keys, path)
    loaded = load_key_file(path, site="RSH")
    assert loaded == keys
    assert pseudonym_for(loaded, hospital_number="RR1") == pseudonym_for(keys, hospital_number="RR1")
    token = linkage_token(loaded, "9434765919")
    assert open_linkage_token(private_pem, token, "RSH") == "9434765919"


def test_key_file_is_private_to_its_owner(tmp_path: Path) -> None:
    keys, _ = generate_site_keys("RSH")
    path = tmp_path / "keys.json"
    save_key_file(keys, path)
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_secret_never_shows_in_repr(site_keys: SiteKeys) -> None:
    assert site_keys.secret.hex() not in repr(site_keys)
    assert repr(site_keys.secret) not in repr(site_keys)


def test_key_file_of_another_site_is_refused(key_file: Path) -> None:
    with pytest.raises(KeyFileError, match="belongs to site RSH"):
        load_key_file(key_file, site="ABC")


@pytest.mark.parametrize(
    "content",
    [b"", b"not json", b"{}", b'{"format": "nccid-site-keys", "version": 99}',
     b'{"format": "nccid-site-keys", "version": 1, "site": "RSH", "secret": "AAAA",'
     b' "controller_public_key": "x"}', b"\xff\xfe"],
)
def test_damaged_key_files_get_a_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "keys.json"
    path.write_bytes(content)
    with pytest.raises(KeyFileError) as error:
        load_key_file(path)
    assert "Traceback" not in str(error.value) and str(error.value).endswith(".")


def test_missing_key_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match=r"nope\.json was not found"):
        load_key_file(tmp_path / "nope.json")


@pytest.mark.parametrize("site", ["", "R", "R S H", "RSH/../x", "A" * 17])
def test_bad_site_codes_are_refused(site: str) -> None:
    with pytest.raises(KeyFileError):
        generate_site_keys(site)


def test_wrong_length_secret_is_refused(site_keys: SiteKeys) -> None:
    data = site_keys.to_json()
    data["secret"] = "AAAA"
    with pytest.raises(KeyFileError):
        SiteKeys.from_json(json.loads(json.dumps(data)))
