"""What the JPKI tests share besides fixtures: constants, the card keys, PostgreSQL helpers."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from kofu.core.clock import JST

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=JST)
BASE_URL = "http://127.0.0.1:8765"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
CA_NAMES = ("root", "sign", "auth")
KOFU = Path(sys.executable).parent / "kofu"


@cache
def postgres_unreachable() -> str | None:
    """Why PostgreSQL cannot be used, or None when it can (asked once per session)."""
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3) as conn:
            conn.execute("select 1")
    except psycopg.Error as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"PostgreSQL is not reachable at {POSTGRES_URL}: {first_line}"
    return None


def drop_schema(schema: str) -> None:
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def copy_ca_keys(source: Path, target: Path) -> Path:
    """The session's CA key files in a directory of the caller's own (no certificates)."""
    target.mkdir(parents=True, exist_ok=True)
    for name in CA_NAMES:
        shutil.copy2(source / f"{name}.key.pem", target / f"{name}.key.pem")
    return target


def public_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    """The SubjectPublicKeyInfo PEM of a private key's public half."""
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@dataclass(frozen=True)
class CardKeys:
    """Two card key pairs (a card's auth and sign keys), made once per session."""

    auth: rsa.RSAPrivateKey
    sign: rsa.RSAPrivateKey

    @property
    def auth_public(self) -> rsa.RSAPublicKey:
        return self.auth.public_key()

    @property
    def sign_public(self) -> rsa.RSAPublicKey:
        return self.sign.public_key()


@dataclass(frozen=True)
class Server:
    """A running ``kofu serve jpki``: its URL, its ready line, its home and its backend."""

    url: str
    ready: dict[str, Any]
    home: Path
    backend: str
