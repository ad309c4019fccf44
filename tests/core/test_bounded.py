"""The bounded readers: declared sizes checked first, actual bytes counted, XML runs bounded."""

from __future__ import annotations

import io
import zipfile
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nccid_desktop.bounded import (
    CappedReader,
    TooLarge,
    XmlGuard,
    check_inflated,
    check_member,
    open_member,
    read_file,
)
from nccid_desktop.limits import RATIO_GRACE_BYTES, Limits
from tests.faults import bombs


def _longest_gap(data: bytes) -> int:
    """Reference: the longest run of bytes without a '<' (what the guard must bound)."""
    return max(len(part) for part in data.split(b"<"))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b"<", b"a", b"aaaaaaa", b"<row>", b"</row>", b"x" * 40]),
                max_size=60),
       st.integers(min_value=8, max_value=64), st.integers(min_value=1, max_value=50))
def test_the_xml_guard_refuses_exactly_the_runs_over_its_limit(pieces, limit, chunk):
    data = b"".join(pieces)
    guard = XmlGuard(limit, 10**9, TooLarge("x", "refused"))
    refused = False
    try:
        for start in range(0, len(data), chunk):  # however the reader happens to cut it
            guard(data[start:start + chunk])
    except TooLarge:
        refused = True
    assert refused == (_longest_gap(data) > limit)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([b"<c/>", b"<row>", b"</row>", b"<si>", b"</si>", b"zz"]),
                max_size=80),
       st.integers(min_value=1, max_value=30))
def test_the_xml_guard_never_refuses_records_under_its_tag_limit(pieces, chunk):
    data = b"".join(pieces)
    most = max(len(r) for r in data.replace(b"si>", b"row>").split(b"row>"))  # bytes >= tags
    guard = XmlGuard(10**6, most, TooLarge("x", "refused"))
    for start in range(0, len(data), chunk):
        guard(data[start:start + chunk])


def test_the_xml_guard_refuses_a_flood_of_tags_in_one_row():
    guard = XmlGuard(1 << 20, 1000, TooLarge("x", "refused"))
    guard(b"<row>" + b"<c/>" * 900 + b"</row>")
    with pytest.raises(TooLarge):
        for _ in range(5):
            guard(b"<c/>" * 300)


def test_a_capped_reader_stops_at_its_cap():
    reader = CappedReader(io.BytesIO(b"x" * 100), 60, TooLarge("too_large", "too big"))
    assert reader.read(50) == b"x" * 50
    with pytest.raises(TooLarge):
        reader.read(50)


def test_a_member_is_judged_by_its_declared_sizes(tmp_path):
    limits = Limits(compression_ratio=100)
    path = bombs.write_zip(tmp_path / "a.zip", [
        bombs.deflated("bomb", b"", b"\0", 50 * 2**20), bombs.plain("small", b"hello" * 1000),
        bombs.stored("stored", b"s" * 5000)])
    with zipfile.ZipFile(path) as archive:
        with pytest.raises(TooLarge, match="decompression bomb") as caught:
            check_member(archive.getinfo("bomb"), 10**9, limits, subject="It", setting="s")
        assert caught.value.code == "compression_bomb"
        check_member(archive.getinfo("small"), 10**9, limits, subject="It", setting="s")
        with pytest.raises(TooLarge, match=r"over the 1 KB limit \(s\)"):
            check_member(archive.getinfo("stored"), 1000, limits, subject="It", setting="s")
        with open_member(archive, archive.getinfo("small"), 10**6, limits, subject="It",
                         setting="s") as stream:
            assert stream.read() == b"hello" * 1000


def test_small_parts_are_never_refused_for_their_ratio(tmp_path):
    path = bombs.write_zip(tmp_path / "a.zip",
                           [bombs.deflated("zeros", b"", b"\0", RATIO_GRACE_BYTES)])
    with zipfile.ZipFile(path) as archive:
        check_member(archive.getinfo("zeros"), 10**9, Limits(compression_ratio=2),
                     subject="It", setting="s")


def test_inflating_a_deflate_stream_is_counted_not_kept():
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    data = compressor.compress(bytes(30 * 2**20)) + compressor.flush()
    limits = Limits(compression_ratio=100)
    with pytest.raises(TooLarge, match="decompression bomb"):
        check_inflated(io.BytesIO(data), len(data), 10**9, limits, subject="It", setting="s")
    assert check_inflated(io.BytesIO(data), len(data), 10**9, Limits(compression_ratio=10**6),
                          subject="It", setting="s") == 30 * 2**20
    with pytest.raises(TooLarge, match="over the 10 MB limit"):
        check_inflated(io.BytesIO(data), len(data), 10**7, Limits(compression_ratio=10**6),
                       subject="It", setting="s")


def test_a_file_over_the_cap_is_refused_after_reading_only_the_cap(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"z" * 5000)
    assert read_file(path, 5000, subject="It", setting="s") == b"z" * 5000
    with pytest.raises(TooLarge, match="more than 4 KB"):
        read_file(path, 4000, subject="It", setting="s")
