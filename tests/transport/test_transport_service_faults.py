"""A service fault that waiting will not mend is shown in the service's words, not as "busy"."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from nccid_collector import accounts
from nccid_collector.db import sites
from nccid_desktop.errors import TransportError
from nccid_desktop.transport.client import CollectorClient


def test_a_site_key_the_service_cannot_open_is_named_plainly(collector) -> None:
    service = collector.service.service
    accounts.add_site(service.db, service.settings, "OTH", "Other Trust",
                      master_key=service.master_key)
    accounts.add_user(service.db, service.settings, "other1", "OTH", ["nurse"],
                      "Other-Upload-2026!")
    with service.db.begin() as conn:  # a sealed value copied from another site does not open
        sealed = conn.execute(select(sites.c.secret).where(sites.c.code == "RSH")).scalar()
        conn.execute(update(sites).where(sites.c.code == "OTH").values(secret=sealed))
    client = CollectorClient(collector.url)
    client.sign_in("other1", "Other-Upload-2026!")
    with pytest.raises(TransportError) as caught:
        client.site_keys()
    message = str(caught.value)
    assert "administrator" in message and "work is kept" in message
    assert "busy" not in message and sealed not in message
    ours = CollectorClient(collector.url)
    ours.sign_in(collector.account.username, collector.account.password)
    assert ours.site_keys().site == "RSH"
