"""The card file: round trips, no secrets in clear, and any change refused."""

from __future__ import annotations

import base64
import json
import stat
from datetime import date
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.hashes import SHA256

from kofu.card.element import SecureElement
from kofu.card.reader import JpkiCard, PinError
from kofu.card.storage import TAMPERED, WRONG_MASTER_KEY, load_card, save_card
from kofu.core.errors import InvalidInput, KofuError, NotFound


def test_round_trip_keeps_everything(card_path: Path, kit, tmp_path: Path) -> None:
    card = load_card(card_path, kit.master_key)
    card.set_state("suspended")
    card.set_expires_on(date(2031, 1, 1))
    client = JpkiCard(card)
    client.verify_pin("sign", kit.sign_password)
    certificate = client.read_certificate("sign")
    save_card(card, tmp_path / "again.json", kit.master_key)

    again = load_card(tmp_path / "again.json", kit.master_key)
    assert (again.card_id, again.state, again.expires_on) == (
        kit.card_id,
        "suspended",
        date(2031, 1, 1),
    )
    client = JpkiCard(again)
    with pytest.raises(KofuError):
        client.sign("sign", b"x")  # the verified state did not travel
    client.verify_pin("sign", kit.sign_password)
    assert client.read_certificate("sign") == certificate
    signature = client.sign("sign", b"same key after loading")
    public_key = x509.load_der_x509_certificate(certificate).public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    public_key.verify(signature, b"same key after loading", PKCS1v15(), SHA256())


def test_the_file_is_readable_json_with_pem_certificates(card_path: Path, kit) -> None:
    doc = json.loads(card_path.read_text(encoding="utf-8"))
    assert (doc["format"], doc["version"], doc["card_id"]) == ("kofu-card", 1, kit.card_id)
    assert doc["expires_on"] == kit.expires_on.isoformat()
    assert doc["jpki"]["auth"]["certificate"].startswith("-----BEGIN CERTIFICATE-----")
    assert doc["jpki"]["sign"]["tries_left"] == 5
    assert doc["seal"]["cipher"] == "AES-256-GCM"


def test_no_private_key_or_pin_in_clear(issued: SecureElement, kit, private_keys, tmp_path) -> None:
    path = tmp_path / "card.json"
    save_card(issued, path, kit.master_key)
    raw = path.read_bytes()
    keys = private_keys(issued)
    assert len(keys) == 2
    for key in keys:
        der = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
        d = key.private_numbers().d.to_bytes(256, "big")
        for secret in (der, pem, d, base64.b64encode(der), d.hex().encode()):
            assert secret[-48:] not in raw
        assert b"PRIVATE KEY" not in raw
    assert kit.sign_password.encode() not in raw
    assert kit.issuer_secret not in raw
    assert base64.b64encode(kit.issuer_secret) not in raw


def test_file_is_private_to_its_owner(card_path: Path, kit, issued: SecureElement) -> None:
    save_card(issued, card_path, kit.master_key)
    assert stat.S_IMODE(card_path.stat().st_mode) == 0o600


@pytest.mark.parametrize("fraction", [0.01, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99])
def test_a_flipped_byte_is_detected(card_path: Path, kit, fraction: float) -> None:
    raw = bytearray(card_path.read_bytes())
    raw[int(len(raw) * fraction)] ^= 0x01
    card_path.write_bytes(bytes(raw))
    with pytest.raises(KofuError, match="tampered"):
        load_card(card_path, kit.master_key)


def test_resetting_a_retry_counter_in_the_json_is_detected(
    personalised: SecureElement, kit, tmp_path: Path
) -> None:
    card = JpkiCard(personalised)
    with pytest.raises(PinError):
        card.verify_pin("auth", "0000")
    path = tmp_path / "card.json"
    save_card(personalised, path, kit.master_key)
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["jpki"]["auth"]["tries_left"] == 2
    doc["jpki"]["auth"]["tries_left"] = 3
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        load_card(path, kit.master_key)
    assert caught.value.message == TAMPERED


@pytest.mark.parametrize(
    "edit",
    [
        lambda doc: doc.update(state="active"),
        lambda doc: doc.update(extra=1),
        lambda doc: doc["jpki"].update(sign=doc["jpki"]["auth"]),
        lambda doc: doc["seal"].update(nonce=base64.b64encode(bytes(12)).decode()),
    ],
)
def test_other_edits_are_detected(card_path: Path, kit, edit) -> None:
    card = load_card(card_path, kit.master_key)
    card.set_state("abolished")
    save_card(card, card_path, kit.master_key)
    doc = json.loads(card_path.read_text(encoding="utf-8"))
    edit(doc)
    card_path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(InvalidInput, match="tampered"):
        load_card(card_path, kit.master_key)


def test_a_wrong_master_key_is_refused(card_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_card(card_path, b"\xff" * 32)
    assert caught.value.message == WRONG_MASTER_KEY


def test_a_locked_pin_stays_locked_across_save_and_load(
    personalised: SecureElement, kit, tmp_path: Path
) -> None:
    card = JpkiCard(personalised)
    for _ in range(3):
        with pytest.raises(PinError):
            card.verify_pin("auth", "0000")
    path = tmp_path / "card.json"
    save_card(personalised, path, kit.master_key)
    again = JpkiCard(load_card(path, kit.master_key))
    assert again.tries_left("auth") == 0
    assert again.tries_left("sign") == 5
    with pytest.raises(PinError) as caught:
        again.verify_pin("auth", kit.auth_pin)
    assert caught.value.reason == "pin_locked"


def test_master_key_path_and_version_are_checked(card_path: Path, kit, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="at least 32 bytes"):
        load_card(card_path, b"short")
    with pytest.raises(NotFound):
        load_card(tmp_path / "missing.json", kit.master_key)
    doc = json.loads(card_path.read_text(encoding="utf-8"))
    doc["version"] = 2
    card_path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(InvalidInput, match="version 2"):
        load_card(card_path, kit.master_key)
    card_path.write_text("[]", encoding="utf-8")
    with pytest.raises(InvalidInput, match="tampered"):
        load_card(card_path, kit.master_key)
