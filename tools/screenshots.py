"""Render every window and page of NCCID Desktop to PNG files, so people can look without running it.

Runs the real app in demo mode (embedded collection service on 127.0.0.1, generated sample
data), uses each page the way a user would (a wrong password, the sheet with problems and one
chosen, the clean sheet, a scanned image folder sent to the service, the checker after Check,
a machine policy that locks settings), and saves ``screenshots/NN-name.png`` (an ignored
folder). A second pass in a child process renders the main window at 200% scale
(``QT_SCALE_FACTOR=2``) as ``screenshots/200pct-NN-name.png``. ``--docs`` also refreshes the
user guide's pictures in ``docs/images/`` (same names, scaled down, 256 colours).

Use ``make screenshots`` (under Xvfb) or ``QT_QPA_PLATFORM=offscreen python tools/screenshots.py``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
#: Screenshot name -> the user guide picture made from it (docs/user-guide.md names them).
DOC_IMAGES = {"sign-in": "sign-in", "main-sheet-with-problems": "sheet-with-problems",
              "main-sheet-clean": "sheet-clean", "send-images-scanned": "send-images",
              "checker": "checker", "settings-locked": "settings",
              "take-back-look-up": "take-back-look-up", "take-back-confirm": "take-back-confirm"}
DOC_WIDTH = 1000


def _wait(app, done, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)
    if not done():
        raise SystemExit("The app did not reach the expected state in time.")


def _policy(folder: Path, server_url: str) -> Path:
    """A machine policy as IT would deploy it: server and site fixed, proxy a default."""
    path = folder / "policy.toml"
    path.write_text(f'server_url = "{server_url}"\nsite = "RSH"\nproxy = "none"\n'
                    'locked = ["server_url", "site"]\n', encoding="utf-8")
    return path


def main(out_dir: Path, *, scale: str | None = None, docs: bool = False) -> int:
    home = Path(os.environ.setdefault("NCCID_HOME", tempfile.mkdtemp(prefix="nccid-shots-")))
    if scale:
        os.environ["QT_SCALE_FACTOR"] = scale
    from PySide6.QtWidgets import QApplication

    from nccid_desktop import config
    from nccid_desktop.gui.context import AppContext, SiteOptions
    from nccid_desktop.gui.main_window import SECTION_KEYS, MainWindow
    from nccid_desktop.gui.signin_dialog import SignInDialog
    from nccid_desktop.gui.style import apply_theme
    from nccid_desktop.gui.workers import WorkerPool
    from nccid_desktop.local_service import start_demo
    from nccid_desktop.paths import user_data_dir
    from nccid_desktop.transport.client import CollectorClient

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app)
    out_dir.mkdir(parents=True, exist_ok=True)
    prefix = "200pct-" if scale else ""
    for old in out_dir.glob(f"{prefix}[0-9][0-9]-*.png"):
        old.unlink()
    demo = start_demo(user_data_dir() / "demo")
    os.environ["NCCID_POLICY_FILE"] = str(_policy(home, demo.url))
    pool = WorkerPool(app)
    shots: dict[str, Path] = {}

    def grab(widget, name: str) -> None:
        app.processEvents()
        path = shots.get(name) or out_dir / f"{prefix}{len(shots) + 1:02d}-{name}.png"
        widget.grab().save(str(path))
        shots[name] = path

    try:
        if not scale:
            dialog = SignInDialog(pool, demo.url, server_locked=True, username=demo.username)
            dialog.show()
            grab(dialog, "sign-in")
            dialog.form.password.setText("not the password")
            dialog.sign_in()
            _wait(app, lambda: dialog.form.errorMessage.isVisible())
            grab(dialog, "sign-in-wrong-password")
            dialog.close()
        client = CollectorClient(demo.url)
        client.sign_in(demo.username, demo.password)
        context = AppContext(pool, SiteOptions(server_url=demo.url), demo=True,
                             client=client, keys=client.site_keys(),
                             data_dir=user_data_dir() / "demo-shots")
        window = MainWindow(context, config.resolve())
        window.resize(*((1100, 720) if scale else (1280, 860)))
        window.show()
        samples = demo.samples
        main_page, status_page = window.page("main"), window.page("status")

        def check(page, name: str) -> None:
            page.load(samples / name)
            _wait(app, lambda: page.worker is None and page.checked is not None)

        check(main_page, "Main sheet (with problems).xlsx")
        tree = main_page.form.problemsTree
        tree.setCurrentItem(tree.topLevelItem(0).child(0))
        grab(window, "main-sheet-with-problems")
        images = window.page("images")

        def scan() -> None:
            window.open_section("images")
            images.scan([samples / "PACS export"])
            _wait(app, lambda: images.worker is None and images.selection is not None)
            grab(window, "send-images-scanned")

        if scale:
            scan()
            return _report(shots, docs=False)
        check(main_page, "Main sheet (clean).xlsx")
        window.open_section("main")
        grab(window, "main-sheet-clean")
        numbers = [row[0] for row in main_page.checked.cells.rows[1:3]]
        main_page.upload()
        _wait(app, lambda: main_page.worker is None
              and main_page.form.progressPanel.state != "working")
        grab(window, "main-sheet-uploaded")
        check(status_page, "Covid Status sheet.xlsx")
        check(main_page, "Covid Status sheet.xlsx")
        grab(window, "wrong-template-banner")
        window.open_section("status")
        grab(window, "status-sheet")
        scan()
        _send_images(app, images, lambda: grab(window, "send-images-sending"))
        grab(window, "send-images-sent")
        checker = window.page("checker")
        window.open_section("checker")
        checker.form.numbers.setPlainText("\n".join([numbers[0], "1234567890", *numbers[1:]]))
        grab(window, "checker-typed")
        checker.form.checkButton.click()
        _wait(app, lambda: checker.form.progressPanel.state in ("success", "error"), 20)
        grab(window, "checker")
        _take_back(app, context, numbers[0], grab)
        for key in ("summary", "guidance", "settings"):
            window.open_section(key)
            if key == "summary":
                summary = window.page("summary")
                _wait(app, lambda s=summary: s.form.progressPanel.state != "working", 20)
            grab(window, "settings-locked" if key == "settings" else key)
        assert len(SECTION_KEYS) == 7
        window.close()
    finally:
        pool.shutdown(10_000)
        demo.stop()
    _second_pass_at_200_percent(out_dir)
    return _report(shots, docs=docs)


def _take_back(app, context, number: str, grab) -> None:
    """The Checker's take-back dialog: what the service holds, then the confirmation ticked
    (the picture stops there: the demo patient is not withdrawn)."""
    from nccid_desktop.gui.take_back_dialog import TakeBackDialog

    dialog = TakeBackDialog(context, number)
    dialog.show()
    dialog.form.lookUpButton.click()
    _wait(app, lambda: bool(dialog.form.holding.text()), 20)
    settle = time.monotonic() + 0.5  # the columns are refitted once the rows are in
    while time.monotonic() < settle:
        app.processEvents()
        time.sleep(0.02)
    grab(dialog, "take-back-look-up")
    dialog.form.confirm.setChecked(True)
    grab(dialog, "take-back-confirm")
    dialog.close()


def _send_images(app, images, grab_while_sending) -> None:
    """Send the scanned series, grabbing the page about half-way (blue bar, per-series states).

    The demo's few images go in a fraction of a second, less than the pool's progress
    interval, so for this picture every progress report is delivered."""
    from nccid_desktop.gui import workers

    original, interval = images._progress, workers.PROGRESS_INTERVAL_SECONDS
    halfway = [False]

    def progress(update) -> None:
        original(update)
        bar = images.form.progressPanel.form.bar
        if not halfway[0] and bar.value() < bar.maximum():
            grab_while_sending()
            halfway[0] = bar.value() >= bar.maximum() / 2

    images._progress, workers.PROGRESS_INTERVAL_SECONDS = progress, 0
    try:
        images.send()
        _wait(app, lambda: images.worker is None
              and images.form.progressPanel.state != "working")
    finally:
        images._progress, workers.PROGRESS_INTERVAL_SECONDS = original, interval


def _second_pass_at_200_percent(out_dir: Path) -> None:
    """Qt reads the scale factor once per process, so 200% is rendered by a child process."""
    env = {**os.environ, "NCCID_HOME": tempfile.mkdtemp(prefix="nccid-shots-200-")}
    env.pop("NCCID_POLICY_FILE", None)
    subprocess.run([sys.executable, __file__, "--scale", "2", "--out", str(out_dir)], env=env,
                   check=True, timeout=300)


def _report(shots: dict[str, Path], *, docs: bool) -> int:
    for path in shots.values():
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    if docs:
        _refresh_doc_images(shots)
    return 0


def _refresh_doc_images(shots: dict[str, Path]) -> None:
    """The user guide's pictures: the same views, 1000 pixels wide at most, 256 colours."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage

    for shot, doc_name in DOC_IMAGES.items():
        image = QImage(str(shots[shot]))
        if image.width() > DOC_WIDTH:
            image = image.scaledToWidth(DOC_WIDTH, Qt.TransformationMode.SmoothTransformation)
        target = ROOT / "docs" / "images" / f"{doc_name}.png"
        flat = Qt.ImageConversionFlag.ThresholdDither  # dithering would triple the file size
        image.convertToFormat(QImage.Format.Format_Indexed8, flat).save(str(target))
        print(target.relative_to(ROOT))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", help="render at this QT_SCALE_FACTOR (the child pass)")
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    parser.add_argument("--docs", action="store_true", help="also refresh docs/images/")
    options = parser.parse_args()
    raise SystemExit(main(options.out, scale=options.scale, docs=options.docs))
