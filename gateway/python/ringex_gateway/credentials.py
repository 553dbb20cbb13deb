"""Salted password hashes for the gateway's user table (hashlib.scrypt).

A stored hash reads ``scrypt$<n>$<r>$<p>$<salt hex>$<hash hex>``; the cost parameters
travel with it, so they can be raised later without invalidating old entries.
"""

import hashlib
import hmac
import secrets

_PREFIX = "scrypt"
DEFAULT_N = 1 << 14
DEFAULT_R = 8
DEFAULT_P = 1
_DKLEN = 32


def hash_password(
    password: str, *, n: int = DEFAULT_N, r: int = DEFAULT_R, p: int = DEFAULT_P
) -> str:
    """Returns a salted scrypt hash of ``password`` to store in the gateway config."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=_DKLEN)
    return f"{_PREFIX}${n}${r}${p}${salt.hex()}${digest.hex()}"


def check_hash_format(stored: str) -> None:
    """Raises ValueError unless ``stored`` is a hash :func:`hash_password` could make."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != _PREFIX:
        raise ValueError("password hash must look like scrypt$n$r$p$salt$hash")
    n, r, p = (int(x) for x in parts[1:4])
    if n < 2 or n & (n - 1) or r < 1 or p < 1:
        raise ValueError("scrypt n must be a power of two above 1, r and p positive")
    bytes.fromhex(parts[4])
    if len(bytes.fromhex(parts[5])) != _DKLEN:
        raise ValueError("scrypt hash must be 32 bytes")


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored``; takes the same time whether or not."""
    _, n, r, p, salt, digest = stored.split("$")
    computed = hashlib.scrypt(
        password.encode(),
        salt=bytes.fromhex(salt),
        n=int(n),
        r=int(r),
        p=int(p),
        maxmem=256 * int(n) * int(r) + (1 << 20),
        dklen=_DKLEN,
    )
    return hmac.compare_digest(computed, bytes.fromhex(digest))
