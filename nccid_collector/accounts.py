"""Sites, users and sessions: who may sign in, for which site, with which roles.

Why these rules: hospital staff accounts guard a national research upload. Passwords are
scrypt-hashed and must follow the policy in :mod:`passwords`; a password older than 90 days
(or set by an administrator) must be changed before anything else is allowed; five wrong
passwords lock the account for fifteen minutes; session tokens expire and are stored only as
SHA-256 hashes, so a copy of the database signs nobody in. A site's pseudonym key is stored
sealed with the master key (:mod:`site_secrets`), so a copy of the database re-identifies nobody.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from nccid_collector import audit
from nccid_collector.db import service_config, sessions, sites, users
from nccid_collector.passwords import (
    DUMMY_HASH,
    hash_password,
    policy_message,
    policy_problems,
    verify_password,
)
from nccid_collector.problems import (
    ServiceProblem,
    account_disabled,
    bad_credentials,
    session_expired,
)
from nccid_collector.secrets_at_rest import MasterKey, SealedSecretError
from nccid_collector.settings import ServiceSettings
from nccid_collector.site_secrets import new_sealed_secret, read_site_secret
from nccid_desktop.errors import ConfigError
from nccid_desktop.keys import SiteKeys, check_site_code

log = logging.getLogger(__name__)

ROLES = ("nurse", "imaging", "admin")
USERNAME_MAX = 64
CONTROLLER_KEY = "controller_public_key"


@dataclass(frozen=True)
class Caller:
    """The signed-in user behind a request."""

    user_id: int
    username: str
    site: str
    site_name: str
    roles: tuple[str, ...]
    password_change_required: bool

    def may(self, role: str) -> bool:
        return role in self.roles or "admin" in self.roles


@dataclass(frozen=True)
class SignedIn:
    token: str
    expires_at: int
    caller: Caller


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_roles(roles: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    chosen = tuple(sorted({r.strip().lower() for r in roles if r.strip()}))
    if not chosen or any(r not in ROLES for r in chosen):
        raise ConfigError(f"Roles must be chosen from: {', '.join(ROLES)}.")
    return chosen


def set_controller_key(db: Engine, public_pem: bytes) -> None:
    from cryptography.hazmat.primitives import serialization
    try:
        serialization.load_pem_public_key(public_pem)
    except ValueError as exc:
        raise ConfigError("The data controller's key is not a PEM public key.") from exc
    with db.begin() as conn:
        conn.execute(delete(service_config).where(service_config.c.key == CONTROLLER_KEY))
        conn.execute(insert(service_config).values(key=CONTROLLER_KEY, value=public_pem.decode()))


def controller_key(db: Engine | Connection) -> bytes | None:
    query = select(service_config.c.value).where(service_config.c.key == CONTROLLER_KEY)
    if isinstance(db, Engine):
        with db.connect() as conn:
            value = conn.execute(query).scalar()
    else:
        value = db.execute(query).scalar()
    return value.encode() if value else None


def add_site(db: Engine, settings: ServiceSettings, code: str, name: str, *,
             master_key: MasterKey) -> str:
    """Register a site and issue its pseudonym key (stored sealed; given only to its users)."""
    code = check_site_code(code)
    if not name.strip():
        raise ConfigError("Give the site a name, for example \"Royal Surrey\".")
    if controller_key(db) is None:
        raise ConfigError("Configure the data controller's public key first "
                          "(nccid collector add-site ... --controller-key FILE).")
    secret = new_sealed_secret(master_key, code)
    try:
        with db.begin() as conn:
            conn.execute(insert(sites).values(code=code, name=name.strip()[:200], secret=secret,
                                              created_at=settings.now()))
    except IntegrityError:
        raise ConfigError(f"Site {code} already exists.") from None
    return code


def site_keys(db: Engine, site: str, *, master_key: MasterKey) -> SiteKeys:
    try:
        with db.connect() as conn:
            secret = read_site_secret(conn, master_key, site)
            public = controller_key(conn)
    except SealedSecretError as exc:
        log.error("Site keys refused: %s", exc.message)
        raise ServiceProblem(500, "site_keys_unavailable", "This site's keys cannot be issued "
                             "right now. Tell the service administrator.") from None
    if secret is None or public is None:
        raise ServiceProblem(404, "no_site_keys", "This site has no keys yet. Ask the service "
                             "administrator to set the site up.")
    return SiteKeys(site=site, secret=secret, controller_public_key=public)


def _check_new_password(password: str, username: str) -> None:
    problems = policy_problems(password, username)
    if problems:
        raise ServiceProblem(400, "weak_password", policy_message(problems))


def add_user(db: Engine, settings: ServiceSettings, username: str, site: str,
             roles: list[str] | tuple[str, ...], password: str, *, must_change: bool = False) -> None:
    username = username.strip()
    if not username or len(username) > USERNAME_MAX or not username.isprintable():
        raise ConfigError(f"A user name must be 1 to {USERNAME_MAX} printable characters.")
    chosen = check_roles(roles)
    site = check_site_code(site)
    _check_new_password(password, username)
    now = settings.now()
    with db.begin() as conn:
        if conn.execute(select(sites.c.code).where(sites.c.code == site)).scalar() is None:
            raise ConfigError(f"Site {site} does not exist. Add it first.")
        try:
            conn.execute(insert(users).values(
                username=username, site=site, roles=",".join(chosen),
                password_hash=hash_password(password), password_changed_at=now,
                must_change=must_change, failed_attempts=0, locked_until=None, created_at=now))
        except IntegrityError as exc:
            raise ConfigError(f"The user name {username} is already taken.") from exc


def reset_password(db: Engine, settings: ServiceSettings, username: str, password: str) -> None:
    """An administrator sets a temporary password: the user must change it at next sign-in."""
    _check_new_password(password, username)
    with db.begin() as conn:
        done = conn.execute(update(users).where(users.c.username == username).values(
            password_hash=hash_password(password), password_changed_at=settings.now(),
            must_change=True, failed_attempts=0, locked_until=None)).rowcount
        if not done:
            raise ConfigError(f"There is no user called {username}.")
        user_id = conn.execute(select(users.c.id).where(users.c.username == username)).scalar()
        conn.execute(delete(sessions).where(sessions.c.user_id == user_id))
        audit_admin(conn, settings, username, "password_reset")


def audit_admin(conn: Connection, settings: ServiceSettings, username: str, action: str) -> None:
    site = conn.execute(select(users.c.site).where(users.c.username == username)).scalar()
    audit.record(conn, settings.now(), username, site, action, "ok", reason="by administrator")


def _caller(conn: Connection, settings: ServiceSettings, row) -> Caller:
    site_name = conn.execute(select(sites.c.name).where(sites.c.code == row.site)).scalar() or ""
    too_old = settings.now() - row.password_changed_at > settings.password_max_age_days * 86400
    return Caller(row.id, row.username, row.site, site_name, tuple(row.roles.split(",")),
                  bool(row.must_change) or too_old)


def _open_session(conn: Connection, settings: ServiceSettings, user_id: int) -> tuple[str, int]:
    token = secrets.token_urlsafe(32)
    expires = settings.now() + settings.session_minutes * 60
    conn.execute(insert(sessions).values(token_hash=_hash_token(token), user_id=user_id,
                                         created_at=settings.now(), expires_at=expires))
    return token, expires


def _check_password_or_count(conn: Connection, settings: ServiceSettings, row, password: str,
                             ) -> None:
    """Refuse a locked account; count a wrong password and lock after too many (which ends
    the account's sessions). The refusal says who, for the audit trail."""
    now = settings.now()
    if row.locked_until and row.locked_until > now:
        minutes = max(1, (row.locked_until - now + 59) // 60)
        raise ServiceProblem(423, "locked", "This account is locked after too many wrong "
                             f"passwords. Try again in {minutes} minutes, or ask your "
                             "administrator to reset it.").naming(row.username, row.site)
    if verify_password(password, row.password_hash):
        conn.execute(update(users).where(users.c.id == row.id).values(failed_attempts=0,
                                                                      locked_until=None))
        return
    failures = conn.execute(  # counted in the database: replicas share one count
        update(users).where(users.c.id == row.id)
        .values(failed_attempts=users.c.failed_attempts + 1)
        .returning(users.c.failed_attempts)).scalar_one()
    if failures >= settings.lockout_failures:
        conn.execute(update(users).where(users.c.id == row.id).values(
            failed_attempts=0, locked_until=now + settings.lockout_minutes * 60))
        conn.execute(delete(sessions).where(sessions.c.user_id == row.id))
        raise bad_credentials().naming(row.username, row.site, "locked_out")
    raise bad_credentials().naming(row.username, row.site)


def sign_in(db: Engine, settings: ServiceSettings, username: str, password: str) -> SignedIn:
    problem: ServiceProblem | None = None
    with db.begin() as conn:  # the user's row stays locked until the attempt is counted
        row = conn.execute(select(users).where(users.c.username == username.strip())
                           .with_for_update()).first()
        if row is None:
            verify_password(password, DUMMY_HASH)
            problem = bad_credentials().naming(audit.UNKNOWN_USER, None)
        else:
            try:
                _check_password_or_count(conn, settings, row, password)
                if row.disabled:
                    raise account_disabled().naming(row.username, row.site)
            except ServiceProblem as refused:
                problem = refused  # commit the failure count before refusing
            else:
                token, expires = _open_session(conn, settings, row.id)
                caller = _caller(conn, settings, row)
                audit.record(conn, settings.now(), row.username, row.site, "sign_in",
                             "password_change_required" if caller.password_change_required
                             else "ok")
    if problem is not None:
        raise problem
    return SignedIn(token, expires, caller)


def authenticate(db: Engine, settings: ServiceSettings, token: str | None) -> Caller:
    """The caller behind a bearer token, or ``session_expired``."""
    if not token:
        raise session_expired()
    with db.connect() as conn:
        row = conn.execute(
            select(users, sessions.c.expires_at)
            .join(sessions, sessions.c.user_id == users.c.id)
            .where(sessions.c.token_hash == _hash_token(token))
        ).first()
        if row is None:
            raise session_expired()
        now = settings.now()
        if row.expires_at <= now:
            raise session_expired().naming(row.username, row.site)
        if row.disabled or (row.locked_until and row.locked_until > now):
            # sessions end when an account is locked or disabled; this guards any left
            raise session_expired().naming(row.username, row.site,
                                           "account_disabled" if row.disabled else "locked")
        return _caller(conn, settings, row)


def token_owner(db: Engine, token: str) -> tuple[str, str] | None:
    """The user name and site a token was issued to, expired or not (for the audit trail)."""
    with db.connect() as conn:
        row = conn.execute(select(users.c.username, users.c.site)
                           .join(sessions, sessions.c.user_id == users.c.id)
                           .where(sessions.c.token_hash == _hash_token(token))).first()
    return (row.username, row.site) if row is not None else None


def change_password(db: Engine, settings: ServiceSettings, caller: Caller, old: str,
                    new: str) -> SignedIn:
    """Replace the password, end every other session, and open a fresh one."""
    problem: ServiceProblem | None = None
    with db.begin() as conn:
        row = conn.execute(select(users).where(users.c.id == caller.user_id)
                           .with_for_update()).one()
        try:
            _check_password_or_count(conn, settings, row, old)
            _check_new_password(new, row.username)
            if new == old:
                raise ServiceProblem(400, "weak_password",
                                     "The new password must differ from the old one.")
        except ServiceProblem as refused:
            problem = refused
        else:
            conn.execute(update(users).where(users.c.id == row.id).values(
                password_hash=hash_password(new), password_changed_at=settings.now(),
                must_change=False))
            conn.execute(delete(sessions).where(sessions.c.user_id == row.id))
            token, expires = _open_session(conn, settings, row.id)
            fresh = conn.execute(select(users).where(users.c.id == row.id)).one()
            signed = SignedIn(token, expires, _caller(conn, settings, fresh))
            audit.record(conn, settings.now(), row.username, row.site, "password_change", "ok")
    if problem is not None:
        raise problem.naming(problem.audit_user or caller.username, caller.site)
    return signed


def sign_out(db: Engine, settings: ServiceSettings, token: str, caller: Caller) -> None:
    with db.begin() as conn:
        conn.execute(delete(sessions).where(sessions.c.token_hash == _hash_token(token)))
        conn.execute(delete(sessions).where(sessions.c.expires_at <= settings.now()))
        audit.record(conn, settings.now(), caller.username, caller.site, "sign_out", "ok")
