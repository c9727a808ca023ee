"""The secure element at the APDU level: selection, reading, chaining, issuer MACs, secrecy."""

from __future__ import annotations

import copy
import hashlib
import pickle
from datetime import date

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from kofu.card.apdu import CommandAPDU, ResponseAPDU
from kofu.card.element import SecureElement
from kofu.card.jpki_ap import JPKI_AID, SHA256_DIGEST_INFO_PREFIX, issuer_mac
from kofu.card.reader import JpkiCard
from kofu.core.errors import InvalidInput

AUTH_CERT, AUTH_PIN, AUTH_KEY = 0x000A, 0x0018, 0x0017
SIGN_CERT, SIGN_PIN, SIGN_KEY = 0x0001, 0x001B, 0x001A
DIGEST_INFO = SHA256_DIGEST_INFO_PREFIX + hashlib.sha256(b"kofu").digest()


def send(element: SecureElement, apdu: CommandAPDU | str) -> ResponseAPDU:
    raw = bytes.fromhex(apdu) if isinstance(apdu, str) else apdu.to_bytes()
    return ResponseAPDU.from_bytes(element.transmit(raw))


def select(element: SecureElement, fid: int | None = None) -> None:
    assert send(element, CommandAPDU(0x00, 0xA4, 0x04, 0x0C, JPKI_AID)).sw == 0x9000
    if fid is not None:
        assert send(element, CommandAPDU(0x00, 0xA4, 0x02, 0x0C, fid.to_bytes(2, "big"))).ok


def issuer_command(
    element: SecureElement, secret: bytes, header: str, payload: bytes = b"", le: int | None = None
) -> ResponseAPDU:
    challenge = send(element, "0084000008").data
    cla, ins, p1, p2 = bytes.fromhex(header)
    mac = issuer_mac(secret, challenge, bytes.fromhex(header), payload)
    return send(element, CommandAPDU(cla, ins, p1, p2, payload + mac, le))


def test_the_jpki_files_are_mirrored() -> None:
    element = SecureElement.blank(b"x" * 16)
    select(element)
    for fid in (AUTH_CERT, AUTH_PIN, AUTH_KEY, SIGN_CERT, SIGN_PIN, SIGN_KEY):
        assert send(element, CommandAPDU(0x00, 0xA4, 0x02, 0x0C, fid.to_bytes(2, "big"))).ok


@pytest.mark.parametrize(
    ("command", "sw"),
    [
        ("00A4040C0AD392F000260100000002", 0x6A82),  # another AID
        ("00A4020C02000A", 0x6A82),  # an EF before the AP is selected
        ("00A4000002000A", 0x6A86),  # unsupported P1/P2
        ("00FF000000", 0x6D00),  # no such instruction
        ("80A4040C0AD392F000260100000001", 0x6E00),  # SELECT with a proprietary class
        ("00A404", 0x6700),  # not even a header
        ("00B0000001000100", 0x6700),  # extended length
        ("00C0000010", 0x6985),  # GET RESPONSE with nothing pending
        ("0084000010", 0x6700),  # a challenge is 8 bytes
    ],
)
def test_commands_out_of_place(command: str, sw: int) -> None:
    assert send(SecureElement.blank(b"x" * 16), command).sw == sw


def test_select_unknown_file_and_bad_fid_length() -> None:
    element = SecureElement.blank(b"x" * 16)
    select(element)
    assert send(element, "00A4020C020002").sw == 0x6A82  # sign CA cert: not modelled
    assert send(element, "00A4020C03000A00").sw == 0x6700


def test_read_binary_in_chunks(issued: SecureElement) -> None:
    whole = JpkiCard(issued).read_certificate("auth")
    select(issued, AUTH_CERT)
    chunks, offset, sw = [], 0, 0x9000
    while sw == 0x9000:
        response = send(issued, CommandAPDU(0x00, 0xB0, offset >> 8, offset & 0xFF, le=100))
        chunks.append(response.data)
        offset += len(response.data)
        sw = response.sw
    assert sw == 0x6282  # end of file before Ne bytes
    assert b"".join(chunks) == whole
    assert send(issued, CommandAPDU(0x00, 0xB0, 0x7F, 0x00, le=16)).sw == 0x6B00


def test_read_binary_needs_le_a_certificate_ef_and_no_sfi(issued: SecureElement) -> None:
    select(issued, AUTH_CERT)
    assert send(issued, "00B00000").sw == 0x6700
    assert send(issued, "00B0810000").sw == 0x6A86
    select(issued, AUTH_PIN)
    assert send(issued, "00B0000010").sw == 0x6986


def test_reading_the_sign_certificate_needs_the_password(issued: SecureElement, kit) -> None:
    select(issued, SIGN_CERT)
    assert send(issued, "00B0000010").sw == 0x6982
    select(issued, SIGN_PIN)
    assert send(issued, CommandAPDU(0, 0x20, 0, 0x80, kit.sign_password.encode())).ok
    select(issued, SIGN_CERT)
    assert send(issued, "00B0000004").data[:1] == b"\x30"


def test_a_blank_card_has_no_certificate() -> None:
    element = SecureElement.blank(b"x" * 16)
    select(element, AUTH_CERT)
    assert send(element, "00B0000010").sw == 0x6A82


def test_signing_needs_the_matching_pin_in_this_session(issued: SecureElement, kit) -> None:
    sign = CommandAPDU(0x80, 0x2A, 0x00, 0x80, DIGEST_INFO, le=256)
    select(issued, AUTH_KEY)
    assert send(issued, sign).sw == 0x6982
    select(issued, AUTH_PIN)
    assert send(issued, CommandAPDU(0, 0x20, 0, 0x80, kit.auth_pin.encode())).ok
    select(issued, SIGN_KEY)
    assert send(issued, sign).sw == 0x6982  # the auth PIN does not open the sign key
    select(issued, AUTH_KEY)
    assert len(send(issued, sign).data) == 256
    issued.reset()
    assert send(issued, sign).sw == 0x6986  # nothing selected after a reset
    select(issued, AUTH_KEY)
    assert send(issued, sign).sw == 0x6982  # and nothing verified


def test_signing_accepts_only_a_sha256_digest_info(issued: SecureElement, kit) -> None:
    select(issued, AUTH_PIN)
    assert send(issued, CommandAPDU(0, 0x20, 0, 0x80, kit.auth_pin.encode())).ok
    select(issued, AUTH_KEY)
    raw_hash = hashlib.sha256(b"kofu").digest()
    assert send(issued, CommandAPDU(0x80, 0x2A, 0x00, 0x80, raw_hash, le=256)).sw == 0x6A80
    assert send(issued, CommandAPDU(0x80, 0x2A, 0x00, 0x00, DIGEST_INFO, le=256)).sw == 0x6A86


def test_generate_key_pair_answers_through_get_response() -> None:
    secret = b"s" * 32
    element = SecureElement.blank(secret)
    select(element, AUTH_KEY)
    first = issuer_command(element, secret, "00460000", le=256)
    assert (len(first.data), first.sw) == (256, 0x6126)
    rest = send(element, "00C0000026")
    assert (len(rest.data), rest.sw) == (0x26, 0x9000)
    key = serialization.load_der_public_key(first.data + rest.data)
    assert isinstance(key, rsa.RSAPublicKey)
    assert key.key_size == 2048
    assert send(element, "00C0000026").sw == 0x6985  # fetched once only


def test_issuer_commands_need_a_fresh_challenge_and_the_right_mac(
    issued: SecureElement, kit
) -> None:
    select(issued, AUTH_PIN)
    assert issuer_command(issued, b"w" * 32, "002C0380").sw == 0x6982  # wrong secret
    no_challenge = b"\x00" * 32
    assert send(issued, CommandAPDU(0, 0x2C, 0x03, 0x80, no_challenge)).sw == 0x6982
    challenge = send(issued, "0084000008").data
    mac = issuer_mac(kit.issuer_secret, challenge, bytes.fromhex("002C0380"), b"")
    select(issued, AUTH_PIN)  # any command in between spends the challenge
    assert send(issued, CommandAPDU(0, 0x2C, 0x03, 0x80, mac)).sw == 0x6982
    send(issued, "0084000008")
    assert send(issued, CommandAPDU(0, 0x2C, 0x03, 0x80, mac)).sw == 0x6982  # replay
    assert send(issued, CommandAPDU(0, 0x2C, 0x03, 0x80, b"short")).sw == 0x6700


def test_update_binary_bounds(issued: SecureElement, kit) -> None:
    select(issued, AUTH_CERT)
    secret = kit.issuer_secret
    assert issuer_command(issued, secret, "00D67000", b"\x30").sw == 0x6B00  # a hole
    assert issuer_command(issued, secret, "00D60000", b"\x30" * 200).ok
    assert issuer_command(issued, secret, "00D600C8", b"\x00" * 200).ok
    big = bytes(223)
    for offset in range(400, 4096, 223):
        response = issuer_command(issued, secret, f"00D6{offset:04X}", big)
    assert response.sw == 0x6A84  # the EF is full
    assert issuer_command(issued, secret, "00D60000").sw == 0x6700  # nothing to write


def test_no_command_answers_with_a_private_key(issued: SecureElement, kit, private_keys) -> None:
    secrets = [
        key.private_numbers().d.to_bytes(256, "big")[-64:] for key in private_keys(issued)
    ] + [
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )[-64:]
        for key in private_keys(issued)
    ]
    assert len(secrets) == 4
    for kind in ("auth", "sign"):
        JpkiCard(issued).verify_pin(kind, kit.pin(kind))
    for fid in (AUTH_KEY, SIGN_KEY, AUTH_CERT):
        select(issued, fid)
        for cla in (0x00, 0x80, 0x84):
            for ins in range(256):
                answer = issued.transmit(bytes((cla, ins, 0x00, 0x00, 0x00)))
                assert not any(secret in answer for secret in secrets)


def test_private_keys_are_not_attributes(issued: SecureElement) -> None:
    assert not hasattr(issued, "__dict__")
    for holder in (issued, issued._vault):
        for name in dir(holder):
            assert not isinstance(getattr(holder, name), rsa.RSAPrivateKey)
    assert "RSAPrivateKey" not in repr(issued._vault)


def test_a_card_cannot_be_pickled_or_copied(issued: SecureElement) -> None:
    with pytest.raises(TypeError):
        pickle.dumps(issued)
    with pytest.raises(TypeError):
        copy.deepcopy(issued)


def test_card_face_and_record(issued: SecureElement, kit) -> None:
    assert (issued.card_id, issued.state, issued.expires_on) == (
        kit.card_id,
        "active",
        kit.expires_on,
    )
    issued.set_state("suspended")
    issued.set_expires_on(date(2031, 1, 1))
    assert (issued.state, issued.expires_on) == ("suspended", date(2031, 1, 1))
    assert issued.issuer_key_digest == hashlib.sha256(kit.issuer_secret).hexdigest()
    with pytest.raises(InvalidInput, match="card state"):
        issued.set_state("lost")


@pytest.mark.parametrize(
    ("secret", "kwargs"),
    [(b"short", {}), (b"x" * 16, {"card_id": "has space"}), (b"x" * 16, {"state": "new"})],
)
def test_blank_card_arguments_are_checked(secret: bytes, kwargs: dict[str, str]) -> None:
    with pytest.raises(InvalidInput):
        SecureElement.blank(secret, **kwargs)
