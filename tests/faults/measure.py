"""Run ``nccid`` in a child process and measure its peak memory (with its own workers).

Why a child: peak RSS is a property of a whole process; measured in the test process it
would include every earlier test. The child reads its own peak from ``VmHWM`` (Linux): its
``getrusage(RUSAGE_SELF)`` would not do, since Linux carries the peak of the process that
forked it (the test run) across ``exec``. Its worker processes, forked from the child, are
measured with ``getrusage(RUSAGE_CHILDREN)``. The larger is printed on the last line of stderr.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

_DRIVER = """
import resource, sys
from nccid_desktop.cli import main

def own_peak_kb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))

try:
    code = main(sys.argv[1:])
finally:
    peak = max(own_peak_kb(), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    sys.stdout.flush()
    print(f"\\nPEAK_KB={peak}", file=sys.stderr)
sys.exit(code)
"""


@dataclass(frozen=True)
class Measured:
    returncode: int
    stdout: str
    stderr: str
    peak_mb: float


def run_nccid(*args: str | Path, env: dict[str, str] | None = None,
              timeout: float = 120) -> Measured:
    done = subprocess.run([sys.executable, "-c", _DRIVER, *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env)
    body, _, last = done.stderr.rstrip().rpartition("\n")
    peak_kb = int(last.removeprefix("PEAK_KB=")) if last.startswith("PEAK_KB=") else -1
    return Measured(done.returncode, done.stdout, body, peak_kb / 1024)
