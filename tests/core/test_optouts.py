"""The opt-out list file: text or CSV, a named column, bad lines named (never their values)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nccid_desktop.keys import SiteKeys
from nccid_desktop.optouts import OptOutListError, load_opt_out_list, merged
from nccid_desktop.pseudonym import nhs_index, pseudonym_for
from tests.conftest import VALID_NHS_NUMBERS

PUBLIC_KEY = (Path(__file__).resolve().parents[1] / "data/controller-test-key.pub.pem").read_bytes()

A, B, C = VALID_NHS_NUMBERS[:3]


def _file(tmp_path: Path, text: str, name: str = "opt-outs.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_one_number_a_line_in_any_spelling_with_notes_and_blank_lines(tmp_path) -> None:
    spaced = f"{B[:3]} {B[3:6]} {B[6:]}"
    listed = load_opt_out_list(_file(tmp_path, f"# opted out, November\n{A}\n\n{spaced}\n"))
    assert len(listed) == 2 and listed.has(A) and listed.has(B) and not listed.has(C)
    assert listed.has(f"{A[:3]}-{A[3:6]}-{A[6:]}")
    assert A not in repr(listed) and B not in repr(listed)


def test_a_csv_with_a_named_column(tmp_path) -> None:
    text = f"Opted out on,NHS/CHI Number,Source\n2026-11-01,{A},NDOP\n2026-11-02,{C},trust\n"
    listed = load_opt_out_list(_file(tmp_path, text, "list.csv"))
    assert listed.has(A) and listed.has(C) and len(listed) == 2


def test_bad_lines_are_named_by_number_and_the_list_is_refused_whole(tmp_path) -> None:
    wrong_check_digit = A[:9] + str((int(A[9]) + 1) % 10)
    text = f"{A}\n12345\n{wrong_check_digit}\nRR12345678\n{B}\n"
    with pytest.raises(OptOutListError) as raised:
        load_opt_out_list(_file(tmp_path, text))
    message = str(raised.value)
    assert "3 lines" in message and "lines 2, 3, 4" in message
    for value in (A, B, wrong_check_digit, "12345", "RR12345678"):
        assert value not in message


def test_a_csv_row_without_a_number_in_the_column_is_not_skipped(tmp_path) -> None:
    text = f"NHS number,Note\n{A},x\n,asked by phone\n"
    with pytest.raises(OptOutListError, match="line 3"):
        load_opt_out_list(_file(tmp_path, text, "list.csv"))


def test_a_missing_or_unreadable_list_is_a_plain_error(tmp_path) -> None:
    with pytest.raises(OptOutListError, match="was not found"):
        load_opt_out_list(tmp_path / "absent.txt")
    (tmp_path / "binary.txt").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(OptOutListError, match="cannot be read"):
        load_opt_out_list(tmp_path / "binary.txt")


def test_pseudonyms_and_indexes_of_listed_patients(tmp_path) -> None:
    keys = SiteKeys("RSH", b"s" * 32, PUBLIC_KEY)
    listed = load_opt_out_list(_file(tmp_path, f"{A}\n{B}\n"))
    assert listed.indexes(keys) == {nhs_index(keys, A), nhs_index(keys, B)}
    assert listed.pseudonyms(keys, "nhs") == {
        pseudonym_for(keys, nhs_number=n, linking="nhs") for n in (A, B)}
    rows = [(A, "RR00000001"), (C, "RR00000003")]
    assert listed.pseudonyms(keys, "hospital", rows) == {
        pseudonym_for(keys, hospital_number="RR00000001")}
    other = load_opt_out_list(_file(tmp_path, f"{C}\n", "other.txt"))
    both = merged([listed, other])
    assert all(both.has(n) for n in (A, B, C))
