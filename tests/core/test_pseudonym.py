"""Known-answer tests pin every derivation: a change here would break linkage across sites."""

from __future__ import annotations

import base64

import pytest

from nccid_desktop.errors import IdentifierError, KeyFileError
from nccid_desktop.keys import SiteKeys
from nccid_desktop.pseudonym import (
    date_shift_days,
    is_pseudonym,
    linkage_token,
    nhs_index,
    open_linkage_token,
    pseudonym_for,
    remap_uid,
)

# Computed once from the fixed test key (secret = bytes 0..31, site RSH) and pinned.
KNOWN_HOSPITAL_PSEUDONYM = "Covid9198885549793694"
KNOWN_NHS_PSEUDONYM = "Covid3932713527193469"
KNOWN_NHS_INDEX = (
    "980c89c29f302f20e3adcfffa43f55fdba75548f406712adc81d46793fcfa9fa"
)
KNOWN_UID = "2.25.150961778363503155543140698574054335007"
KNOWN_SHIFT = -707


def test_pseudonym_known_answer(site_keys: SiteKeys) -> None:
    assert pseudonym_for(site_keys, hospital_number="RR12345678") == KNOWN_HOSPITAL_PSEUDONYM
    assert pseudonym_for(site_keys, nhs_number="9434765919", linking="nhs") == KNOWN_NHS_PSEUDONYM


def test_pseudonym_shape_and_normalisation(site_keys: SiteKeys) -> None:
    p = pseudonym_for(site_keys, hospital_number=" rr12345678 ")
    assert p == KNOWN_HOSPITAL_PSEUDONYM and is_pseudonym(p)
    assert pseudonym_for(site_keys, nhs_number="943 476 5919", linking="nhs") == KNOWN_NHS_PSEUDONYM


def test_pseudonym_depends_on_site_and_secret(site_keys: SiteKeys) -> None:
    other_site = SiteKeys("ABC", site_keys.secret, site_keys.controller_public_key)
    other_secret = SiteKeys("RSH", bytes(32), site_keys.controller_public_key)
    values = {
        pseudonym_for(keys, hospital_number="RR12345678")
        for keys in (site_keys, other_site, other_secret)
    }
    assert len(values) == 3


def test_hospital_and_nhs_linking_never_collide(site_keys: SiteKeys) -> None:
    # The same digits as a hospital number and as an NHS number are different people.
    assert pseudonym_for(site_keys, hospital_number="9434765919") != pseudonym_for(
        site_keys, nhs_number="9434765919", linking="nhs"
    )


def test_missing_or_invalid_linking_identifier_is_refused_without_echo(site_keys: SiteKeys) -> None:
    with pytest.raises(IdentifierError) as missing:
        pseudonym_for(site_keys, hospital_number="  ")
    with pytest.raises(IdentifierError) as invalid:
        pseudonym_for(site_keys, nhs_number="9434765918", linking="nhs")
    assert "9434765918" not in str(invalid.value) and str(missing.value)


def test_nhs_index_known_answer(site_keys: SiteKeys) -> None:
    assert nhs_index(site_keys, "943-476-5919") == KNOWN_NHS_INDEX


def test_remapped_uid_known_answer_and_validity(site_keys: SiteKeys) -> None:
    uid = remap_uid(site_keys, "1.2.826.0.1.3680043.8.498.1")
    assert uid == KNOWN_UID
    assert uid.startswith("2.25.") and len(uid) <= 64
    assert all(part.isdigit() and (part == "0" or not part.startswith("0"))
               for part in uid.split("."))
    assert remap_uid(site_keys, "1.2.826.0.1.3680043.8.498.1\x00") == uid


def test_date_shift_known_answer_and_range(site_keys: SiteKeys) -> None:
    assert date_shift_days(site_keys, KNOWN_HOSPITAL_PSEUDONYM) == KNOWN_SHIFT
    shifts = {date_shift_days(site_keys, f"Covid{n:016d}") for n in range(500)}
    assert all(-1095 <= s <= -1 for s in shifts) and len(shifts) > 300


def test_linkage_token_opens_only_for_the_controller(site_keys: SiteKeys,
                                                     controller_private_pem: bytes) -> None:
    token = linkage_token(site_keys, "9434765919")
    assert "9434765919" not in token
    assert open_linkage_token(controller_private_pem, token, "RSH") == "9434765919"
    assert linkage_token(site_keys, "9434765919") != token  # fresh data key and nonce each time
    with pytest.raises(KeyFileError):
        open_linkage_token(controller_private_pem, token, "ABC")  # site is bound in


def test_linkage_token_known_answer(controller_private_pem: bytes) -> None:
    """A token made once and stored: the controller's decryption must keep opening it."""
    token = KNOWN_TOKEN
    assert open_linkage_token(controller_private_pem, token, "RSH") == "9434765919"


def test_tampered_token_is_refused(site_keys: SiteKeys, controller_private_pem: bytes) -> None:
    raw = bytearray(base64.urlsafe_b64decode(linkage_token(site_keys, "9434765919")))
    raw[-1] ^= 1
    with pytest.raises(KeyFileError):
        open_linkage_token(controller_private_pem, base64.urlsafe_b64encode(bytes(raw)).decode(),
                           "RSH")


KNOWN_TOKEN = (
    "AQEAMQeDiaXqdXbgXvVOCtWk9GQKnBdXo220B8NnBoDT7CNCj7fX4dElNEv_njkLpuF5DZtRdweJYySdYwgEcseT0PmtSYUB6I_texBmwCA2jIWVUoEQ1u9UmeGnY8FprdVDFsidzVVt1s19p3ddXDWXoRpygZzl_Ho-rBTJ0RimrO6rg1zOqcodhLcPuvXfepb99PPQmHUnn0tKQcwjmU_34-LKLhoxmqVRdEqgOU8s5tgtSGTWHBsTwdkCMujbfvzvCcBOr1-4-Ry7KwWHJGN6QoGGmPGed4TN-11tIivxkG19A-UF2pi0tE896qZLUsspB4jSUjiZecXch_8vYODuWQFVGacv2kcurvmaeO30m5XlMz7VDdK0nxoiqFgpQ06E0v-Tb440"
)


def test_pseudonym_construction_matches_its_documented_recipe(site_keys: SiteKeys) -> None:
    """Recomputed from the design with the standard library, independently of the module."""
    import hashlib
    import hmac

    subkey = hmac.new(bytes(range(32)), b"nccid-desktop/v1/pseudonym", hashlib.sha256).digest()
    digest = hmac.new(subkey, b"hospital\x00RSH\x00RR12345678", hashlib.sha256).digest()
    expected = f"Covid{int.from_bytes(digest[:8], 'big') % 10**16:016d}"
    assert expected == KNOWN_HOSPITAL_PSEUDONYM
