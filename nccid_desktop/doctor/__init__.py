"""``nccid doctor`` and the Test connection button: what stands between this PC and the service.

Why step by step: "cannot connect" is useless to a nurse and to IT alike. Each step (settings,
name lookup, proxy, connection, secure connection, service, sign-in) gets a plain-English
verdict and, when it fails, what to ask IT for. The first failure stops the steps after it,
which would only fail for the same reason. The report names hosts, proxies and certificates,
never a password (a proxy's credentials are removed) and never patient data (none is used).

The steps along the network path are :mod:`.path_steps`, the service and sign-in steps
:mod:`.service_steps`, the verdicts :mod:`.report`, and the run that strings them together
:mod:`.run`.
"""

from __future__ import annotations

from nccid_desktop.doctor.report import STEPS, Check, DoctorReport
from nccid_desktop.doctor.run import diagnose

__all__ = ["STEPS", "Check", "DoctorReport", "diagnose"]
