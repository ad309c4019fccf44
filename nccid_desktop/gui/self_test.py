"""``nccid-desktop --self-test``: prove an installed copy is complete, without a network or a screen.

Why these checks: they are what a packaging mistake breaks first and what hospital IT cannot
see from outside. A machine policy with a mistake, a missing Qt plugin (no window on the real
desktop, no SVG icons), a missing form or theme file, a template writer or validator whose
data was left out, the de-identifier's action table, worker processes that cannot start in a
frozen app, or TLS that cannot load the machine's certificate store. Each check uses the real
parts on synthetic data (a generated sheet, the shipped sample images of a made-up patient);
nothing is sent anywhere.

The result is one line on standard output (``self-test passed: ...`` or ``self-test FAILED:
...``), also written to ``self-test.txt`` in the log folder because a windowed build on Windows
has no standard output; the exit code is 0 or 1. Failure details go to the (scrubbed) log.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from multiprocessing import get_context
from pathlib import Path

from nccid_desktop import __version__
from nccid_desktop.errors import NccidError
from nccid_desktop.gui.self_test_tls import CheckFailed, check_certificates
from nccid_desktop.gui.self_test_tls import require as _require
from nccid_desktop.paths import user_data_dir, user_log_dir
from nccid_desktop.resources import resource

log = logging.getLogger(__name__)

REPORT_FILE = "self-test.txt"
SAMPLE_IMAGES = ("sample-cr.dcm", "sample-ct.dcm")
SELF_TEST_SITE = "SELFTEST"
NATIVE_PLATFORM_PLUGIN = {"linux": "qxcb", "win32": "qwindows", "darwin": "qcocoa"}


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    seconds: float
    problem: str = ""


def check_settings(work: Path) -> None:
    """The machine policy and the user's settings can be read (a broken policy stops the app)."""
    from nccid_desktop import config

    config.resolve()


def check_qt_plugins(work: Path) -> None:
    """The native platform plugin (for the real desktop) and SVG icon support are shipped."""
    from PySide6.QtCore import QLibraryInfo, QPluginLoader
    from PySide6.QtGui import QImageReader

    from nccid_desktop.gui.icons import icon

    platforms = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms"
    wanted = NATIVE_PLATFORM_PLUGIN.get(sys.platform)
    if wanted is not None:
        found = [p for p in platforms.glob("*") if p.stem.removeprefix("lib") == wanted]
        _require(bool(found), f"the Qt platform plugin {wanted} is missing from {platforms}")
        loader = QPluginLoader(str(found[0]))
        _require(loader.load(), f"the Qt platform plugin {wanted} cannot be loaded (a library it "
                 f"needs is missing): {loader.errorString()}")
    formats = {bytes(f.data()).decode() for f in QImageReader.supportedImageFormats()}
    _require("svg" in formats, "the Qt SVG image plugin is missing (icons cannot be drawn)")
    _require(not icon("app").pixmap(32, 32).isNull(), "the app icon cannot be drawn")


def check_main_window(work: Path) -> None:
    """Every page of the main window builds from the compiled forms and the theme."""
    from PySide6.QtWidgets import QApplication

    from nccid_desktop import config
    from nccid_desktop.gui.context import AppContext, SiteOptions
    from nccid_desktop.gui.main_window import MainWindow
    from nccid_desktop.gui.workers import WorkerPool

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    pool = WorkerPool(app)
    context = AppContext(pool, SiteOptions(), data_dir=work / "data")
    window = MainWindow(context, config.resolve())
    try:
        window.show()
        app.processEvents()
        _require(window.isVisible(), "the main window did not open")
        for row in range(window.form.sections.count()):
            window.form.sections.setCurrentRow(row)
            app.processEvents()
        _require(bool(app.styleSheet()), "the theme (ui/theme.qss) was not loaded")
    finally:
        window.close()
        pool.shutdown(5_000)
        context.close()


def _site_keys():
    from nccid_desktop.keys import generate_site_keys

    return generate_site_keys(SELF_TEST_SITE)


def check_sheet(work: Path) -> None:
    """A sheet written by the template writer validates and pseudonymises; no NHS number leaves."""
    from nccid_desktop.demo_data import demo_patient, write_sheet
    from nccid_desktop.pseudonym import is_pseudonym, open_linkage_token
    from nccid_desktop.sheets import STATUS, build_envelopes, validate_workbook

    today = date.today()
    patients = [demo_patient(seed, today) for seed in (11, 12, 13)]
    rows = [{"nhs": p.nhs_number, "hospital": p.hospital_number,
             "SwabDate": today - timedelta(days=3), "SwabStatus": 0} for p in patients]
    path = write_sheet(work / "status-sample.xlsx", STATUS, rows)
    report = validate_workbook(path, "status", today=today)
    _require(report.ok and len(report.valid_rows) == len(rows),
             f"the sample sheet did not validate ({report.error_count} problems)")
    keys, controller_private = _site_keys()
    envelopes = build_envelopes(report, keys)
    _require(len(envelopes) == len(rows), "the sample sheet did not give one record per row")
    for patient, envelope in zip(patients, envelopes, strict=True):
        _require(is_pseudonym(envelope.pseudonym), "a record has no valid pseudonym")
        text = str(envelope.to_json()) + str(envelope.record)
        _require(patient.nhs_number not in text and patient.hospital_number not in text,
                 "an identifier was found in an outgoing record")
        _require(envelope.linkage_token is not None and open_linkage_token(
            controller_private, envelope.linkage_token, keys.site) == patient.nhs_number,
                 "the linkage token does not open with the controller's key")


def _identifying_values(path: Path) -> list[str]:
    from pydicom import dcmread

    ds = dcmread(path)
    names = [part for part in str(ds.PatientName).split("^") if len(part) >= 3]
    return [*names, str(ds.PatientID), str(ds.PatientBirthDate), str(ds.AccessionNumber)]


def check_dicom(work: Path) -> None:
    """The shipped samples de-identify through worker processes and pass an independent look."""
    from pydicom import dcmread

    from nccid_desktop.dicom.deid.one_file import DeidContext
    from nccid_desktop.dicom.deid.pipeline import deidentify_batch
    from nccid_desktop.dicom.scan.sources import SourceFile
    from nccid_desktop.pseudonym import pseudonym_for

    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        _require(pool.submit(os.getpid).result(timeout=60) != os.getpid(),
                 "worker processes cannot start")
    samples = [resource("samples", name) for name in SAMPLE_IMAGES]
    _require(all(p.is_file() for p in samples), "the sample images are missing from resources")
    keys, _ = _site_keys()
    report = deidentify_batch([SourceFile(p) for p in samples], work / "staged",
                              DeidContext(keys), quarantine_dir=work / "quarantine", workers=2)
    _require(report.counts.get("deidentified") == len(samples),
             "the sample images were not de-identified: "
             + "; ".join(o.message for o in report.outcomes if o.message))
    for sample, outcome in zip(samples, report.outcomes, strict=True):
        assert outcome.output is not None
        original = dcmread(sample)
        expected = pseudonym_for(keys, hospital_number=str(original.PatientID))
        staged = dcmread(outcome.output)
        _require(staged.PatientID == expected and staged.PatientIdentityRemoved == "YES",
                 "a de-identified sample has the wrong pseudonym or no de-identified marker")
        raw = outcome.output.read_bytes().upper()
        _require(not any(v.upper().encode() in raw for v in _identifying_values(sample)),
                 "an identifier survived de-identification of a sample image")


CHECKS: tuple[tuple[str, Callable[[Path], None]], ...] = (
    ("settings", check_settings),
    ("qt-plugins", check_qt_plugins),
    ("window", check_main_window),
    ("sheet", check_sheet),
    ("dicom", check_dicom),
    ("certificates", check_certificates),
)


def run_checks(names: set[str] | None = None) -> list[CheckResult]:
    """Run the chosen checks (all by default) in a temporary folder; never raises."""
    results = []
    with tempfile.TemporaryDirectory(prefix="nccid-self-test-") as folder:
        for name, check in CHECKS:
            if names is not None and name not in names:
                continue
            started = time.perf_counter()
            work = Path(folder) / name
            work.mkdir()
            try:
                check(work)
                results.append(CheckResult(name, True, time.perf_counter() - started))
            except Exception as exc:
                log.exception("Self-test check %s failed", name)
                problem = str(exc) if isinstance(exc, (CheckFailed, NccidError)) else \
                    f"{type(exc).__name__} (details in the log)"
                results.append(CheckResult(name, False, time.perf_counter() - started, problem))
    return results


def summary_line(results: list[CheckResult], seconds: float) -> str:
    failed = [r for r in results if not r.ok]
    if failed:
        return (f"NCCID Desktop {__version__} self-test FAILED: "
                + "; ".join(f"{r.name}: {r.problem}" for r in failed))
    return (f"NCCID Desktop {__version__} self-test passed: "
            f"{', '.join(r.name for r in results)} ({seconds:.1f} s)")


def _report(line: str) -> None:
    if sys.stdout is not None:
        print(line, flush=True)
    try:
        folder = user_log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / REPORT_FILE).write_text(line + "\n", encoding="utf-8")
    except OSError:
        log.warning("The self-test result could not be written to the log folder.")


def _application() -> None:
    """The app as ``nccid-desktop`` starts it (name, icon, theme), so the window check is real."""
    from PySide6.QtWidgets import QApplication

    from nccid_desktop.gui.icons import icon
    from nccid_desktop.gui.style import apply_theme

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("NCCID Desktop")
    app.setWindowIcon(icon("app"))
    apply_theme(app)


def run_self_test(only: str | None = None) -> int:
    """Run the checks named in ``only`` (comma-separated; all when None or "all"); 0 when all pass."""
    started = time.perf_counter()
    only = None if only in (None, "", "all") else only
    names = {n.strip() for n in only.split(",")} if only else None
    unknown = sorted((names or set()) - {name for name, _ in CHECKS})
    if unknown:
        _report(f"NCCID Desktop self-test: unknown check(s) {', '.join(unknown)}; "
                f"known: {', '.join(name for name, _ in CHECKS)}")
        return 1
    log.info("Self-test started (data folder %s)", user_data_dir())
    try:
        _application()
    except Exception as exc:
        log.exception("Self-test: the Qt application could not start")
        _report(f"NCCID Desktop {__version__} self-test FAILED: qt: {type(exc).__name__} "
                "(details in the log)")
        return 1
    results = run_checks(names)
    line = summary_line(results, time.perf_counter() - started)
    log.info("%s", line)
    _report(line)
    return 0 if all(r.ok for r in results) else 1
