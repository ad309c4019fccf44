"""The NCCID collection service: what the national portal did, for sites and the warehouse.

Sites sign in, fetch their pseudonym key, upload pseudonymised clinical records and
de-identified images (DICOMweb STOW-RS), and check what arrived (NHS/CHI checker, summary).
Uploads land in the warehouse raw layout (nccid-formats.md §4); accounts, sessions, the upload
index and the audit trail live in SQLite or PostgreSQL. The HTTP contract is docs/api.md.
"""

from __future__ import annotations

from nccid_collector.server import EmbeddedService, serve, start_embedded
from nccid_collector.service import CollectorService, open_service
from nccid_collector.settings import ServiceSettings

__all__ = ["CollectorService", "EmbeddedService", "ServiceSettings", "open_service", "serve",
           "start_embedded"]
