"""The object-store contract, run unchanged on the folder and on a real S3 store (SeaweedFS).

What the warehouse relies on, and what withdrawal, purge and image replacement will: create-
only writes (a name stored once however many replicas race for it, with the writers of one
name taking turns through the database), atomic replacement, listings of complete objects only
(never a partial upload), deletes, and the sweep of what an interrupted write left behind.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from nccid_collector.db import open_database
from nccid_collector.db_locks import object_writer_lock
from nccid_collector.objectstore import (
    FolderStore,
    ObjectMissing,
    ObjectStore,
    StorageConfigError,
    open_object_store,
)
from nccid_collector.objectstore.s3 import S3Store
from nccid_collector.storage import WarehouseStore
from tests.collector.warehouse_view import WarehouseView

MIB = 1024 * 1024
#: The smallest part S3 accepts, so that a 12 MiB file goes up in three parts.
SMALL_PART = 5 * MIB


@pytest.fixture(params=["folder", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "folder":
        made: ObjectStore = FolderStore(tmp_path / "warehouse")
    else:
        server = request.getfixturevalue("s3_server")
        made = S3Store(server.bucket, f"t-{secrets.token_hex(6)}/raw", client=server.client(),
                       part_size=SMALL_PART, multipart_threshold=SMALL_PART)
    made.check()
    return made


@pytest.fixture
def view(store: ObjectStore, request: pytest.FixtureRequest) -> WarehouseView:
    if isinstance(store, S3Store):
        return WarehouseView(client=request.getfixturevalue("s3_server").client(),
                             bucket=store.bucket, prefix=store.prefix)
    assert isinstance(store, FolderStore)
    return WarehouseView(folder=store.root)


def _file(folder: Path, size: int, seed: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"src-{seed}-{size}.bin"
    block = bytes((seed + i) % 251 for i in range(65536))
    path.write_bytes((block * (size // len(block) + 1))[:size])
    return path


def test_create_only_writes_keep_the_first_object(store, view, tmp_path) -> None:
    key = "raw-RSH/2026-11-25/data/Covid1_data.json"
    assert store.put_bytes_new(key, b'{"first": 1}') is True
    assert store.put_bytes_new(key, b'{"second": 2}') is False
    small = _file(tmp_path / "in", 1000)
    assert store.put_file_new(key, small) is False
    assert store.get_bytes(key) == b'{"first": 1}' == view.read(key)
    assert small.exists()  # the caller's file is left alone
    assert store.stat(key).size == len(b'{"first": 1}') and store.exists(key)


def test_a_large_file_goes_up_in_parts_and_is_stored_byte_for_byte(store, view, tmp_path) -> None:
    big = _file(tmp_path / "in", 12 * MIB + 123, seed=7)
    key = "raw-RSH/2026-11-25/images/1.2.3.4.dcm"
    assert store.put_file_new(key, big) is True
    assert view.read(key) == big.read_bytes()
    assert view.unfinished_uploads() == []
    other = _file(tmp_path / "in", 12 * MIB, seed=9)
    assert store.put_file_new(key, other) is False  # refused at completion, upload aborted
    assert view.read(key) == big.read_bytes() and view.unfinished_uploads() == []
    copy = tmp_path / "copy.dcm"
    store.download(key, copy)
    assert copy.read_bytes() == big.read_bytes()


@pytest.mark.parametrize("size", [2000, 12 * MIB])
def test_racing_replicas_store_a_name_exactly_once(store, view, tmp_path, size,
                                                   pg_cluster) -> None:
    """Writers in two "replicas" (own engines, own warehouse objects) race for one name.

    Each write is create-only at the store, and the writers of one name also take turns
    through the shared database: on their own, some stores let two simultaneous multipart
    completions with ``If-None-Match`` both succeed (SeaweedFS did, in this very test).
    """
    url = pg_cluster.new_database()
    engines = [open_database(url), open_database(url)]
    warehouses = [WarehouseStore(store, spool_dir=tmp_path / f"spool{n}",
                                 writer_lock=object_writer_lock(engine))
                  for n, engine in enumerate(engines)]
    key = f"raw-RSH/2026-11-25/images/9.9.{size}.dcm"
    sources = [_file(tmp_path / f"w{n}", size, seed=n) for n in range(6)]
    expected = {source: source.read_bytes() for source in sources}
    start = threading.Barrier(len(sources))

    def write(numbered: tuple[int, Path]) -> bool:
        number, source = numbered
        start.wait()
        return warehouses[number % 2].publish_new(source, key)

    try:
        with ThreadPoolExecutor(len(sources)) as pool:
            won = list(pool.map(write, enumerate(sources)))
    finally:
        for engine in engines:
            engine.dispose()
    assert won.count(True) == 1
    assert view.read(key) == expected[sources[won.index(True)]]
    assert view.keys() == [key] and view.unfinished_uploads() == []
    assert not any(source.exists() for source in sources)  # every spool file consumed


def test_a_partial_upload_is_never_listed(request, tmp_path) -> None:
    """While a multipart upload is under way its key is absent from every listing."""
    server = request.getfixturevalue("s3_server")
    client = server.client()
    store = S3Store(server.bucket, f"t-{secrets.token_hex(6)}", client=client,
                    part_size=SMALL_PART, multipart_threshold=SMALL_PART)
    view = WarehouseView(client=server.client(), bucket=store.bucket, prefix=store.prefix)
    key = "raw-RSH/2026-11-25/images/5.6.7.dcm"
    seen_during_upload: list[tuple[list[str], list[str], list[str]]] = []

    def look(**_kwargs) -> None:
        seen_during_upload.append((view.keys(), [o.key for o in store.list("raw-RSH/")],
                                   view.unfinished_uploads()))

    client.meta.events.register("before-call.s3.UploadPart", look)
    assert store.put_file_new(key, _file(tmp_path, 3 * SMALL_PART, seed=3))
    assert len(seen_during_upload) == 3
    assert all(keys == [] and listed == [] and unfinished == [key]
               for keys, listed, unfinished in seen_during_upload)
    assert view.keys() == [key] and view.unfinished_uploads() == []


def test_replace_swaps_whole_objects_only(store, view, tmp_path) -> None:
    key = "raw-RSH/2026-11-25/images/1.1.dcm"
    old, new = _file(tmp_path / "a", 300_000, seed=1), _file(tmp_path / "b", 200_000, seed=2)
    store.replace_file(key, old)  # creates when absent
    seen: set[bytes] = set()
    stop = threading.Event()

    def read_while_replacing() -> None:
        while not stop.is_set():
            seen.add(store.get_bytes(key))

    reader = threading.Thread(target=read_while_replacing)
    reader.start()
    try:
        for _ in range(5):
            store.replace_file(key, new)
            store.replace_file(key, old)
        store.replace_bytes(key, new.read_bytes())
    finally:
        stop.set()
        reader.join()
    assert seen <= {old.read_bytes(), new.read_bytes()} and seen
    assert view.read(key) == new.read_bytes() and view.keys() == [key]


def test_listing_is_by_prefix_in_key_order_and_skips_the_stores_own_names(store, view) -> None:
    keys = ["raw-AB/2026-11-25/data/Covid2_data.json", "raw-A/2026-11-26/images/1.2.dcm",
            "raw-A/2026-11-25/images/1.10.dcm", "raw-A/2026-11-25/data/Covid1_status.json",
            "raw-A/2026-11-25/images/1.9.dcm"]
    for number, key in enumerate(keys):
        assert store.put_bytes_new(key, b"x" * number)
    listed = list(store.list("raw-A/"))
    assert [o.key for o in listed] == sorted(k for k in keys if k.startswith("raw-A/"))
    assert [o.size for o in listed] == [3, 2, 4, 1]
    assert [o.key for o in store.list("raw-A/2026-11-25/images/")] == [
        "raw-A/2026-11-25/images/1.10.dcm", "raw-A/2026-11-25/images/1.9.dcm"]
    assert [o.key for o in store.list("raw-A")] == [o.key for o in store.list()]
    assert [o.key for o in store.list()] == sorted(keys) == view.keys()
    assert list(store.list("raw-ZZ/")) == []


def test_delete_removes_the_object_and_says_whether_it_was_there(store, view, tmp_path) -> None:
    kept, gone = "raw-A/2026-11-25/data/Covid1_data.json", "raw-A/2026-11-26/data/Covid1_data.json"
    store.put_bytes_new(kept, b"1")
    store.put_bytes_new(gone, b"2")
    assert store.delete(gone) is True and store.delete(gone) is False
    assert store.stat(gone) is None and not store.exists(gone)
    with pytest.raises(ObjectMissing):
        store.get_bytes(gone)
    assert view.keys() == [kept]
    if isinstance(store, FolderStore):  # no empty date folder is left behind
        assert not (store.root / "raw-A/2026-11-26").exists()
    assert store.put_bytes_new(gone, b"3")  # the name is free again


@pytest.mark.parametrize("bad", ["../escape", "/absolute", "a//b", ".hidden/x", "a/./b",
                                 "a/../b", "", "a\\b", "raw-A/x\x00y"])
def test_unsafe_names_are_refused_before_any_io(store, bad) -> None:
    with pytest.raises(ValueError):
        store.put_bytes_new(bad, b"x")
    with pytest.raises(ValueError):
        store.stat(bad)


def test_sweep_removes_only_the_leftovers_of_interrupted_writes(store, view, tmp_path) -> None:
    store.put_bytes_new("raw-A/2026-11-25/data/Covid1_data.json", b"kept")
    if isinstance(store, S3Store):
        full = f"{store.prefix}/raw-A/2026-11-25/images/1.2.dcm"
        store.client.create_multipart_upload(Bucket=store.bucket, Key=full)
        assert view.unfinished_uploads() == ["raw-A/2026-11-25/images/1.2.dcm"]
        assert store.sweep(time.time(), 3600) == 0  # too young: a live upload
        assert store.sweep(time.time() + 7200, 3600) == 1
        assert view.unfinished_uploads() == []
    else:
        assert isinstance(store, FolderStore)
        store.staging.mkdir(parents=True, exist_ok=True)
        old, young = store.staging / "obj-old.tmp", store.staging / "obj-young.tmp"
        old.write_bytes(b"half")
        young.write_bytes(b"in progress")
        os.utime(old, (time.time() - 7200, time.time() - 7200))
        assert store.sweep(time.time(), 3600) == 1
        assert not old.exists() and young.exists()
    assert view.keys() == ["raw-A/2026-11-25/data/Covid1_data.json"]


def test_an_unreachable_or_missing_bucket_stops_the_start(request) -> None:
    server = request.getfixturevalue("s3_server")
    missing = S3Store("no-such-bucket-here", "raw", client=server.client())
    with pytest.raises(StorageConfigError, match="cannot be reached"):
        missing.check()


def test_a_store_that_ignores_conditional_writes_is_refused_at_start(request) -> None:
    """A store that drops If-None-Match would overwrite warehouse files: it must not be used."""
    server = request.getfixturevalue("s3_server")
    client = server.client()

    def drop_condition(params, **_kwargs) -> None:
        params.pop("IfNoneMatch", None)

    client.meta.events.register("provide-client-params.s3.PutObject", drop_condition)
    with pytest.raises(StorageConfigError, match="conditional writes"):
        S3Store(server.bucket, "ignores", client=client).check()


@pytest.mark.parametrize(("address", "expected"), [
    ("s3://Bad_Bucket/raw", "must name a bucket"),
    ("s3:///raw", "must name a bucket"),
    ("s3://nccid-warehouse/raw/../x", "prefix"),
    ("gs://nccid-warehouse/raw", "not supported"),
])
def test_bad_storage_addresses_are_plain_errors(address, expected) -> None:
    with pytest.raises(StorageConfigError, match=expected):
        open_object_store(address)


def test_storage_addresses_name_the_store(tmp_path) -> None:
    s3 = open_object_store("s3://nccid-warehouse/raw/")
    assert isinstance(s3, S3Store) and (s3.bucket, s3.prefix) == ("nccid-warehouse", "raw")
    assert s3.address == "s3://nccid-warehouse/raw"
    assert open_object_store("s3://nccid-warehouse").address == "s3://nccid-warehouse"
    folder = open_object_store(tmp_path / "w")
    assert isinstance(folder, FolderStore) and folder.root == tmp_path / "w"
