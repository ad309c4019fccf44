"""Identifiers and secrets planted in every flow, and the check that none got out.

Why one list: the no-leak tests for logs and for the diagnostics bundle hunt for the same
values, in every spelling a careless line could use (spaced NHS number, DICOM name form).
"""

from __future__ import annotations

import base64
import zipfile
from pathlib import Path

from tests.conftest import VALID_NHS_NUMBERS

NHS_NUMBER = VALID_NHS_NUMBERS[0]
HOSPITAL_NUMBER = "RR70451234"
SURNAME, GIVEN = "Quillfeather", "Ottoline"
PATIENT_NAME = f"{SURNAME}^{GIVEN}"
BIRTH_DATE = "14/07/1958"
PROXY_PASSWORD = "Pr0xyPa55word"
USER_PASSWORD = "Corr3ct-Horse-Battery"


def nhs_spellings(number: str = NHS_NUMBER) -> list[str]:
    return [number, f"{number[:3]} {number[3:6]} {number[6:]}", f"{number[:3]}-{number[3:6]}-{number[6:]}"]


def secret_spellings(secret: bytes) -> list[str]:
    return [secret.hex(), base64.b64encode(secret).decode(), base64.urlsafe_b64encode(secret)
            .decode().rstrip("=")]


def planted_values(secret: bytes | None = None) -> list[str]:
    values = [*nhs_spellings(), HOSPITAL_NUMBER, SURNAME, GIVEN, BIRTH_DATE, "19580714",
              PROXY_PASSWORD, USER_PASSWORD]
    return values + (secret_spellings(secret) if secret else [])


def leaks_in_text(text: str, values: list[str]) -> list[str]:
    lowered = text.lower()
    return [value for value in values if value.lower() in lowered]


def leaks_in_folder(folder: Path, values: list[str]) -> dict[str, list[str]]:
    found = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        hits = leaks_in_text(path.read_bytes().decode("utf-8", errors="replace"), values)
        if hits:
            found[str(path.relative_to(folder))] = hits
    return found


def leaks_in_zip(path: Path, values: list[str]) -> dict[str, list[str]]:
    found = {}
    with zipfile.ZipFile(path) as bundle:
        for name in bundle.namelist():
            hits = leaks_in_text(bundle.read(name).decode("utf-8", errors="replace"), values)
            if hits:
                found[name] = hits
    return found
