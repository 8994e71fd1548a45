"""Digests for fixity and the event chain: SM3 (the national algorithm) where OpenSSL provides it,
SHA-256 always. Every stored value is kept with its algorithm's name, so a later change of
algorithm can never turn into a false mismatch (peers.md pitfall 12)."""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

CHUNK = 1 << 20


@lru_cache(maxsize=None)
def sm3_available() -> bool:
    try:
        return hashlib.new("sm3", b"abc").hexdigest().startswith("66c7f0f4")
    except (ValueError, TypeError):
        return False


def fixity_algorithms() -> tuple[str, ...]:
    """Algorithms recorded for every filed file."""
    return ("sm3", "sha256") if sm3_available() else ("sha256",)


def chain_algorithm() -> str:
    """Algorithm for the hash-chained event log: SM3 where available, else SHA-256."""
    return "sm3" if sm3_available() else "sha256"


def new(algorithm: str):
    if algorithm not in ("sm3", "sha256"):
        raise ValueError(f"unsupported digest algorithm {algorithm!r}")
    return hashlib.new(algorithm)


def digest_bytes(data: bytes, algorithm: str) -> str:
    h = new(algorithm)
    h.update(data)
    return h.hexdigest()


def digest_file(path: Path, algorithms: tuple[str, ...] | None = None) -> dict[str, str]:
    """{algorithm: hexdigest} for one file, reading it once."""
    algorithms = algorithms or fixity_algorithms()
    hs = {a: new(a) for a in algorithms}
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            for h in hs.values():
                h.update(chunk)
    return {a: h.hexdigest() for a, h in hs.items()}
