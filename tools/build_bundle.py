"""Build the PyInstaller bundle from a clean checkout, run its self-test, and report its figures.

Why a script and not only the spec: "it builds" is not "it works". After PyInstaller, the
bundle's own ``nccid-desktop --self-test`` runs (off screen, and under Xvfb with the real xcb
platform plugin when ``xvfb-run`` is there), ``nccid --version`` proves the console command,
and the bundle size and time to first window are printed beside their aims (200 MB, 1.5 s).
The benchmark and the packaging tests reuse these functions.

Usage: ``python tools/build_bundle.py [--dist dist] [--work build/pyinstaller] [--skip-build]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "packaging" / "nccid-desktop.spec"
BUNDLE_NAME = "nccid-desktop"
SIZE_AIM_MB = 200
FIRST_WINDOW_AIM_S = 1.5
EXE_SUFFIX = ".exe" if sys.platform == "win32" else ""


@dataclass(frozen=True)
class SelfTest:
    returncode: int
    line: str
    stderr: str

    @property
    def passed(self) -> bool:
        return self.returncode == 0 and "self-test passed" in self.line


def build(dist: Path, work: Path, *, python: str = sys.executable) -> Path:
    """Run PyInstaller on the spec (``--clean``: no cache from earlier builds); the bundle folder."""
    command = [python, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
               "--distpath", str(dist), "--workpath", str(work), str(SPEC)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"PyInstaller failed:\n{done.stderr[-4000:]}")
    return dist / BUNDLE_NAME


def executable(bundle: Path, name: str = BUNDLE_NAME) -> Path:
    return bundle / f"{name}{EXE_SUFFIX}"


def folder_size(folder: Path) -> int:
    """Bytes on disk of every file (symbolic links counted once, as the link)."""
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() or p.is_symlink())


def clean_environment(home: Path, platform: str = "offscreen") -> dict[str, str]:
    """Only what a fresh user session has: no virtual environment, no PYTHONPATH."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "NCCID_HOME": str(home),
           "QT_QPA_PLATFORM": platform, "LANG": "C.UTF-8"}
    if sys.platform == "win32":
        env = {**os.environ, "NCCID_HOME": str(home), "QT_QPA_PLATFORM": platform}
    return env


def run_self_test(bundle: Path, *, checks: str = "all", xvfb: bool = False,
                  timeout: float = 180) -> SelfTest:
    """The bundle's ``--self-test`` in a fresh home folder (under Xvfb with xcb when ``xvfb``)."""
    with tempfile.TemporaryDirectory(prefix="nccid-bundle-home-") as home:
        command = [str(executable(bundle)), f"--self-test={checks}"]
        env = clean_environment(Path(home), "xcb" if xvfb else "offscreen")
        if xvfb:
            command = ["xvfb-run", "-a", "-s", "-screen 0 1280x1024x24", *command]
        done = subprocess.run(command, env=env, capture_output=True, text=True,
                              timeout=timeout, check=False)
        report = Path(home) / "logs" / "self-test.txt"  # a windowed exe may have no stdout
        output = done.stdout if "self-test" in done.stdout or not report.is_file() \
            else report.read_text(encoding="utf-8")
    lines = [line for line in output.splitlines() if "self-test" in line]
    return SelfTest(done.returncode, lines[-1] if lines else "", done.stderr)


def first_window_seconds(command: list[str], runs: int = 5) -> float:
    """Median wall time from launch to exit of a command that opens its first window and quits."""
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="nccid-first-window-") as home:
            started = time.perf_counter()
            done = subprocess.run(command, env=clean_environment(Path(home)),
                                  capture_output=True, text=True, timeout=120, check=False)
            elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"{command[0]} failed: {done.stdout}{done.stderr}")
        times.append(elapsed)
    return statistics.median(times)


def app_first_window_command(bundle: Path) -> list[str]:
    """The app's window check: start, build every page of the main window, close, exit."""
    return [str(executable(bundle)), "--self-test=window"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "pyinstaller")
    parser.add_argument("--skip-build", action="store_true", help="test an existing bundle")
    args = parser.parse_args(argv)
    bundle = args.dist / BUNDLE_NAME
    if not args.skip_build:
        started = time.perf_counter()
        shutil.rmtree(bundle, ignore_errors=True)
        bundle = build(args.dist, args.work)
        print(f"Built {bundle} in {time.perf_counter() - started:.0f} s")
    results = [("off screen", run_self_test(bundle))]
    if shutil.which("xvfb-run") and sys.platform.startswith("linux"):
        results.append(("under Xvfb (xcb)", run_self_test(bundle, xvfb=True)))
    for where, result in results:
        print(f"Self-test {where}: {result.line or result.stderr.strip()[-500:]}")
    version = subprocess.run([str(executable(bundle, "nccid")), "--version"],
                             capture_output=True, text=True, timeout=60, check=False)
    print(f"Console command: {version.stdout.strip() or version.stderr.strip()}")
    size_mb = folder_size(bundle) / 1e6
    window = first_window_seconds(app_first_window_command(bundle))
    print(f"Bundle size: {size_mb:.0f} MB (aim < {SIZE_AIM_MB} MB)")
    print(f"Time to first window: {window:.2f} s (aim < {FIRST_WINDOW_AIM_S} s; median of 5)")
    ok = all(r.passed for _, r in results) and version.returncode == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
