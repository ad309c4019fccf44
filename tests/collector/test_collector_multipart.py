"""The streaming multipart/related reader: any chunking gives the same parts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nccid_collector.multipart import parse_content_type, spool_parts
from nccid_collector.problems import ServiceProblem
from tests.collector.payloads import stow_body


def _parts(body: bytes, chunk: int, folder: Path, boundary: str = "nccid-test-boundary"):
    counter = iter(range(10**6))

    async def chunks():
        for start in range(0, len(body), chunk):
            yield body[start:start + chunk]

    async def collect():
        return [(p.headers, p.path.read_bytes(), p.size) async for p in
                spool_parts(chunks(), boundary, lambda: folder / f"{next(counter)}.part")]

    return asyncio.run(collect())


@settings(max_examples=60, deadline=None)
@given(parts=st.lists(st.binary(max_size=300), min_size=1, max_size=4),
       chunk=st.integers(min_value=1, max_value=97))
def test_parts_survive_every_chunking(tmp_path_factory, parts: list[bytes], chunk: int) -> None:
    body, _ = stow_body(parts)
    got = _parts(body, chunk, tmp_path_factory.mktemp("spool"))
    assert [content for _, content, _ in got] == parts
    assert [size for _, _, size in got] == [len(p) for p in parts]
    assert all(headers["content-type"] == "application/dicom" for headers, _, _ in got)


def test_content_that_resembles_the_boundary_is_kept(tmp_path: Path) -> None:
    tricky = b"--nccid-test-boundar\r\n--nccid-test-boundarX\r\n-\r\n--"
    body, _ = stow_body([tricky])
    assert _parts(body, 5, tmp_path)[0][1] == tricky


def test_a_truncated_body_is_refused_and_leaves_no_file(tmp_path: Path) -> None:
    body, _ = stow_body([b"x" * 1000])
    with pytest.raises(ServiceProblem) as refused:
        _parts(body[:600], 64, tmp_path)
    assert refused.value.code == "bad_multipart"
    assert list(tmp_path.iterdir()) == []


def test_content_type_parameters_are_unquoted() -> None:
    parsed = parse_content_type('Multipart/Related; type="application/dicom"; boundary="a;b"')
    assert parsed.media_type == "multipart/related"
    assert parsed.params == {"type": "application/dicom", "boundary": "a;b"}
