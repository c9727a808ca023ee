"""The holder digest every party computes the same way: whose document, without naming them."""

from __future__ import annotations

import hashlib

__all__ = ["holder_digest"]


def holder_digest(city: str, resident_code: str) -> str:
    """SHA-256 of ``city:resident_code``; the center compares the city's and the authority's."""
    return hashlib.sha256(f"{city}:{resident_code}".encode()).hexdigest()
