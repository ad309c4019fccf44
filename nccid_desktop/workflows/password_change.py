"""Changing a password: the same use case for the app's dialog and ``nccid password change``.

Why here and not in the dialog: a PACS user on a server without a desktop, or IT scripting a
first sign-in, must be able to change a password too, and the two front ends must ask the
same questions and give the same answers. The service judges the password (its policy lives
in one place and answers with a sentence saying what is missing); this only checks that the
two new entries match and are there, then fetches the site keys the new session may use.
"""

from __future__ import annotations

from dataclasses import dataclass

from nccid_desktop.errors import AuthError
from nccid_desktop.keys import SiteKeys
from nccid_desktop.tasks import NEVER_CANCELLED, CancelToken, Progress, ProgressCallback, no_progress
from nccid_desktop.transport.client import CollectorClient, SignedIn

FORCED_REASON = ("Your password has expired (or was set by an administrator). Choose a new "
                 "password to carry on.")
VOLUNTARY_REASON = "Enter your current password, then the new one twice."
NOT_THE_SAME = "The two new passwords are not the same. Type them again."
MISSING = "Enter your current password and the new one."


class PasswordEntryError(AuthError):
    """The entries themselves are wrong (bad input, exit code 2): nothing was sent."""

    exit_code = 2


@dataclass(frozen=True)
class PasswordChanged:
    signed_in: SignedIn
    keys: SiteKeys


def check_entries(current: str, new: str, again: str) -> None:
    """Before anything is sent: both entries typed alike, nothing left empty."""
    if new != again:
        raise PasswordEntryError(NOT_THE_SAME)
    if not new or not current:
        raise PasswordEntryError(MISSING)


def change_password(client: CollectorClient, current: str, new: str, again: str, *,
                    progress: ProgressCallback = no_progress,
                    cancel: CancelToken = NEVER_CANCELLED) -> PasswordChanged:
    """Change the signed-in user's password; the service's refusal comes back as an
    :class:`AuthError` whose message says what the new password lacks."""
    check_entries(current, new, again)
    cancel.raise_if_cancelled()
    progress(Progress(0, 2, "Changing the password"))
    signed = client.change_password(current, new)
    progress(Progress(1, 2, "Fetching the site keys"))
    keys = client.site_keys()
    progress(Progress(2, 2, "Password changed"))
    return PasswordChanged(signed, keys)
