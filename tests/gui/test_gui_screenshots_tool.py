"""``make screenshots``: every page rendered, with the states people need to see.

Runs ``tools/screenshots.py`` for real (off screen, demo service, a child pass at 200%) into a
temporary folder and reads the pictures back: the bar is red under problems, blue while
sending, green after it, and the 200% pass is twice the size.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QColor, QImage

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = ["sign-in", "sign-in-wrong-password", "main-sheet-with-problems", "main-sheet-clean",
            "main-sheet-uploaded", "wrong-template-banner", "status-sheet",
            "send-images-scanned", "send-images-sending", "send-images-sent", "checker-typed",
            "checker", "take-back-look-up", "take-back-confirm", "summary", "guidance",
            "settings-locked"]
BLUE, GREEN, RED = QColor("#41b6e6"), QColor("#007f3b"), QColor("#d5281b")
ERROR_TEXT = QColor("#b3261e")  # darker than the bar's red: 4.5:1 on the grey window


def _has_colour_low_down(path: Path, colour: QColor) -> bool:
    """Whether ``colour`` appears in the bottom fifth (where the progress bar is)."""
    image = QImage(str(path))
    wanted = colour.rgb()
    return any(image.pixel(x, y) == wanted
               for y in range(image.height() * 4 // 5, image.height(), 2)
               for x in range(0, image.width(), 4))


def test_screenshots_render_every_page_and_state(tmp_path, qapp):
    out = tmp_path / "shots"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "NCCID_HOME": str(tmp_path / "home")}
    env.pop("NCCID_POLICY_FILE", None)
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "screenshots.py"), "--out",
                           str(out)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    shots = {p.stem.split("-", 1)[1]: p for p in out.glob("[0-9][0-9]-*.png")}
    assert sorted(shots) == sorted(EXPECTED)
    assert [p.stem for p in sorted(out.glob("[0-9][0-9]-*.png"))] == [
        f"{n:02d}-{name}" for n, name in enumerate(EXPECTED, start=1)]
    assert _has_colour_low_down(shots["main-sheet-with-problems"], RED)
    assert _has_colour_low_down(shots["send-images-sending"], BLUE)
    assert not _has_colour_low_down(shots["send-images-sending"], GREEN)
    assert _has_colour_low_down(shots["send-images-sent"], GREEN)
    assert _has_colour_low_down(shots["sign-in-wrong-password"], ERROR_TEXT)
    normal = QImage(str(shots["main-sheet-with-problems"]))
    double = QImage(str(out / "200pct-01-main-sheet-with-problems.png"))
    assert (normal.width(), normal.height()) == (1280, 860)
    assert (double.width(), double.height()) == (2200, 1440)  # 1100 x 720 at 200%
    assert (out / "200pct-02-send-images-scanned.png").exists()
