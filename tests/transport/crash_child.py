"""A real uploading process for the crash tests: stage everything (idempotently), then upload.

Run as ``python -m tests.transport.crash_child SERVER USER INPUTS``; NCCID_HOME and
NCCID_PASSWORD come from the environment. The parent SIGKILLs it at random moments.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from nccid_desktop.records import ClinicalEnvelope
from nccid_desktop.transport.client import CollectorClient
from nccid_desktop.transport.http import HttpSettings
from nccid_desktop.transport.outbox import Outbox
from nccid_desktop.transport.uploader import Uploader


def main(server: str, user: str, inputs: Path) -> int:
    outbox = Outbox()
    outbox.recover()
    manifest = json.loads((inputs / "manifest.json").read_text())
    for data in manifest["envelopes"]:
        outbox.stage_record(ClinicalEnvelope.from_json(data))
    for uid, entry in manifest["images"].items():
        outbox.stage_image(uid, entry["pseudonym"], Path(entry["path"]))
    client = CollectorClient(server, HttpSettings(connect_timeout=2, read_timeout=10, max_attempts=20,
                                                  backoff_base=0.05, backoff_cap=0.5))
    client.sign_in(user, os.environ["NCCID_PASSWORD"])
    print("uploading", flush=True)
    report = Uploader(client, outbox, record_batch_count=7, image_batch_count=3).run(
        lambda p: print(f"progress {p.done}", flush=True))
    print(json.dumps({"failed": report.problems}), flush=True)
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], Path(sys.argv[3])))
