"""What an administrator does to an account: lock, unlock, disable, enable.

Why every change ends the account's sessions in the same transaction: a locked or disabled
account must stop at once, not when its 8-hour session runs out. (A password reset does the
same, in :func:`nccid_collector.accounts.reset_password`.)
"""

from __future__ import annotations

from sqlalchemy import Engine, delete, select, update

from nccid_collector.accounts import audit_admin
from nccid_collector.db import sessions, users
from nccid_collector.settings import ServiceSettings
from nccid_desktop.errors import ConfigError


def _set_account(db: Engine, settings: ServiceSettings, username: str, action: str,
                 **values: object) -> None:
    """Change an account and end every session it has, in one transaction."""
    with db.begin() as conn:
        user_id = conn.execute(select(users.c.id).where(users.c.username == username)).scalar()
        if user_id is None:
            raise ConfigError(f"There is no user called {username}.")
        conn.execute(update(users).where(users.c.id == user_id).values(**values))
        conn.execute(delete(sessions).where(sessions.c.user_id == user_id))
        audit_admin(conn, settings, username, action)


def lock_user(db: Engine, settings: ServiceSettings, username: str, minutes: int) -> None:
    """Lock an account for ``minutes``; its sessions end at once."""
    if minutes < 1:
        raise ConfigError("Lock an account for at least one minute.")
    _set_account(db, settings, username, "account_lock",
                 locked_until=settings.now() + minutes * 60)


def unlock_user(db: Engine, settings: ServiceSettings, username: str) -> None:
    _set_account(db, settings, username, "account_unlock", locked_until=None,
                 failed_attempts=0)


def disable_user(db: Engine, settings: ServiceSettings, username: str) -> None:
    """Disable an account until an administrator enables it; its sessions end at once."""
    _set_account(db, settings, username, "account_disable", disabled=True)


def enable_user(db: Engine, settings: ServiceSettings, username: str) -> None:
    _set_account(db, settings, username, "account_enable", disabled=False, locked_until=None,
                 failed_attempts=0)
