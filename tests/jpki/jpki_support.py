"""What the JPKI tests share besides fixtures: constants, the card keys, PostgreSQL helpers."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from kofu.core.clock import JST
from kofu.core.network import NetworkIdentity, client_context, network_identity

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=JST)
BASE_URL = "http://127.0.0.1:8765"
CA_NAMES = ("root", "sign", "auth")
KOFU = Path(sys.executable).parent / "kofu"


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


def certificate_request(keys: CardKeys, card_id: str, city: str = "112186") -> dict[str, Any]:
    """A city's request for a card's two certificates, for one made-up 深谷市 resident."""
    return {
        "city": city,
        "resident_code": "12345678901",
        "card_id": card_id,
        "birth_date": "1990-05-10",
        "card_expiry": "2036-05-10",
        "auth_public_key_pem": public_pem(keys.auth),
        "sign_public_key_pem": public_pem(keys.sign),
        "facts": {
            "name": "深谷 花子",
            "sex": "2",
            "birth_date": "1990-05-10",
            "address": "埼玉県深谷市仲町11番1号",
        },
    }


@dataclass(frozen=True)
class Server:
    """A running ``kofu serve jpki``: its URL, its ready line, its home and its backend."""

    url: str
    ready: dict[str, Any]
    home: Path
    backend: str

    @property
    def private(self) -> str:
        """The mutual-TLS listener: issuance, revocation, status."""
        return str(self.ready["private"])

    def identity(self, name: str, network: str = "lgwan") -> NetworkIdentity:
        """A network certificate of ``name`` from the server's own network CA."""
        return network_identity(self.home, name, network)

    def client(self, name: str, network: str = "lgwan") -> httpx.Client:
        """An httpx client on the private listener, presenting ``name``'s network certificate."""
        context = client_context(self.identity(name, network))
        return httpx.Client(base_url=self.private, verify=context, timeout=30)
