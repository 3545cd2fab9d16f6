"""Passwords: Argon2id hashes and the rules a new password must meet.

Hashes use argon2-cffi's default parameters, RFC 9106's second recommended profile
(Argon2id, 3 passes over 64 MiB, 4 lanes): about 50-100 ms of one core per check here,
paid on sign-in only (a session then stands for the person). A hash made with older
parameters is replaced at the next sign-in.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Callable
from functools import lru_cache
from importlib.resources import files
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from app.errors import Unavailable

MIN_LENGTH = 10
MAX_LENGTH = 200  # bounds the work a sign-in request can ask for

_hasher = PasswordHasher()

# A hash holds a core and 64 MiB for its whole run. Forty sign-ins at once would start forty
# (160 lanes on two cores): each would take seconds, and the few requests holding a database
# connection would be starved of CPU until others timed out waiting for it. So at most one
# hash per core runs; the rest wait their turn, holding no connection, for a bounded time.
SLOTS = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))
WAIT_SECONDS = 10.0  # the default of HOTLINE_PASSWORD_WAIT_SECONDS
T = TypeVar("T")


def _in_a_slot(work: Callable[[], T], wait: float) -> T:
    if not SLOTS.acquire(timeout=wait):
        raise Unavailable("too many password checks at once; try again shortly", retry_after=2)
    try:
        return work()
    finally:
        SLOTS.release()


def hash_password(password: str, wait: float = WAIT_SECONDS) -> str:
    """An Argon2id hash (with its parameters and salt) of a password."""
    return _in_a_slot(lambda: _hasher.hash(password), wait)


def verify(stored: str | None, password: str, wait: float = WAIT_SECONDS) -> bool:
    """Whether `password` matches the stored hash. With no hash (an unknown username, an
    account without a password) a hash of a random secret is checked instead, so that the
    answer takes as long either way and says nothing about which usernames exist."""
    target = stored or _dummy_hash()

    def check() -> bool:
        try:
            return _hasher.verify(target, password[:MAX_LENGTH])
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return _in_a_slot(check, wait) and stored is not None


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)


def use_hasher(hasher: PasswordHasher) -> PasswordHasher:
    """Hash and check with `hasher` from now on; returns the one it replaces. The service
    never calls this: the test suite does, to run its hundreds of sign-ins at argon2's
    smallest cost (its timing tests keep the real one)."""
    global _hasher
    previous, _hasher = _hasher, hasher
    _dummy_hash.cache_clear()
    return previous


# The hash of a random password that was thrown away: checking any password against it
# costs what a real check costs and never matches. Made ahead so that even the first
# check of an unknown username takes no longer than a known one's.
_DUMMY = "$argon2id$v=19$m=65536,t=3,p=4$RNmNeeNZ/WcrTkBJ614XRQ$gI8+QBDVKIKe4ITgrjfMHd7NkQO9WNctD2fR4nz0SZg"


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    if not _hasher.check_needs_rehash(_DUMMY):
        return _DUMMY
    return _hasher.hash(secrets.token_urlsafe(24))  # the parameters changed: match them


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    text = (files("app.data") / "common-passwords.txt").read_text(encoding="utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def _is_run(password: str) -> bool:
    """One character repeated, or a run of consecutive characters (1234567890, abcdefghij)."""
    if len(set(password)) <= 2:
        return True
    steps = {ord(b) - ord(a) for a, b in zip(password, password[1:], strict=False)}
    return len(steps) == 1 and steps <= {-1, 1}


def password_problem(password: str, *, username: str = "") -> str | None:
    """Why a new password may not be used, or None when it may."""
    if len(password) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters"
    lowered = password.lower()
    if lowered in _common() or _is_run(password):
        return "is a commonly used password; choose one that is harder to guess"
    if username and username.lower() in lowered:
        return "may not contain the username"
    return None
