"""Benchmark: validating a 10,000-row Main sheet against a bare openpyxl streaming read.

Why a ratio: absolute seconds depend on the machine; the bare read of the same file, measured
in the same run, is the floor any openpyxl-based validator stands on. Each measurement runs in
a fresh subprocess (so peak memory is that task's alone), alternating; the fastest time of
each (the run least disturbed by other work on a shared machine) and the median memory count.

    .venv/bin/python benchmarks/bench_validate.py [--rows 10000] [--repeat 3]

Prints a table and writes ``benchmarks/results/validate-<timestamp>.json`` (git-ignored).
Aims: validation at most 1.5x the bare read's time, and under 200 MB peak memory. The time aim
is judged on CPU time, which other work on a shared machine disturbs far less than wall time;
both are reported.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
TIME_RATIO_AIM = 1.5
MEMORY_AIM_MB = 200

_MEASURE = r"""
import json, resource, sys, time
task, path = sys.argv[1], sys.argv[2]
from openpyxl import load_workbook
from nccid_desktop.sheets.validator import validate_workbook
from datetime import date


def peak_mb():
    try:  # Linux: the high-water mark since it was last reset
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak():
    # A child inherits its parent's peak across fork and exec; reset it (Linux >= 4.0).
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        pass


reset_peak()
before = peak_mb()
start, cpu_start = time.perf_counter(), time.process_time()
if task == "bare":
    workbook = load_workbook(path, read_only=True, data_only=True)
    rows = sum(1 for _ in workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    outcome = {"rows": rows - 1}
else:
    report = validate_workbook(path, "main", today=date(2026, 11, 25))
    outcome = {"rows": report.rows, "errors": report.error_count,
               "valid_rows": len(report.valid_rows)}
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
peak = peak_mb()
outcome.update(seconds=seconds, cpu_seconds=cpu, peak_mb=peak, added_mb=peak - before)
print(json.dumps(outcome))
"""

_GENERATE = r"""
import sys
from pathlib import Path
sys.path.insert(0, ".")
from tests.sheets.builders import large_main_sheet
large_main_sheet(Path(sys.argv[1]), int(sys.argv[2]))
"""


def measure(task: str, path: Path) -> dict:
    completed = subprocess.run(
        [sys.executable, "-c", _MEASURE, task, str(path)],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    return json.loads(completed.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "main-10k.xlsx"
        started = time.perf_counter()
        # In a subprocess, so that this process stays small while the children run.
        subprocess.run([sys.executable, "-c", _GENERATE, str(path), str(args.rows)], cwd=ROOT,
                       check=True)
        generated = time.perf_counter() - started
        runs: dict[str, list[dict]] = {"bare": [], "validate": []}
        for _ in range(args.repeat):
            for task in runs:
                runs[task].append(measure(task, path))
        size_mb = path.stat().st_size / 1e6

    def median(task: str, key: str) -> float:
        return statistics.median(run[key] for run in runs[task])

    def fastest(task: str, key: str = "seconds") -> float:
        return min(run[key] for run in runs[task])

    result = {
        "rows": args.rows,
        "file_mb": round(size_mb, 2),
        "generate_seconds": round(generated, 2),
        "repeat": args.repeat,
        "bare_seconds": round(fastest("bare"), 3),
        "validate_seconds": round(fastest("validate"), 3),
        "bare_cpu_seconds": round(fastest("bare", "cpu_seconds"), 3),
        "validate_cpu_seconds": round(fastest("validate", "cpu_seconds"), 3),
        "bare_median_seconds": round(median("bare", "seconds"), 3),
        "validate_median_seconds": round(median("validate", "seconds"), 3),
        "bare_peak_mb": round(median("bare", "peak_mb"), 1),
        "validate_peak_mb": round(median("validate", "peak_mb"), 1),
        "bare_added_mb": round(median("bare", "added_mb"), 1),
        "validate_added_mb": round(median("validate", "added_mb"), 1),
        "validate_outcome": {k: v for k, v in runs["validate"][0].items()
                             if k in ("rows", "errors", "valid_rows")},
    }
    result["time_ratio"] = round(result["validate_seconds"] / result["bare_seconds"], 2)
    result["cpu_ratio"] = round(result["validate_cpu_seconds"] / result["bare_cpu_seconds"], 2)
    result["memory_ratio"] = round(result["validate_peak_mb"] / result["bare_peak_mb"], 2)
    result["meets_time_aim"] = result["cpu_ratio"] <= TIME_RATIO_AIM
    result["meets_memory_aim"] = result["validate_peak_mb"] < MEMORY_AIM_MB

    print(f"Main sheet, {args.rows} rows ({result['file_mb']} MB), {args.repeat} runs each: "
          "fastest time (least disturbed by other load), median memory")
    print(f"{'':<12}{'seconds':>10}{'CPU s':>10}{'peak MB':>10}{'added MB':>10}")
    for task in ("bare", "validate"):
        print(f"{task:<12}{result[f'{task}_seconds']:>10.2f}{result[f'{task}_cpu_seconds']:>10.2f}"
              f"{result[f'{task}_peak_mb']:>10.1f}{result[f'{task}_added_mb']:>10.1f}")
    print(f"{'ratio':<12}{result['time_ratio']:>10.2f}{result['cpu_ratio']:>10.2f}"
          f"{result['memory_ratio']:>10.2f}")
    print(f"aims: CPU time ratio <= {TIME_RATIO_AIM} "
          f"({'met' if result['meets_time_aim'] else 'NOT met'}), "
          f"peak < {MEMORY_AIM_MB} MB ({'met' if result['meets_memory_aim'] else 'NOT met'})")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"validate-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
