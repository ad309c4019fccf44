"""What the warehouse holds is what the NCCID cleaning library understands, on every back end.

Sheets go through the real workstation pipeline (validate, pseudonymise) to the real service,
are read back from the warehouse (the bucket through boto3 for S3, the folder otherwise), and
are cleaned by the public NCCID cleaning library (``nhsx/nccid-cleaning``, the code the
warehouse's own pipeline runs) together, data and status records in one frame as that
pipeline loads them. The library is not published on a package index, so its cleaning module
is kept unchanged in ``tests/third_party/nccid_cleaning`` (MIT; source commit in its README).

What must come out: sex as M/F (an integer would come out "Unknown"), the ethnicity group,
ages, numbers, and every date on the right day (data dates are read month-first, status swab
dates day-first, so a day/month mix-up shows as a different date).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

from nccid_desktop.keys import SiteKeys
from nccid_desktop.sheets.definitions import MAIN, STATUS
from nccid_desktop.sheets.payload import build_envelopes
from nccid_desktop.sheets.validator import validate_workbook
from tests.collector.client import signed_in
from tests.sheets.builders import hospital_number, main_row, save_workbook, status_row

#: The library's own use of a pandas keyword that pandas 3.1 deprecates: not ours to change.
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.rename")
LIBRARY = Path(__file__).resolve().parents[1] / "third_party" / "nccid_cleaning" / "cleaning.py"
#: Seeds whose swab dates fall on days 2 to 12 of a month, so month-first and day-first differ.
MAIN_SEEDS = (1, 3, 6, 8)
STATUS_SEEDS = (2, 4, 9)


@pytest.fixture(scope="module")
def cleaning() -> ModuleType:
    """The library's cleaning module, run as published (on current pandas, which dropped
    ``pd.datetime``: the library names it only in a return annotation)."""
    if not hasattr(pd, "datetime"):
        pd.datetime = dt.datetime  # type: ignore[attr-defined]
    spec = importlib.util.spec_from_file_location("nccid_cleaning_upstream", LIBRARY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _upload(nurse, template, rows, keys: SiteKeys, tmp_path: Path, batch_id: str) -> dict:
    workbook = save_workbook(tmp_path / f"{template.id}.xlsx", template, rows)
    report = validate_workbook(workbook, template.id, today=dt.date(2026, 11, 25))
    envelopes = build_envelopes(report, keys)
    answer = nurse.post("/api/v1/clinical/batches",
                        json={"batch_id": batch_id, "envelopes": [e.to_json() for e in envelopes]})
    assert [r["status"] for r in answer.json()["results"]] == ["stored"] * len(rows), answer.text
    return {e.pseudonym: row for e, row in zip(envelopes, rows, strict=True)}


def test_records_read_back_from_the_warehouse_clean_as_the_warehouse_expects(
        live, warehouse, cleaning, tmp_path) -> None:
    nurse = signed_in(live.url, "nurse1")
    keys = SiteKeys.from_json(nurse.get("/api/v1/site/keys").json())
    main_rows = [main_row(seed) for seed in MAIN_SEEDS]
    status_rows = [status_row(seed) for seed in STATUS_SEEDS]
    sent = _upload(nurse, MAIN, main_rows, keys, tmp_path, "compat-main")
    sent_status = _upload(nurse, STATUS, status_rows, keys, tmp_path, "compat-status")

    records = [json.loads(warehouse.read(key)) for key in warehouse.keys("raw-RSH/*/data/*.json")]
    assert len(records) == len(main_rows) + len(status_rows)
    cleaned = cleaning.clean_data_df(pd.DataFrame(records), cleaning.patient_df_pipeline)
    by_pseudonym = {row["Pseudonym"]: row for row in cleaned.to_dict("records")}

    for pseudonym, row in sent.items():
        out = by_pseudonym[pseudonym]
        swab = row["Date of Positive Covid Swab"]
        assert out["sex"] == ("M" if row["Sex"] == 1 else "F")
        assert out["ethnicity"] == "White"
        assert out["age"] == row["Age"]
        assert out["date_of_positive_covid_swab"] == pd.Timestamp(swab)
        assert out["date_of_result_of_1st_rt-pcr"] == pd.Timestamp(swab + dt.timedelta(days=1))
        assert out["date_last_known_alive"] == pd.Timestamp(swab + dt.timedelta(days=10))
        assert out["1st_rt-pcr_result"] == "Positive"
        assert (out["temperature_on_admission"], out["systolic_bp"], out["diastolic_bp"]) == (
            37.8, 120.0, 80.0)
        assert out["fio2"] == 21 and bool(out["pmh_ckd"]) is True
        assert out["if_ckd_stage"] == str(row["If CKD, stage"])
    for pseudonym, row in sent_status.items():
        out = by_pseudonym[pseudonym]
        assert out["swabdate"] == pd.Timestamp(row["SwabDate"])
        assert out["SwabStatus"] == "0"
    assert {hospital_number(seed) for seed in MAIN_SEEDS + STATUS_SEEDS}.isdisjoint(
        json.dumps(records))
