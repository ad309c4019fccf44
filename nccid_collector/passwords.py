"""Password hashing (scrypt) and the strong-password policy.

Why scrypt from the standard library: it is memory-hard, needs no extra dependency, and the
parameters travel inside each stored hash so they can be raised later without a migration.
The policy is data (``POLICY_RULES``) so the message a user reads is built from the same rules
the check applies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass

SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_MAXMEM = 128 * 1024 * 1024
#: Each scrypt call holds 32 MB and a core for about 0.1 s: running more at once than there are
#: cores adds no speed, only memory (a sign-in storm of 40 would want 1.3 GB per replica).
_SCRYPT_SLOTS = threading.BoundedSemaphore(max(2, os.cpu_count() or 2))
MIN_LENGTH = 12
MAX_LENGTH = 256
MIN_CHARACTER_CLASSES = 3
COMMON_PASSWORDS = frozenset({
    "password1234", "password123!", "qwertyuiop12", "welcome12345", "letmein12345",
    "changeme1234", "administrator1", "nhspassword1", "covid19password",
})

_CLASSES: tuple[Callable[[str], bool], ...] = (
    lambda p: any(c.islower() for c in p),
    lambda p: any(c.isupper() for c in p),
    lambda p: any(c.isdigit() for c in p),
    lambda p: any(not c.isalnum() for c in p),
)


@dataclass(frozen=True)
class PolicyRule:
    describes: str
    passes: Callable[[str, str], bool]


POLICY_RULES: tuple[PolicyRule, ...] = (
    PolicyRule(f"at least {MIN_LENGTH} characters", lambda p, _u: len(p) >= MIN_LENGTH),
    PolicyRule(f"at most {MAX_LENGTH} characters", lambda p, _u: len(p) <= MAX_LENGTH),
    PolicyRule("at least three of: lower-case letters, capitals, digits, symbols",
               lambda p, _u: sum(test(p) for test in _CLASSES) >= MIN_CHARACTER_CLASSES),
    PolicyRule("not containing your user name",
               lambda p, u: not u or u.lower() not in p.lower()),
    PolicyRule("not a commonly used password", lambda p, _u: p.lower() not in COMMON_PASSWORDS),
    PolicyRule("no character repeated more than four times in a row",
               lambda p, _u: re.search(r"(.)\1{4,}", p) is None),
)


def policy_problems(password: str, username: str = "") -> list[str]:
    """The rules ``password`` breaks, in words (empty when it is acceptable)."""
    return [rule.describes for rule in POLICY_RULES if not rule.passes(password, username)]


def policy_message(problems: list[str]) -> str:
    rules = "; ".join(rule.describes for rule in POLICY_RULES)
    return (f"That password is not strong enough ({', '.join(problems)}). "
            f"Choose one with {rules}.")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    with _SCRYPT_SLOTS:
        return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                              maxmem=SCRYPT_MAXMEM, dklen=dklen)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, 32)
    return "$".join(("scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P),
                     base64.b64encode(salt).decode(), base64.b64encode(digest).decode()))


def verify_password(password: str, stored: str) -> bool:
    if len(password) > MAX_LENGTH:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p),
                         len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


#: Verified against when the user name is unknown, so both paths cost the same time.
DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
