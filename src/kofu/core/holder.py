"""The holder digest every party computes the same way: whose document, without naming them."""

from __future__ import annotations

import hashlib

__all__ = ["holder_digest", "identity_digest", "normal_name"]


def holder_digest(city: str, resident_code: str) -> str:
    """SHA-256 of ``city:resident_code``; the center compares the city's and the authority's."""
    return hashlib.sha256(f"{city}:{resident_code}".encode()).hexdigest()


def identity_digest(name: str, birth_date: str, sex: str) -> str:
    """SHA-256 of a person's name, birth date and sex (本人確認情報 less the address).

    The domicile city knows the person only from the family register, not by
    the residence city's resident code; the center compares this digest of
    the person the domicile city issued for with the one of the person the
    residence city says the card belongs to.  Spaces are normalised so that
    ``鈴木　修`` and ``鈴木 修`` are the same name.
    """
    return hashlib.sha256(f"{normal_name(name)}|{birth_date}|{sex}".encode()).hexdigest()


def normal_name(name: str) -> str:
    """A name with its parts separated by one plain space, however it was typed or stored."""
    return " ".join(name.replace("\u3000", " ").split())
