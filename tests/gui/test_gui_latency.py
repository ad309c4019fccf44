"""The GUI thread stays responsive (<100 ms event-loop latency, 99th percentile) during a large de-identify
and send against the real service: all file, crypto and network work is in the workers."""

from __future__ import annotations

import time
from datetime import date

import pytest
from PySide6.QtCore import QTimer

from nccid_desktop.demo_data import demo_patient, write_images
from nccid_desktop.gui.images_page import ImagesPage

TICK_MS = 10
LIMIT_MS = 100


@pytest.mark.slow
def test_event_loop_latency_stays_low_during_a_large_send(qtbot, signed_context, service,
                                                         tmp_path):
    people = tuple(demo_patient(seed, date(2026, 11, 1)) for seed in range(1, 5))
    folder = write_images(tmp_path / "export", people[:3], people[3:], people[0], ct_slices=400)
    page = ImagesPage(signed_context)
    qtbot.addWidget(page)
    page.show()
    page.scan([folder])
    qtbot.waitUntil(lambda: page.worker is None and page.selection is not None, timeout=60_000)
    files = sum(d.images_to_send for d in page.selection.included)
    assert files >= 400

    gaps: list[float] = []
    last = [time.monotonic()]

    def tick() -> None:
        now = time.monotonic()
        gaps.append((now - last[0]) * 1000 - TICK_MS)
        last[0] = now

    timer = QTimer()
    timer.setInterval(TICK_MS)
    timer.timeout.connect(tick)
    timer.start()
    last[0] = time.monotonic()
    page.send()
    qtbot.waitUntil(lambda: page.worker is None, timeout=180_000)
    timer.stop()
    assert page.form.progressPanel.state == "success", page.form.progressPanel.message
    assert page.job.images_sent == files
    assert len(gaps) > 50, "the send was too short to measure"
    # Work on the GUI thread shows as many long gaps; a busy machine (2 shared cores) can
    # deschedule the process once in a while, so the 99th percentile carries the 100 ms aim
    # and no single gap may reach half a second.
    ordered = sorted(gaps)
    p99 = ordered[int(len(ordered) * 0.99)]
    assert p99 < LIMIT_MS, f"99th percentile event-loop delay {p99:.0f} ms"
    assert ordered[-1] < 5 * LIMIT_MS, f"worst event-loop delay {ordered[-1]:.0f} ms"
