"""Benchmark: the installed bundle's size and time to first window, against a bare PySide6 bundle.

Why a baseline: a frozen Qt app's start-up is mostly loading Qt and Python from disk, which
depends on the machine; a hello-world PySide6 window frozen the same way (PyInstaller onedir,
same Python, same Qt) and started the same way (off screen, fresh home folder, measured from
launch to exit) is the floor our bundle stands on. Ours opens the main window with every page
built (``--self-test=window``), which is more than the sign-in dialog a user sees first.

    .venv/bin/python benchmarks/bench_bundle.py [--bundle dist/nccid-desktop] [--runs 7]

Without ``--bundle`` it builds the bundle first (about a minute). Prints a table and writes
``benchmarks/results/bundle-<timestamp>.json`` (git-ignored). Aims: under 200 MB, first window
under 1.5 s.
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
sys.path.insert(0, str(ROOT / "tools"))

import build_bundle  # noqa: E402

HELLO = """\
import sys
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

app = QApplication(sys.argv[:1])
window = QMainWindow()
window.setCentralWidget(QLabel("Hello"))
window.show()
app.processEvents()
window.close()
"""


def build_baseline(folder: Path) -> Path:
    """A PySide6 hello-world window frozen as onedir, like our bundle."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "hello_window.py"
    script.write_text(HELLO, encoding="utf-8")
    command = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--onedir", "--windowed",
               "--log-level", "WARN", "--distpath", str(folder / "dist"), "--workpath",
               str(folder / "work"), "--specpath", str(folder), str(script)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"The baseline build failed:\n{done.stderr[-3000:]}")
    return folder / "dist" / "hello_window"


def start_times(command: list[str], runs: int) -> list[float]:
    return [build_bundle.first_window_seconds(command, runs=1) for _ in range(runs)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, help="an existing bundle folder (else build one)")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="nccid-bench-bundle-") as scratch:
        work = Path(scratch)
        bundle = args.bundle or build_bundle.build(work / "dist", work / "work")
        baseline = build_baseline(work / "baseline")
        ours_cmd = build_bundle.app_first_window_command(bundle)
        base_cmd = [str(build_bundle.executable(baseline, "hello_window"))]
        ours, base = [], []
        for _ in range(args.runs):  # alternate, so load on the shared machine hits both alike
            base += start_times(base_cmd, 1)
            ours += start_times(ours_cmd, 1)
        sizes = {"nccid-desktop": build_bundle.folder_size(bundle),
                 "baseline": build_bundle.folder_size(baseline)}
    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "runs": args.runs,
        "size_mb": {k: round(v / 1e6, 1) for k, v in sizes.items()},
        "first_window_s": {
            "nccid-desktop": {"median": round(statistics.median(ours), 3),
                              "min": round(min(ours), 3)},
            "baseline": {"median": round(statistics.median(base), 3), "min": round(min(base), 3)},
        },
        "aims": {"size_mb": build_bundle.SIZE_AIM_MB,
                 "first_window_s": build_bundle.FIRST_WINDOW_AIM_S},
    }
    window = result["first_window_s"]
    print(f"{'':16}{'size MB':>10}{'first window s (median)':>26}{'min':>8}")
    for name in ("baseline", "nccid-desktop"):
        print(f"{name:16}{result['size_mb'][name]:>10}{window[name]['median']:>26}"
              f"{window[name]['min']:>8}")
    ratio = window["nccid-desktop"]["median"] / window["baseline"]["median"]
    print(f"Ours vs baseline: {ratio:.1f}x the start-up time, "
          f"{sizes['nccid-desktop'] / sizes['baseline']:.2f}x the size. Aims: < "
          f"{build_bundle.SIZE_AIM_MB} MB, < {build_bundle.FIRST_WINDOW_AIM_S} s.")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"bundle-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"Wrote {out.relative_to(ROOT)}")
    met = (result["size_mb"]["nccid-desktop"] < build_bundle.SIZE_AIM_MB
           and window["nccid-desktop"]["median"] < build_bundle.FIRST_WINDOW_AIM_S)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
