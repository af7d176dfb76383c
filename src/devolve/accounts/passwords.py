"""Passwords: hashed with argon2id (argon2-cffi's defaults, RFC 9106's second recommended
parameters), checked in constant time, re-hashed when the parameters change."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from devolve.domain.errors import InputError

MIN_LENGTH = 12
MAX_LENGTH = 1024

_hasher = PasswordHasher()
#: A hash of a password nobody has, checked when the user does not exist, so that a wrong user name
#: takes as long as a wrong password (no user enumeration by timing).
_DECOY = _hasher.hash("devolve decoy password, never valid")


def check_policy(password: str) -> None:
    """Refuse passwords that are too short, too long, or one character repeated."""
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        raise InputError(f"the password must have at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise InputError(f"the password must have at most {MAX_LENGTH} characters")
    if len(set(password)) < 4:
        raise InputError("the password must use at least 4 different characters")


def hash_password(password: str) -> str:
    check_policy(password)
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash`` (``None``: no such user; still takes the time)."""
    try:
        return _hasher.verify(stored_hash or _DECOY, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
