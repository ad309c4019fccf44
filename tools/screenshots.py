"""Render every window and page of NCCID Desktop to PNG files, so people can look without running it.

Runs the real app in demo mode (embedded collection service on 127.0.0.1, generated sample
data), fills each page the way a user would (the sheet with problems, the clean sheet, a
scanned image folder, the checker), and saves ``screenshots/NN-name.png`` (an ignored folder).
Use ``make screenshots`` (under Xvfb) or ``QT_QPA_PLATFORM=offscreen python tools/screenshots.py``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _wait(app, done, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)


def main(out_dir: Path = ROOT / "screenshots", scale: str | None = None) -> int:
    os.environ.setdefault("NCCID_HOME", tempfile.mkdtemp(prefix="nccid-shots-"))
    if scale:
        os.environ["QT_SCALE_FACTOR"] = scale
    from PySide6.QtWidgets import QApplication

    from nccid_desktop.gui.app import start_demo
    from nccid_desktop.gui.context import AppContext, SiteOptions
    from nccid_desktop.gui.main_window import SECTION_KEYS, MainWindow
    from nccid_desktop.gui.signin_dialog import SignInDialog
    from nccid_desktop.gui.style import apply_theme
    from nccid_desktop.gui.workers import WorkerPool
    from nccid_desktop.paths import user_data_dir
    from nccid_desktop.transport.client import CollectorClient

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app)
    out_dir.mkdir(parents=True, exist_ok=True)
    demo = start_demo(user_data_dir() / "demo")
    pool = WorkerPool(app)
    shots: list[Path] = []

    def grab(widget, name: str) -> None:
        app.processEvents()
        path = out_dir / f"{len(shots) + 1:02d}-{name}.png"
        widget.grab().save(str(path))
        shots.append(path)

    try:
        dialog = SignInDialog(pool, demo.url, server_locked=True, username=demo.username)
        dialog.show()
        grab(dialog, "sign-in")
        dialog.close()
        client = CollectorClient(demo.url)
        client.sign_in(demo.username, demo.password)
        context = AppContext(pool, SiteOptions(server_url=demo.url), demo=True,
                             client=client, keys=client.site_keys(),
                             data_dir=user_data_dir() / "demo-shots")
        window = MainWindow(context)
        window.resize(1280, 860)
        window.show()
        samples = demo.samples
        main_page, status_page = window.page("main"), window.page("status")
        main_page.load(samples / "Main sheet (with problems).xlsx")
        _wait(app, lambda: main_page.worker is None and main_page.checked is not None)
        grab(window, "main-sheet-with-problems")
        main_page.load(samples / "Main sheet (clean).xlsx")
        _wait(app, lambda: main_page.worker is None and main_page.checked is not None)
        grab(window, "main-sheet-clean")
        status_page.load(samples / "Covid Status sheet.xlsx")
        _wait(app, lambda: status_page.worker is None and status_page.checked is not None)
        main_page.load(samples / "Covid Status sheet.xlsx")
        _wait(app, lambda: main_page.worker is None and main_page.checked is not None)
        grab(window, "wrong-template-banner")
        window.open_section("status")
        grab(window, "status-sheet")
        images = window.page("images")
        window.open_section("images")
        images.scan([samples / "PACS export"])
        _wait(app, lambda: images.worker is None and images.selection is not None)
        grab(window, "send-images")
        checker = window.page("checker")
        window.open_section("checker")
        checker.form.numbers.setPlainText("943 476 5919\n1234567890")
        grab(window, "checker")
        for key in ("summary", "guidance", "settings"):
            window.open_section(key)
            if key == "summary":
                summary = window.page("summary")
                _wait(app, lambda s=summary: s.form.progressPanel.state != "working", 20)
            grab(window, key)
        assert len(SECTION_KEYS) == 7
        window.close()
    finally:
        pool.shutdown(10_000)
        demo.stop()
    for path in shots:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(scale=os.environ.get("SCREENSHOT_SCALE")))
