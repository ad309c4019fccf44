"""The NCCID collection service: what the national portal did, for sites and the warehouse.

Sites sign in, fetch their pseudonym key, upload pseudonymised clinical records and
de-identified images (DICOMweb STOW-RS), and check what arrived (NHS/CHI checker, summary).
Uploads land in the warehouse raw layout (nccid-formats.md §4); accounts, sessions, the upload
index and the audit trail live in SQLite or PostgreSQL. The HTTP contract is docs/api.md.

Why the public names are loaded on first use: ``nccid-collector --help`` (and its message when
the ``[service]`` extra is missing) must run without loading FastAPI, uvicorn or SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nccid_desktop.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from nccid_collector.server import EmbeddedService, serve, start_embedded
    from nccid_collector.service import CollectorService, open_service
    from nccid_collector.settings import ServiceSettings

#: Each public name and the module (in this package) that defines it.
_HOMES = {
    "EmbeddedService": "server", "serve": "server", "start_embedded": "server",
    "CollectorService": "service", "open_service": "service",
    "ServiceSettings": "settings",
}

__all__ = ["CollectorService", "EmbeddedService", "ServiceSettings", "open_service", "serve",
           "start_embedded"]


__getattr__, __dir__ = lazy_exports(__name__, _HOMES, __all__, globals())
