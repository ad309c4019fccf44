"""docs/api.md lists every refusal code the service can answer with."""

from __future__ import annotations

import re
from pathlib import Path

from nccid_collector.app import HTTP_CODES
from nccid_desktop.dicom.verify import conformance
from nccid_desktop.sheets.definitions import TEMPLATES

ROOT = Path(__file__).resolve().parents[2]
_PATTERNS = (
    re.compile(r'ServiceProblem\(\s*\d+,\s*"(\w+)"'),
    re.compile(r'_problem\(\s*\d+,\s*"(\w+)"'),
    re.compile(r'Refusal\(\s*"(\w+)"'),
    re.compile(r'code="(\w+)"'),
    re.compile(r'RecordProblem\([^,]+,\s*"(\w+)"'),
    re.compile(r'BadValue\("(\w+)"\)'),
    re.compile(r'CrossFieldProblem\(Severity\.ERROR[^,]*,\s*"(\w+)"'),
)
SOURCES = [*(ROOT / "nccid_collector").glob("*.py"),
           ROOT / "nccid_desktop/sheets/record_check.py", ROOT / "nccid_desktop/sheets/values.py",
           ROOT / "nccid_desktop/sheets/rules.py", ROOT / "nccid_desktop/sheets/cross_field.py"]


def _codes() -> set[str]:
    found = {code for path in SOURCES for pattern in _PATTERNS
             for code in pattern.findall(path.read_text())}
    found |= set(HTTP_CODES.values())
    found |= {value for name, value in vars(conformance).items()
              if name.isupper() and isinstance(value, str) and value.islower()
              and "_" in value and name not in ("FILE_META",)}
    found |= {rule.code for template in TEMPLATES.values() for rule in template.result_rules}
    found.discard(conformance.UNREADABLE)  # the service answers it as not_dicom
    return found - {"refused"}  # the stow store's default, never answered (every raise names one)


def test_every_refusal_code_is_documented() -> None:
    doc = (ROOT / "docs/api.md").read_text()
    codes = _codes()
    assert len(codes) > 40
    assert sorted(code for code in codes if f"`{code}`" not in doc) == []
