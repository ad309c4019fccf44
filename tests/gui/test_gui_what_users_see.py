"""A test that sees what the user sees: every page in every state, at 1024x700, 1366x768 and
1920x1080, and at 200% scale, offscreen and on a real X server (Xvfb), fails when a label, a
header, a cell or a button is cut off without a tooltip, when a view pushes its statuses out
of sight, when a button stretches far past its words, when widgets overlap, when the window
cannot shrink to the size asked, or when text is under WCAG AA contrast (4.5:1).

Each combination runs in a child process (:mod:`tests.gui.see_child`), because Qt reads the
platform and the scale factor once per process; the rules are in :mod:`tests.gui.ui_audit`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SIZES = ("1024x700", "1366x768", "1920x1080")
CASES = {
    "offscreen-100%": ("offscreen", "1", SIZES),
    "offscreen-200%": ("offscreen", "2", SIZES),
    "xvfb-100%": ("xcb", "1", SIZES),
    "xvfb-200%": ("xcb", "2", SIZES),
}


def _run(platform: str, scale: str, sizes: tuple[str, ...], tmp_path: Path) -> list[dict]:
    env = {**os.environ, "QT_QPA_PLATFORM": platform, "QT_SCALE_FACTOR": scale,
           "NCCID_HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "tests.gui.see_child", *sizes]
    if platform == "xcb":
        xvfb = shutil.which("xvfb-run")
        assert xvfb, "xvfb-run is part of the test environment (docs: system packages)"
        env.pop("DISPLAY", None)
        command = [xvfb, "-a", "-s", "-screen 0 4000x2300x24", *command]  # 1920x1080 at 200%
    child = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240,
                           cwd=ROOT)
    assert child.returncode == 0, child.stderr[-3000:]
    return json.loads(child.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("case", list(CASES))
def test_every_page_in_every_state_is_readable(case, tmp_path):
    platform, scale, sizes = CASES[case]
    problems = _run(platform, scale, sizes, tmp_path)
    shown = "\n".join(f"{p['page']}: {p['what']} {p['widget']}: {p['detail']}"
                      for p in problems[:40])
    assert not problems, f"{len(problems)} problems a user would see:\n{shown}"
