"""The doctor's verdicts: one check per step, and the report the app and ``nccid doctor`` show.

Why a module of its own: the steps (:mod:`.path_steps`, :mod:`.service_steps`) produce these
and the front ends read them; neither needs the other's code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Status = Literal["pass", "warn", "fail", "skip"]
STEPS = ("Settings", "Name lookup", "Proxy", "Connection", "Secure connection", "Service",
         "Sign-in")
NOT_TESTED = "Not tested, because an earlier check failed."


@dataclass(frozen=True)
class Check:
    step: str
    status: Status
    verdict: str
    ask_it: str = ""


@dataclass
class DoctorReport:
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.status != "fail" for check in self.checks)

    def check(self, step: str) -> Check:
        return next(c for c in self.checks if c.step == step)

    def lines(self) -> list[str]:
        lines = []
        for check in self.checks:
            lines.append(f"{check.status.upper():<5} {check.step}: {check.verdict}")
            if check.ask_it:
                lines.append(f"      Next step: {check.ask_it}")
        return lines


class Stop(Exception):
    """A failed step: it ends the run, and the steps after it are not tested."""

    def __init__(self, check: Check) -> None:
        self.check = check


def fail(step: str, verdict: str, ask_it: str = "") -> Stop:
    return Stop(Check(step, "fail", verdict, ask_it))
