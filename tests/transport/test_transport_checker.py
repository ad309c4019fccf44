"""The NHS/CHI checker from the client side, against the real embedded service."""

from __future__ import annotations

import hashlib
from pathlib import Path

from nccid_desktop.transport.client import CHECKER_CHUNK, CollectorClient
from tests.transport.collector_fixture import running_collector


def test_a_list_longer_than_one_call_allows_is_answered_whole_and_in_order(tmp_path: Path) -> None:
    indexes = [hashlib.sha256(str(n).encode()).hexdigest() for n in range(2 * CHECKER_CHUNK + 7)]
    with running_collector(tmp_path / "service") as collector:
        client = CollectorClient(collector.url)
        client.sign_in(collector.account.username, collector.account.password)
        results = client.check(indexes)
    assert [r.nhs_index for r in results] == indexes
    assert all(r.clinical_data is None and r.images == 0 for r in results)
