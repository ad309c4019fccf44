"""Demo set-up: a site, a user and a controller key pair, so the app can run end to end.

Why a known password: demo mode runs the service embedded on 127.0.0.1 with made-up data, so
the person trying the app must be able to sign in without an administrator. Never used for a
real deployment (``nccid collector add-site`` and ``add-user`` are).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from nccid_collector import accounts
from nccid_collector.db import sites, users
from nccid_collector.service import CollectorService
from nccid_desktop.keys import write_secret_file

DEMO_SITE = "RSH"
DEMO_SITE_NAME = "Royal Surrey (demo)"
DEMO_USER = "demo"
DEMO_PASSWORD = "Surrey-Upload-2026!"
DEMO_ROLES = ("nurse", "imaging")
CONTROLLER_PRIVATE_FILE = "demo-controller-private.pem"


@dataclass(frozen=True)
class DemoAccount:
    site: str
    username: str
    password: str
    controller_private_key: Path


def ensure_demo(service: CollectorService) -> DemoAccount:
    """Create whatever of the demo set-up is missing; safe to call on every start."""
    db, settings = service.db, service.settings
    private_path = settings.data_dir / CONTROLLER_PRIVATE_FILE
    if accounts.controller_key(db) is None:
        private = rsa.generate_private_key(public_exponent=65537, key_size=3072)
        write_secret_file(private_path, private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        accounts.set_controller_key(db, private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    with db.connect() as conn:
        has_site = conn.execute(select(sites.c.code).where(sites.c.code == DEMO_SITE)).first()
        has_user = conn.execute(select(users.c.id).where(users.c.username == DEMO_USER)).first()
    if not has_site:
        accounts.add_site(db, settings, DEMO_SITE, DEMO_SITE_NAME,
                          master_key=service.master_key)
    if not has_user:
        accounts.add_user(db, settings, DEMO_USER, DEMO_SITE, DEMO_ROLES, DEMO_PASSWORD)
    return DemoAccount(DEMO_SITE, DEMO_USER, DEMO_PASSWORD, private_path)
