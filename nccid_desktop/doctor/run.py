"""The doctor's run: every step in order, the first failure skipping the rest.

Why one place: the GUI's Test connection button and ``nccid doctor`` must run the same steps
in the same order, with the same progress and cancelling, and give the same report.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from nccid_desktop.config import EffectiveSettings
from nccid_desktop.doctor.path_steps import TARGET_STEPS, Target, check_settings
from nccid_desktop.doctor.report import NOT_TESTED, STEPS, Check, DoctorReport, Stop
from nccid_desktop.doctor.service_steps import check_service, check_sign_in, service_client
from nccid_desktop.tasks import NEVER_CANCELLED, CancelToken, Progress, ProgressCallback, no_progress
from nccid_desktop.transport.client import CollectorClient

log = logging.getLogger(__name__)


@dataclass
class _Run:
    effective: EffectiveSettings
    username: str | None
    password: str | None
    timeout: float
    target: Target | None = None
    client: CollectorClient | None = None

    def step(self, name: str) -> Check:
        if name == "Settings":
            check, self.target = check_settings(self.effective, self.timeout)
            return check
        assert self.target is not None
        if name == "Service":
            self.client = service_client(self.target)
            return check_service(self.client)
        if name == "Sign-in":
            assert self.client is not None
            return check_sign_in(self.client, self.username or self.target.settings.username,
                                 self.password)
        return TARGET_STEPS[name](self.target)


def diagnose(effective: EffectiveSettings, *, username: str | None = None,
             password: str | None = None, timeout: float = 10.0,
             progress: ProgressCallback = no_progress,
             cancel: CancelToken = NEVER_CANCELLED) -> DoctorReport:
    """Run every step in order; each verdict is plain English and safe to show or save."""
    report = DoctorReport()
    run = _Run(effective, username, password, timeout)
    failed = False
    for done, step in enumerate(STEPS):
        cancel.raise_if_cancelled()
        progress(Progress(done, len(STEPS), f"Checking: {step.lower()}"))
        if failed:
            report.checks.append(Check(step, "skip", NOT_TESTED))
            continue
        try:
            check = run.step(step)
        except Stop as stop:
            check, failed = stop.check, True
        log.info("doctor: %s %s", step, check.status)
        report.checks.append(check)
    progress(Progress(len(STEPS), len(STEPS), "Checks finished"))
    return report
