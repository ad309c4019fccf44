"""Drive every page of the app through its states and audit what the user sees at each size.

Run as a child process (Qt reads ``QT_SCALE_FACTOR`` and the platform once per process) by
``test_gui_what_users_see.py``: ``python -m tests.gui.see_child SIZES`` prints one JSON line,
the list of problems found (:mod:`tests.gui.ui_audit`), after the real collection service on
loopback, the demo sample data and the real pages have gone through: sign-in (and a wrong
password), each sheet section empty, with problems, ready, uploaded, failed to open and on
the wrong template, Send Images empty, scanned and sent, the checker typed and answered, the
summary, the guidance and the settings (plain, tested, and locked by a machine policy).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QApplication, QWidget

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.gui.ui_audit import _name, audit  # noqa: E402


def _wait(app: QApplication, done: Callable[[], bool], timeout: float = 60,
          label: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit(f"the page did not reach the expected state in time: {label}")
        app.processEvents()
        time.sleep(0.01)


SHOTS = __import__("os").environ.get("NCCID_SEE_SHOTS", "")


def _settle(app: QApplication) -> None:
    """Let the layouts and the views' delayed item layouts finish, as they do on screen."""
    for _ in range(4):
        app.processEvents()
        time.sleep(0.02)


def main(sizes: list[tuple[int, int]]) -> int:
    import os

    home = Path(tempfile.mkdtemp(prefix="nccid-see-"))
    os.environ["NCCID_HOME"] = str(home)
    os.environ["NCCID_POLICY_FILE"] = str(home / "policy.toml")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from nccid_desktop import config
    from nccid_desktop.demo_data import generate_demo_data
    from nccid_desktop.gui.context import AppContext, SiteOptions
    from nccid_desktop.gui.main_window import MainWindow
    from nccid_desktop.gui.signin_dialog import SignInDialog
    from nccid_desktop.gui.style import apply_theme
    from nccid_desktop.gui.workers import WorkerPool
    from tests.gui.conftest import sign_in
    from tests.gui.gui_service import live_service

    apply_theme(app)
    problems: list[dict[str, str]] = []
    pool = WorkerPool(app)

    def look(widget: QWidget, page: str, *, resize: bool = True) -> None:
        for width, height in sizes if resize else [(0, 0)]:
            if resize:
                widget.resize(width, height)
            _settle(app)
            where = f"{page} @{width}x{height}" if resize else page
            problems.extend(audit(widget, where))
            if resize and (widget.width() > width or widget.height() > height):
                problems.append({"page": where, "what": "too big", "widget": _name(widget),
                                 "detail": f"needs at least {widget.width()}x"
                                 f"{widget.height()}"})
            if SHOTS:
                name = "".join(c if c.isalnum() else "-" for c in where)
                widget.grab().save(str(Path(SHOTS) / f"{name}.png"))

    with live_service(home / "collector") as service:
        demo = generate_demo_data(home / "samples")
        dialog = SignInDialog(pool, service.url, server_locked=True,
                              username=service.account.username)
        dialog.show()
        look(dialog, "sign-in", resize=False)
        dialog.form.password.setText("not the password")
        dialog.sign_in()
        _wait(app, lambda: dialog.form.errorMessage.isVisible() and
              dialog.form.signInButton.isEnabled())
        look(dialog, "sign-in: wrong password", resize=False)
        dialog.close()

        context = AppContext(pool, SiteOptions(server_url=service.url), demo=True,
                             data_dir=home / "data")
        context.samples = demo.folder
        sign_in(context, service)
        window = MainWindow(context, config.resolve())
        window.show()
        main_page, status_page = window.page("main"), window.page("status")

        def check(page, path: Path) -> None:
            page.load(path)
            _wait(app, lambda: page.worker is None and page.form.progressPanel.state
                  in ("success", "error"), label=str(path.name))

        look(window, "main: empty")
        check(main_page, demo.main_with_problems)
        tree = main_page.form.problemsTree
        tree.setCurrentItem(tree.topLevelItem(0).child(0))
        look(window, "main: problems")
        check(main_page, demo.main_clean)
        look(window, "main: ready")
        main_page.upload()
        _wait(app, lambda: main_page.worker is None
              and main_page.form.progressPanel.state in ("success", "error"), label="upload")
        look(window, "main: done")
        fake = home / "fake.xlsx"
        fake.write_bytes(b"not a workbook")
        check(main_page, fake)
        look(window, "main: failed to open")
        check(main_page, demo.status)
        look(window, "main: wrong template")
        window.open_section("status")
        check(status_page, demo.status)
        look(window, "status: ready")

        images = window.page("images")
        window.open_section("images")
        look(window, "images: empty")
        images.scan([demo.images])
        _wait(app, lambda: images.worker is None and images.selection is not None,
              label="scan")
        look(window, "images: ready")
        images.send()
        _wait(app, lambda: images.worker is None
              and images.form.progressPanel.state in ("success", "error"), label="send")
        look(window, "images: done")

        checker = window.page("checker")
        window.open_section("checker")
        look(window, "checker: empty")
        numbers = [p.nhs_number for p in demo.positives[:2]]
        checker.form.numbers.setPlainText("\n".join([*numbers, "1234567890"]))
        look(window, "checker: typed")
        checker.form.checkButton.click()
        _wait(app, lambda: checker.form.progressPanel.state in ("success", "error"),
              label="checker")
        look(window, "checker: results")

        window.open_section("summary")
        summary = window.page("summary")
        _wait(app, lambda: summary.form.progressPanel.state != "working", label="summary")
        look(window, "summary")
        window.open_section("guidance")
        look(window, "guidance")
        window.open_section("settings")
        look(window, "settings")
        window.close()

        (home / "policy.toml").write_text(
            f'server_url = "{service.url}"\nsite = "RSH"\nproxy = "none"\n'
            'locked = ["server_url", "site", "proxy"]\n', encoding="utf-8")
        locked = MainWindow(context, config.resolve())
        locked.show()
        locked.open_section("settings")
        look(locked, "settings: locked by policy")
        locked.close()
    pool.shutdown(10_000)
    print(json.dumps(problems))
    return 0


if __name__ == "__main__":
    chosen = [tuple(int(n) for n in size.split("x")) for size in sys.argv[1:]] or [(1024, 700)]
    raise SystemExit(main(chosen))  # type: ignore[arg-type]
