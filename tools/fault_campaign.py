"""The malformed-input fault campaign: thousands of mutated workbooks and DICOM files.

Runs ``--cases`` cases of :mod:`tests.faults.mutator` (half workbooks, half DICOM files, a
fifth of those inside zips) through the sheet validator, the scan, the selection, both
reports and the de-identifier, in this one process, and reports crashes (see
:mod:`tests.faults.campaign`), the outcomes seen, the time and the peak memory (Linux
``VmHWM``). Exit status 1 when anything crashed or the peak passed ``--memory-mb``.

    .venv/bin/python tools/fault_campaign.py --cases 10000
    .venv/bin/python tools/fault_campaign.py --start 4242 --cases 1   # replay one case
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.faults.campaign import run


def peak_memory_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--memory-mb", type=float, default=400.0)
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    began = time.monotonic()
    tally = run(args.start, args.cases, progress_every=0 if args.json else 500)
    summary = {
        "cases": tally.cases, "by_kind": dict(tally.by_kind),
        "outcomes": dict(sorted(tally.outcomes.items())),
        "crashes": len(tally.crashes), "crash_cases": tally.crashes[:50],
        "seconds": round(time.monotonic() - began, 1),
        "peak_memory_mb": round(peak_memory_mb(), 1), "memory_limit_mb": args.memory_mb,
    }
    print(json.dumps(summary, indent=None if args.json else 2))
    return 1 if tally.crashes or summary["peak_memory_mb"] > args.memory_mb else 0


if __name__ == "__main__":
    raise SystemExit(main())
