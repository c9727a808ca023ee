"""A card as a file a person carries between commands: the demo My Number card.

The file is JSON a person can read::

    {
      "format": "kofu-card", "version": 1,
      "card_id": "…", "generation": 7, "state": "active", "expires_on": "2036-05-01",
      "issuer_key_digest": "<SHA-256 of the issuer secret, hex>",
      "jpki": {"auth": {"certificate": "<PEM>", "tries_left": 3},
               "sign": {"certificate": "<PEM>", "tries_left": 5}},
      "sealed_contents": ["issuer secret", "private keys", "PIN verifiers (scrypt)"],
      "seal": {"cipher": "AES-256-GCM", "kdf": "HKDF-SHA256", "salt": "…",
               "key_check": "…", "nonce": "…", "ciphertext": "…"}
    }

The secrets — the two RSA private keys (PKCS#8 DER), the PIN verifiers
(scrypt, a random salt per PIN) and the issuer secret the card checks issuance
MACs with — exist in the file only inside ``seal.ciphertext``, AES-256-GCM
encrypted.  Everything else is the GCM associated data: the whole document but
the nonce and ciphertext, as canonical JSON (sorted keys, no spaces, ASCII).
So any change to the file's content — a flipped byte, a retry counter set back
to full, a swapped certificate, an added field — fails authentication and the
card does not load.  PIN verifiers are sealed too, not merely hashed, because a
4-digit PIN falls to an offline search of ten thousand guesses whatever the hash.

``generation`` counts the writes of the card's state (authenticated like the
rest).  Given a ``CardLedger``, saving records each new generation there and
loading refuses a file older than the newest one recorded, as
``card_rolled_back``: copying the file back does not copy tries back.  A file
written before generations existed reads as generation 0.

The sealing key is HKDF-SHA256 of the caller's ``card_master_key`` (the
installation keeps it under KOFU_HOME) with a fresh random salt per save;
``key_check`` lets a wrong master key be told apart from a tampered file.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import tempfile
import textwrap
from datetime import date
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kofu.card._vault import open_vault
from kofu.card.element import CardImage, SecureElement
from kofu.card.ledger import CardLedger
from kofu.core.certkinds import CertKind
from kofu.core.errors import InvalidInput, NotFound

__all__ = [
    "FORMAT",
    "MIN_MASTER_KEY",
    "TAMPERED",
    "VERSION",
    "WRONG_MASTER_KEY",
    "card_id_of",
    "certificates_on",
    "load_card",
    "save_card",
]

FORMAT = "kofu-card"
VERSION = 1
MIN_MASTER_KEY = 32
SALT_SIZE = 16
TAMPERED = "the card file has been tampered with"
WRONG_MASTER_KEY = (
    "the card file cannot be opened with this master key "
    "(a card from another installation, or the file has been tampered with)"
)
SEALED_CONTENTS = ["issuer secret", "private keys", "PIN verifiers (scrypt)"]
PEM_BEGIN, PEM_END = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"


def save_card(
    element: SecureElement,
    path: str | os.PathLike[str],
    master_key: bytes,
    ledger: CardLedger | None = None,
) -> None:
    """Write the card to ``path`` (atomically, durably, mode 0600) as its next generation.

    The file is on disk before the ledger records the generation, so a crash
    between the two leaves a file newer than the ledger, which loads.
    """
    master = _check_master_key(master_key)
    salt = os.urandom(SALT_SIZE)
    key = _derive(master, salt)
    image = element._image()
    generation = image.generation + 1
    doc = _document(image, salt, key) | {"generation": generation}
    nonce, ciphertext = element._seal(key, _aad(doc))
    doc["seal"] |= {"nonce": _b64(nonce), "ciphertext": _b64(ciphertext)}
    _write_atomic(Path(path), json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    if ledger is not None:
        ledger.advance(image.card_id, generation)
    element._written(generation)


def load_card(
    path: str | os.PathLike[str], master_key: bytes, ledger: CardLedger | None = None
) -> SecureElement:
    """Read a card written by ``save_card``; refuses a changed file, a wrong master key and,
    given the ledger, a copy older than the newest state seen (``card_rolled_back``)."""
    element = _open(path, master_key)
    if ledger is not None:
        ledger.check(element.card_id, element._image().generation)
    return element


def _open(path: str | os.PathLike[str], master_key: bytes) -> SecureElement:
    master = _check_master_key(master_key)
    doc = _read(Path(path))
    if doc.get("format") != FORMAT:
        raise InvalidInput(f"not a kofu card file: {path}")
    if doc.get("version") != VERSION:
        raise InvalidInput(f"unsupported card file version {doc.get('version')!r}")
    try:
        seal = doc["seal"]
        salt, nonce = _unb64(seal["salt"]), _unb64(seal["nonce"])
        ciphertext, key_check = _unb64(seal["ciphertext"]), seal["key_check"]
    except (KeyError, TypeError, ValueError):
        raise InvalidInput(TAMPERED) from None
    key = _derive(master, salt)
    if not isinstance(key_check, str) or not hmac.compare_digest(key_check, _key_check(key)):
        raise InvalidInput(WRONG_MASTER_KEY)
    try:
        vault = open_vault(key, nonce, ciphertext, _aad(doc))
    except InvalidTag:
        raise InvalidInput(TAMPERED) from None
    return SecureElement(_image(doc), vault)


def _check_master_key(master_key: bytes) -> bytes:
    if not isinstance(master_key, bytes | bytearray) or len(master_key) < MIN_MASTER_KEY:
        raise InvalidInput(
            f"the card master key must be at least {MIN_MASTER_KEY} bytes", field="master_key"
        )
    return bytes(master_key)


def _derive(master: bytes, salt: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"kofu card file v1: seal")
    return hkdf.derive(master)


def _key_check(key: bytes) -> str:
    return hmac.new(key, b"kofu card file v1: key check", hashlib.sha256).hexdigest()[:32]


def _document(image: CardImage, salt: bytes, key: bytes) -> dict[str, Any]:
    """The file's JSON without nonce and ciphertext: exactly what GCM authenticates."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "card_id": image.card_id,
        "state": image.state,
        "expires_on": image.expires_on.isoformat() if image.expires_on else None,
        "issuer_key_digest": image.issuer_digest,
        "jpki": {
            kind.value: {
                "certificate": _pem(image.certificates.get(kind, b"")),
                "tries_left": image.tries_left[kind],
            }
            for kind in CertKind
        },
        "sealed_contents": SEALED_CONTENTS,
        "seal": {
            "cipher": "AES-256-GCM",
            "kdf": "HKDF-SHA256",
            "salt": _b64(salt),
            "key_check": _key_check(key),
        },
    }


def _aad(doc: dict[str, Any]) -> bytes:
    """Canonical JSON of the document minus the nonce and ciphertext GCM covers itself."""
    seal = {k: v for k, v in doc.get("seal", {}).items() if k not in ("nonce", "ciphertext")}
    rest = {**doc, "seal": seal}
    return json.dumps(rest, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _image(doc: dict[str, Any]) -> CardImage:
    """The card's public part, from a document whose authenticity is already proven."""
    try:
        jpki = doc["jpki"]
        expires = doc["expires_on"]
        return CardImage(
            card_id=doc["card_id"],
            state=doc["state"],
            expires_on=date.fromisoformat(expires) if expires is not None else None,
            issuer_digest=doc["issuer_key_digest"],
            certificates={k: _unpem(jpki[k.value]["certificate"]) for k in CertKind},
            tries_left={k: _count(jpki[k.value]["tries_left"]) for k in CertKind},
            generation=_count(doc.get("generation", 0)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"the card file is malformed: {exc}") from None


def _count(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"a counter is a whole number, not {value!r}")
    return value


def _read(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"no card file at {path}") from None
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput(TAMPERED) from None
    if not isinstance(doc, dict):
        raise InvalidInput(TAMPERED)
    return doc


def _write_atomic(path: Path, text: str) -> None:
    """Write beside the target, then rename over it: a crash never leaves half a card."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())  # a counted PIN try must survive a power cut
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _pem(der: bytes) -> str | None:
    if not der:
        return None
    body = "\n".join(textwrap.wrap(_b64(der), 64))
    return f"{PEM_BEGIN}\n{body}\n{PEM_END}\n"


def _unpem(pem: str | None) -> bytes:
    if pem is None:
        return b""
    lines = pem.strip().splitlines()
    if len(lines) < 2 or lines[0] != PEM_BEGIN or lines[-1] != PEM_END:
        raise ValueError("a certificate is PEM")
    return _unb64("".join(lines[1:-1]))


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: str) -> bytes:
    if not isinstance(text, str):
        raise ValueError("expected base64 text")
    return base64.b64decode(text.encode("ascii"), validate=True)


def certificates_on(
    path: str | os.PathLike[str], master_key: bytes, ledger: CardLedger | None = None
) -> dict[CertKind, bytes]:
    """The certificates a card file holds (DER; empty when none), once the file proves intact.

    This is the holder's own view of their card file, as ``kofu card status``
    shows it; reading the signature certificate from the chip itself still
    needs the password.
    """
    load_card(path, master_key, ledger)
    return dict(_image(_read(Path(path))).certificates)


def card_id_of(path: str | os.PathLike[str]) -> str:
    """The card id a card file names, read before it is opened (to take the card's lock).

    Not yet authenticated: ``load_card`` proves it, and the caller checks the two agree.
    """
    card_id = _read(Path(path)).get("card_id")
    if not isinstance(card_id, str):
        raise InvalidInput(TAMPERED)
    return card_id
