"""The fault campaign, bounded for the suite: 300 malformed and hostile inputs, 0 crashes.

The long version (10,000 cases) is ``tools/fault_campaign.py``; this runs its first 300 in a
child process, so the peak memory measured is the campaign's own. Among them are 15 hostile
inputs (a workbook cell that inflates to 300 MB, a zip holding 300 MB of zero pixels, a sheet
claiming a million rows of 16,384 cells, two patients' images sharing one UID, a deflated
data set bomb): before, those crashed the count checks and took the campaign over 650 MB.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

TOOL = Path(__file__).resolve().parents[2] / "tools" / "fault_campaign.py"


def test_three_hundred_malformed_inputs_give_no_crash_in_bounded_memory():
    done = subprocess.run([sys.executable, str(TOOL), "--cases", "300", "--json"],
                          capture_output=True, text=True, timeout=240)
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["crashes"] == 0, summary["crash_cases"]
    assert done.returncode == 0 and "Traceback" not in done.stderr
    assert summary["cases"] == 300 and summary["peak_memory_mb"] < 400
    outcomes = summary["outcomes"]
    # The mutations reach deep: some files still read, some refused, some held back.
    for seen in ("sheet:report", "sheet:SheetError", "deid:deidentified", "deid:quarantined",
                 "deid:refused", "deid:held_back", "scan:refused", "scan:corrupt"):
        assert outcomes.get(seen, 0) > 0, seen


def test_a_case_is_the_same_bytes_every_time():
    from tests.faults.mutator import case

    assert case(7).data == case(7).data and case(8).data == case(8).data
    assert case(7).data != case(9).data
