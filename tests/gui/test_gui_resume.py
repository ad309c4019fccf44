"""Killed in the middle of an HTTP upload, resumed by the app: every item stored exactly once.

A real child process queues records and images in the app's outbox and uploads them through
the fault proxy, which reads half of the first STOW body and then stalls, so the child is
blocked with the rest of the body in flight when it is SIGKILLed. The app then starts over
the same outbox, offers to resume, and sends what is left.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from nccid_desktop.gui.main_window import MainWindow
from nccid_desktop.transport.outbox import Outbox
from tests.faults.proxy import Fault, FaultProxy
from tests.gui.conftest import sign_in
from tests.transport.payloads import status_envelope, write_instances

ROOT = Path(__file__).resolve().parents[2]
RECORDS, IMAGES = 6, 48
#: 512 x 512 x 16-bit: 48 images make a 24 MB STOW body, far more than the socket buffers
#: hold once the proxy stops reading, so the child is still writing the body when killed.
PIXELS = 512

UPLOADING_CHILD = """
import json, os, sys
from pathlib import Path
from nccid_desktop.records import ClinicalEnvelope
from nccid_desktop.transport.client import CollectorClient
from nccid_desktop.transport.http import HttpSettings
from nccid_desktop.transport.outbox import Outbox
from nccid_desktop.transport.uploader import Uploader
server, outbox_dir, manifest = sys.argv[1], Path(sys.argv[2]), json.loads(sys.stdin.read())
outbox = Outbox(outbox_dir)
for data in manifest["envelopes"]:
    outbox.stage_record(ClinicalEnvelope.from_json(data))
for uid, path in manifest["images"].items():
    outbox.stage_image(uid, "", Path(path))
client = CollectorClient(server, HttpSettings(read_timeout=120, max_attempts=1))
client.sign_in(manifest["username"], os.environ["NCCID_PASSWORD"])
print("uploading", flush=True)
Uploader(client, outbox).run()
print("finished", flush=True)
"""


def _bytes_waiting_to_reach(port: int) -> int:
    """Bytes queued in sockets sending to ``port`` on loopback (Linux ``/proc/net/tcp``)."""
    waiting = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        remote_port, state, queues = int(fields[2].split(":")[1], 16), fields[3], fields[4]
        if remote_port == port and state == "01":
            waiting += int(queues.split(":")[0], 16)
    return waiting


def _stall_first_image_batch(head) -> Fault:
    return Fault.STALL_MID_BODY if head.path.startswith("/dicom-web/studies") else Fault.PASS


def test_killed_mid_body_the_app_offers_to_resume_and_stores_each_item_once(
        qtbot, context, service, tmp_path):
    sign_in(context, service)
    keys = context.keys
    images = write_instances(tmp_path / "deidentified", keys, IMAGES, patients=RECORDS,
                             pixels=PIXELS, first_patient=700)
    manifest = {"username": service.account.username,
                "envelopes": [status_envelope(keys, 700 + n).to_json() for n in range(RECORDS)],
                "images": {uid: str(path) for uid, path in images.items()}}
    records_before, images_before = (set(service.raw_files(k)) for k in ("data", "images"))
    host, port = service.url.removeprefix("http://").split(":")
    with FaultProxy((host, int(port)), _stall_first_image_batch, stall_seconds=60) as proxy:
        child = subprocess.Popen(
            [sys.executable, "-c", UPLOADING_CHILD, proxy.url, str(context.data_dir / "outbox")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT),
                 "NCCID_PASSWORD": service.account.password})
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(json.dumps(manifest))
        child.stdin.close()
        assert child.stdout.readline().strip() == "uploading", child.stderr.read()
        assert proxy.stalled_mid_body.wait(60), "the image upload reached the proxy"
        assert child.poll() is None, "the child is still sending the body"
        qtbot.waitUntil(lambda: _bytes_waiting_to_reach(proxy.port) > 0, timeout=10_000)
        assert child.poll() is None, "the child is blocked sending the rest of the body"
        child.send_signal(signal.SIGKILL)
        child.wait(30)
        assert child.returncode == -signal.SIGKILL
        assert proxy.applied[Fault.STALL_MID_BODY] == 1
    journal = Outbox(context.data_dir / "outbox")
    try:
        states = {(i.kind, i.state) for i in journal.items()}
        assert states == {("record", "acknowledged"), ("image", "sent")}, \
            "killed with the records answered and the image batch in flight"
    finally:
        journal.close()
    assert set(service.raw_files("images")) == images_before, "the stalled body never arrived"

    window = MainWindow(context, None)
    qtbot.addWidget(window)
    window.show()
    offered: list[str] = []

    def accept() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, accept)
            return
        offered.append(box.text())
        box.button(QMessageBox.StandardButton.Yes).click()

    QTimer.singleShot(0, accept)
    assert window.offer_resume()
    assert f"{IMAGES} items" in offered[0]
    page = window.page("images")
    qtbot.waitUntil(lambda: page.worker is None and page.form.progressPanel.state == "success",
                    timeout=120_000)
    assert page.form.progressPanel.message == f"0 records and {IMAGES} images sent."
    new_images = set(service.raw_files("images")) - images_before
    assert sorted(p.stem for p in new_images) == sorted(images)
    assert len(set(service.raw_files("data")) - records_before) == RECORDS
    assert context.outbox.count_pending() == 0
    assert list(context.outbox.staging.glob("*/*")) == []
    acknowledged = [i.item_key for i in context.outbox.items() if i.state == "acknowledged"]
    assert len(acknowledged) == len(set(acknowledged)) == RECORDS + IMAGES
