"""Run ``nccid`` in a child process and measure its peak memory (with its own workers).

Why a child: peak RSS is a property of a whole process; measured in the test process it
would include every earlier test. The child reads ``getrusage`` for itself and for the
worker processes it waited for, and prints the larger on its last line of stderr.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

_DRIVER = """
import resource, sys
from nccid_desktop.cli import main
try:
    code = main(sys.argv[1:])
finally:
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
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
