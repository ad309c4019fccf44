"""The uploader's kinds filter, its per-batch answers, and Pause: real service, real HTTP."""

from __future__ import annotations

from pathlib import Path

from nccid_desktop.tasks import CancelToken, Progress
from nccid_desktop.transport.client import CollectorClient
from nccid_desktop.transport.outbox import Outbox
from nccid_desktop.transport.stow import StowItem
from nccid_desktop.transport.uploader import BatchAnswered, Uploader
from tests.transport.payloads import status_envelope, write_instances


def _signed_in(collector) -> CollectorClient:
    client = CollectorClient(collector.url)
    client.sign_in(collector.account.username, collector.account.password)
    return client


def _stage(outbox: Outbox, keys, folder: Path, records: int, images: int) -> dict[str, Path]:
    for n in range(records):
        outbox.stage_record(status_envelope(keys, n))
    made = write_instances(folder, keys, images, patients=max(1, records))
    for uid, path in made.items():
        outbox.stage_image(uid, "", path)
    return made


def test_kinds_send_only_what_was_asked(collector, tmp_path: Path) -> None:
    client = _signed_in(collector)
    outbox = Outbox()
    _stage(outbox, client.site_keys(), tmp_path / "in", records=3, images=4)
    sheet = Uploader(client, outbox).run(kinds=("record",))
    assert (sheet.records_stored, sheet.images_stored) == (3, 0)
    assert outbox.count_pending("record") == 0 and outbox.count_pending("image") == 4
    assert collector.raw_files("images") == []
    images = Uploader(client, outbox).run(kinds=("image",))
    assert (images.records_stored, images.images_stored) == (0, 4)
    assert outbox.count_pending() == 0 and len(collector.raw_files("images")) == 4


def test_each_answered_batch_names_its_items_and_bytes(collector, tmp_path: Path) -> None:
    client = _signed_in(collector)
    outbox = Outbox()
    made = _stage(outbox, client.site_keys(), tmp_path / "in", records=5, images=7)
    held = sorted(made)[:2]
    client.stow().store([StowItem(uid, made[uid], made[uid].stat().st_size) for uid in held])
    total = outbox.pending_bytes()
    answers: list[BatchAnswered] = []
    seen: list[Progress] = []
    report = Uploader(client, outbox, record_batch_count=2, image_batch_count=2).run(
        seen.append, on_batch=answers.append)
    assert (report.records_stored, report.images_stored, report.images_already_held) == (5, 5, 2)
    records = [a for a in answers if a.kind == "record"]
    images = [a for a in answers if a.kind == "image"]
    assert [len(a.acknowledged) for a in records] == [2, 2, 1]
    assert images[0].acknowledged == tuple(sorted(held, key=list(made).index)), \
        "images the service already held come first, as one answer"
    assert sorted(k for a in images for k in a.acknowledged) == sorted(made)
    assert all(not a.refused for a in answers)
    assert sum(a.bytes for a in answers) == total
    done = [p.done for p in seen]
    assert done == sorted(done) and done[-1] == total and seen[-1].total == total
    assert len(done) == 1 + len(answers), "the bar moves only when an answer arrives"


def test_pause_stops_after_the_batch_in_flight_and_resume_sends_only_the_rest(
        collector, tmp_path: Path) -> None:
    client = _signed_in(collector)
    outbox = Outbox()
    made = _stage(outbox, client.site_keys(), tmp_path / "in", records=0, images=9)
    pause = CancelToken()
    first: list[BatchAnswered] = []

    def pause_after_first(answer: BatchAnswered) -> None:
        first.append(answer)
        pause.cancel()

    uploader = Uploader(client, outbox, image_batch_count=3)
    paused = uploader.run(on_batch=pause_after_first, pause=pause)
    assert paused.paused and paused.images_stored == 3 and len(first) == 1
    assert outbox.count_pending("image") == 6
    assert {i.state for i in outbox.items("image")} == {"acknowledged", "staged"}, \
        "nothing is left half-sent: the queue is intact"
    assert len(collector.raw_files("images")) == 3
    rest: list[BatchAnswered] = []
    resumed = uploader.run(on_batch=rest.append)
    assert not resumed.paused and resumed.images_stored == 6
    assert resumed.images_already_held == 0, "acknowledged work is not asked about again"
    sent_again = {k for a in rest for k in a.acknowledged} & set(first[0].acknowledged)
    assert sent_again == set()
    assert sorted(p.stem for p in collector.raw_files("images")) == sorted(made)


def test_images_the_warehouse_cannot_take_now_wait_in_the_queue_and_go_next_run(
        collector, tmp_path: Path) -> None:
    """``storage_unavailable`` means "not now", not "never": the images are not refused, the
    run stops sending images, and the next run (the warehouse writable again) sends them all."""
    client = _signed_in(collector)
    outbox = Outbox()
    made = _stage(outbox, client.site_keys(), tmp_path / "in", records=0, images=6)
    blocker = collector.data_dir / f"raw-{collector.account.site}"
    assert not blocker.exists()
    blocker.write_text("not a folder")  # a real fault: the warehouse folder cannot be made
    answers: list[BatchAnswered] = []
    down = Uploader(client, outbox, image_batch_count=2).run(on_batch=answers.append)
    assert (down.images_stored, down.failed, down.deferred) == (0, 0, 2)
    assert down.problems == [] and all(not a.refused for a in answers)
    assert outbox.count_pending("image") == 6, "nothing refused, nothing lost"
    assert all(path.exists() for path in made.values())
    blocker.unlink()
    up = Uploader(client, outbox, image_batch_count=2).run()
    assert (up.images_stored, up.failed, up.deferred) == (6, 0, 0)
    assert outbox.count_pending() == 0
    assert sorted(p.stem for p in collector.raw_files("images")) == sorted(made)
