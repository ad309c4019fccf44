"""Benchmark: how fast ``nccid --help``, ``nccid --version`` and ``nccid-collector --help`` answer.

Why a baseline: a command's start-up is mostly the interpreter starting and modules loading
from disk, which depends on the machine and on what else runs on it. A bare ``python -c pass``
of the same interpreter, measured in the same run, alternating with the commands, is the floor
every Python command stands on; the ratio to it and the absolute milliseconds are both
reported. Each command runs as the user runs it: the console script in the venv's ``bin``.

    .venv/bin/python benchmarks/bench_startup.py [--repeat 20] [--bin .venv/bin]

Prints a table and writes ``benchmarks/results/startup-<timestamp>.json`` (git-ignored). Aim
(issue 10): ``nccid --help`` and ``nccid --version`` under 0.15 s. Times are the fastest run of
each (the one least disturbed by other work on a shared machine) and the median; CPU seconds
(user + system of the child) are reported too, which other work disturbs far less.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
AIM_SECONDS = 0.15


def commands(bin_dir: Path) -> dict[str, list[str]]:
    """The commands to time; one whose script this venv lacks (an older version) is left out."""
    wanted = {
        "python -c pass (floor)": [str(bin_dir / "python"), "-c", "pass"],
        "nccid --version": [str(bin_dir / "nccid"), "--version"],
        "nccid --help": [str(bin_dir / "nccid"), "--help"],
        "nccid-collector --help": [str(bin_dir / "nccid-collector"), "--help"],
    }
    return {name: command for name, command in wanted.items() if Path(command[0]).exists()}


def run_once(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``command`` (which must succeed)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                          check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr.decode()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def measure(bin_dir: Path, repeat: int) -> dict[str, dict[str, float]]:
    """Every command ``repeat`` times, alternating, after one warm-up run each."""
    env = {**os.environ, "NCCID_HOME": str(RESULTS / ".startup-home")}
    todo = commands(bin_dir)
    for command in todo.values():
        run_once(command, env)  # warm the page cache and the bytecode caches
    walls: dict[str, list[float]] = {name: [] for name in todo}
    cpus: dict[str, list[float]] = {name: [] for name in todo}
    for _ in range(repeat):
        for name, command in todo.items():
            wall, cpu = run_once(command, env)
            walls[name].append(wall)
            cpus[name].append(cpu)
    return {name: {"fastest_s": min(walls[name]), "median_s": statistics.median(walls[name]),
                   "cpu_fastest_s": min(cpus[name]), "cpu_median_s": statistics.median(cpus[name])}
            for name in todo}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--bin", type=Path, default=Path(sys.executable).parent,
                        help="the venv bin folder holding python, nccid and nccid-collector")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    results = measure(args.bin, args.repeat)
    floor = results["python -c pass (floor)"]
    print(f"{'command':26} {'fastest ms':>10} {'median ms':>10} {'CPU ms':>8} {'ratio':>7}")
    for name, row in results.items():
        row["ratio_fastest"] = row["fastest_s"] / floor["fastest_s"]
        row["ratio_median"] = row["median_s"] / floor["median_s"]
        print(f"{name:26} {row['fastest_s'] * 1000:10.1f} {row['median_s'] * 1000:10.1f} "
              f"{row['cpu_median_s'] * 1000:8.1f} {row['ratio_fastest']:7.2f}")
    aims = {name: results[name]["median_s"] < AIM_SECONDS
            for name in ("nccid --version", "nccid --help")}
    print("aim (median under 0.15 s): " + ", ".join(
        f"{name} {'met' if met else 'NOT met'}" for name, met in aims.items()))
    load = os.getloadavg()[0]
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = RESULTS / f"startup-{stamp}.json"
    out.write_text(json.dumps({"bin": str(args.bin), "repeat": args.repeat, "load": load,
                               "results": results, "aims_met": aims}, indent=2),
                   encoding="utf-8")
    print(f"load average {load:.1f}; written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
