"""The host side: a card reader protocol and a JPKI client that speaks APDUs through it.

``CardReader`` is all the client needs from a reader — ``transmit`` one raw APDU
and ``reset`` the card — so the same ``JpkiCard`` drives the in-process model
(a ``SecureElement`` is itself a ``CardReader``: the card sits in a virtual
reader) or, later, a PC/SC reader holding a real My Number card.

``JpkiCard`` turns the status words of ISO/IEC 7816-4 into kofu's errors:

    63Cx (x > 0)         PinError, reason "wrong_pin", with x tries left
    63C0 / 6983          PinError, reason "pin_locked": only the city can reset it
    6982 on a PIN'd op   Refused "pin_not_verified"
    6982 on issuance     Refused "issuer_auth_failed"
    6A82 reading a cert  NotFound (nothing written yet)
    6581                 Conflict: the card could not write its state, so it did nothing
    anything unexpected  CardError carrying the status word

PINs are checked on the host before they are sent, so a mistyped format never
costs one of the card's tries.
"""

from __future__ import annotations

import hashlib
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

from kofu.card.apdu import (
    MAX_LC,
    MAX_NE,
    SW_AUTH_METHOD_BLOCKED,
    SW_CONDITIONS_NOT_SATISFIED,
    SW_END_OF_FILE,
    SW_FILE_NOT_FOUND,
    SW_INCORRECT_DATA,
    SW_MEMORY_FAILURE,
    SW_NOT_ENOUGH_MEMORY,
    SW_SECURITY_NOT_SATISFIED,
    SW_WRONG_P1P2_OFFSET,
    CommandAPDU,
    ResponseAPDU,
    bytes_remaining,
)
from kofu.card.jpki_ap import (
    CERT_EF,
    CHALLENGE_SIZE,
    JPKI_AID,
    KEY_EF,
    MAC_SIZE,
    PIN_EF,
    PIN_RULES,
    SHA256_DIGEST_INFO_PREFIX,
    check_issuer_secret,
    issuer_mac,
)
from kofu.core.certkinds import CertKind
from kofu.core.errors import Conflict, InvalidInput, KofuError, NotFound, Refused

__all__ = ["CardError", "CardReader", "JpkiCard", "PinError"]

WRITE_CHUNK = MAX_LC - MAC_SIZE  # 223 certificate bytes per UPDATE BINARY
MAX_OFFSET = 0x7FFF  # READ/UPDATE BINARY offsets are 15 bits (P1 bit 8 must be 0)


class CardReader(Protocol):
    """A slot holding a card: one APDU at a time, and a way to power-cycle the card."""

    def transmit(self, command: bytes) -> bytes: ...

    def reset(self) -> None: ...


class CardError(KofuError):
    """The card answered a status word the client has no better name for."""

    def __init__(self, operation: str, sw: int) -> None:
        super().__init__(f"the card answered {sw:04X} to {operation}")
        self.sw = sw


class PinError(Refused):
    """A PIN was wrong (``wrong_pin``) or is locked (``pin_locked``)."""

    def __init__(self, kind: CertKind, tries_left: int) -> None:
        rule = PIN_RULES[kind]
        if tries_left > 0:
            times = "try" if tries_left == 1 else "tries"
            super().__init__(
                "wrong_pin",
                f"the {rule.name} is wrong; {tries_left} {times} left before the card locks it",
                message_ja=f"{rule.name_ja}が違います。あと{tries_left}回間違えるとロックされます。",
            )
        else:
            super().__init__(
                "pin_locked",
                f"the {rule.name} is locked after too many wrong tries; "
                "the card must be reset at the city counter",
                message_ja=f"{rule.name_ja}は誤入力が続いたためロックされています。"
                "お住まいの市区町村の窓口で初期化（再設定）の手続きをしてください。",
            )
        self.kind = kind
        self.tries_left = tries_left


def _not_written() -> Conflict:
    return Conflict(
        "the card could not record its state (its file or the installation's card ledger "
        "cannot be written), so it did not carry out the command"
    )


def _kind(kind: CertKind | str) -> CertKind:
    try:
        return CertKind(kind)
    except ValueError:
        raise InvalidInput("a certificate kind is 'sign' or 'auth'", field="kind") from None


def _not_verified(kind: CertKind) -> Refused:
    rule = PIN_RULES[kind]
    return Refused(
        "pin_not_verified",
        f"the {rule.name} must be verified first",
        message_ja=f"先に{rule.name_ja}を入力してください。",
    )


def _der_length(head: bytes) -> int | None:
    """Total length of the DER element ``head`` starts, if its header is complete."""
    if len(head) < 2:
        return None
    first = head[1]
    if first < 0x80:
        return 2 + first
    size = first & 0x7F
    if size == 0 or len(head) < 2 + size:
        return None
    return 2 + size + int.from_bytes(head[2 : 2 + size], "big")


class JpkiCard:
    """The JPKI application of a My Number card, driven through any ``CardReader``."""

    def __init__(self, reader: CardReader) -> None:
        self._reader = reader

    @property
    def reader(self) -> CardReader:
        return self._reader

    def select_jpki(self) -> None:
        """SELECT the JPKI AP; NotFound when the card has none."""
        response = self._send(CommandAPDU(0x00, 0xA4, 0x04, 0x0C, JPKI_AID))
        if response.sw == SW_FILE_NOT_FOUND:
            raise NotFound("this card has no JPKI application")
        self._expect_ok(response, "SELECT JPKI AP")

    def read_certificate(self, kind: CertKind | str) -> bytes:
        """The DER certificate; the signature one needs the password verified first."""
        kind = _kind(kind)
        self._select_ef(CERT_EF[kind])
        content = b""
        while len(content) <= MAX_OFFSET:
            offset = len(content)
            response = self._send(CommandAPDU(0x00, 0xB0, offset >> 8, offset & 0xFF, le=MAX_NE))
            if response.sw == SW_WRONG_P1P2_OFFSET and offset:
                break  # the file ended exactly on a chunk boundary
            if response.sw == SW_SECURITY_NOT_SATISFIED:
                raise _not_verified(kind)
            if response.sw == SW_FILE_NOT_FOUND:
                raise NotFound(f"the card holds no {kind.value} certificate yet")
            if response.sw != SW_END_OF_FILE and not response.ok:
                raise CardError("READ BINARY", response.sw)
            content += response.data
            if response.sw == SW_END_OF_FILE or not response.data:
                break
        total = _der_length(content[:6])
        return content[:total] if total is not None else content

    def verify_pin(self, kind: CertKind | str, pin: str) -> int:
        """VERIFY the PIN; returns the tries left (full again) or raises PinError."""
        kind = _kind(kind)
        value = PIN_RULES[kind].check(pin)
        self._select_ef(PIN_EF[kind])
        response = self._send(CommandAPDU(0x00, 0x20, 0x00, 0x80, value))
        if response.ok:
            return PIN_RULES[kind].max_tries
        raise self._pin_failure(kind, response, "VERIFY")

    def tries_left(self, kind: CertKind | str) -> int:
        """How many tries the PIN has left, asked without spending one (0 when locked)."""
        kind = _kind(kind)
        self._select_ef(PIN_EF[kind])
        response = self._send(CommandAPDU(0x00, 0x20, 0x00, 0x80))
        if response.tries_left is not None:
            return response.tries_left
        if response.sw == SW_AUTH_METHOD_BLOCKED:
            return 0
        raise self._pin_failure(kind, response, "VERIFY")

    def sign(self, kind: CertKind | str, message: bytes) -> bytes:
        """RSASSA-PKCS1-v1_5 with SHA-256 over ``message``; the hash is made on the host."""
        kind = _kind(kind)
        digest_info = SHA256_DIGEST_INFO_PREFIX + hashlib.sha256(message).digest()
        self._select_ef(KEY_EF[kind])
        response = self._send(CommandAPDU(0x80, 0x2A, 0x00, 0x80, digest_info, le=MAX_NE))
        if response.sw == SW_SECURITY_NOT_SATISFIED:
            raise _not_verified(kind)
        if response.sw == SW_CONDITIONS_NOT_SATISFIED:
            raise Conflict(f"the card has no {kind.value} key yet")
        self._expect_ok(response, "COMPUTE DIGITAL SIGNATURE")
        return response.data

    # -- issuance, at the municipality's card desk ---------------------------------

    def generate_key(self, kind: CertKind | str, issuer_secret: bytes) -> rsa.RSAPublicKey:
        """Have the card make a new RSA-2048 key pair; returns its public key."""
        kind = _kind(kind)
        self._select_ef(KEY_EF[kind])
        response = self._issuer(0x46, 0x00, 0x00, b"", issuer_secret, le=MAX_NE)
        key = load_der_public_key(response.data)
        if not isinstance(key, rsa.RSAPublicKey):
            raise CardError("GENERATE KEY PAIR (not an RSA key)", response.sw)
        return key

    def set_pin(self, kind: CertKind | str, value: str, issuer_secret: bytes) -> None:
        """Set the PIN (交付前設定 or a change at the desk); its counter starts full."""
        kind = _kind(kind)
        raw = PIN_RULES[kind].check(value)
        self._select_ef(PIN_EF[kind])
        self._issuer(0x24, 0x01, 0x80, raw, issuer_secret)

    def write_certificate(self, kind: CertKind | str, der: bytes, issuer_secret: bytes) -> None:
        """Write a DER certificate into its EF, 223 bytes per UPDATE BINARY."""
        kind = _kind(kind)
        try:
            x509.load_der_x509_certificate(der)
        except (TypeError, ValueError):
            raise InvalidInput("not a DER X.509 certificate", field="certificate") from None
        if len(der) > MAX_OFFSET:
            raise InvalidInput("the certificate is too large for the card", field="certificate")
        self._select_ef(CERT_EF[kind])
        for offset in range(0, len(der), WRITE_CHUNK):
            chunk = der[offset : offset + WRITE_CHUNK]
            self._issuer(0xD6, offset >> 8, offset & 0xFF, chunk, issuer_secret)

    def reset_pin(self, kind: CertKind | str, new_value: str, issuer_secret: bytes) -> None:
        """RESET RETRY COUNTER with a new PIN: how the city unlocks a forgotten PIN."""
        kind = _kind(kind)
        raw = PIN_RULES[kind].check(new_value)
        self._select_ef(PIN_EF[kind])
        self._issuer(0x2C, 0x02, 0x80, raw, issuer_secret)

    def unlock_pin(self, kind: CertKind | str, issuer_secret: bytes) -> None:
        """RESET RETRY COUNTER keeping the PIN: for a holder who remembers it after all."""
        kind = _kind(kind)
        self._select_ef(PIN_EF[kind])
        self._issuer(0x2C, 0x03, 0x80, b"", issuer_secret)

    # -- plumbing -------------------------------------------------------------------

    def _send(self, command: CommandAPDU) -> ResponseAPDU:
        """Transmit, then follow 61xx with GET RESPONSE until the whole answer is in."""
        response = ResponseAPDU.from_bytes(self._reader.transmit(command.to_bytes()))
        data = response.data
        while (more := bytes_remaining(response.sw)) is not None:
            get = CommandAPDU(0x00, 0xC0, 0x00, 0x00, le=more)
            response = ResponseAPDU.from_bytes(self._reader.transmit(get.to_bytes()))
            data += response.data
        return ResponseAPDU(data, response.sw)

    def _select_ef(self, fid: int) -> None:
        self.select_jpki()
        response = self._send(CommandAPDU(0x00, 0xA4, 0x02, 0x0C, fid.to_bytes(2, "big")))
        self._expect_ok(response, f"SELECT EF {fid:04X}")

    def _issuer(
        self, ins: int, p1: int, p2: int, payload: bytes, secret: bytes, *, le: int | None = None
    ) -> ResponseAPDU:
        """Send an issuance command: GET CHALLENGE, then the command with its MAC."""
        secret = check_issuer_secret(secret)
        challenge = self._send(CommandAPDU(0x00, 0x84, 0x00, 0x00, le=CHALLENGE_SIZE))
        self._expect_ok(challenge, "GET CHALLENGE")
        header = bytes((0x00, ins, p1, p2))
        mac = issuer_mac(secret, challenge.data, header, payload)
        response = self._send(CommandAPDU(0x00, ins, p1, p2, payload + mac, le))
        if response.sw == SW_SECURITY_NOT_SATISFIED:
            raise Refused(
                "issuer_auth_failed",
                "the card refused the issuer key",
                message_ja="カードが発行者の鍵を受け付けませんでした。",
            )
        if response.sw == SW_INCORRECT_DATA:
            raise InvalidInput(f"the card refused the data of command {ins:02X}")
        if response.sw == SW_NOT_ENOUGH_MEMORY:
            raise InvalidInput("the certificate does not fit the card's file")
        if response.sw == SW_CONDITIONS_NOT_SATISFIED:
            raise Conflict("the card has no PIN to unlock yet")
        if response.sw == SW_MEMORY_FAILURE:
            raise _not_written()
        self._expect_ok(response, f"command {ins:02X}")
        return response

    @staticmethod
    def _pin_failure(kind: CertKind, response: ResponseAPDU, operation: str) -> KofuError:
        if response.tries_left is not None:
            return PinError(kind, response.tries_left)
        if response.sw == SW_AUTH_METHOD_BLOCKED:
            return PinError(kind, 0)
        if response.sw == SW_CONDITIONS_NOT_SATISFIED:
            return Conflict(f"the card's {PIN_RULES[kind].name} has not been set yet")
        if response.sw == SW_MEMORY_FAILURE:
            return _not_written()
        return CardError(operation, response.sw)

    @staticmethod
    def _expect_ok(response: ResponseAPDU, operation: str) -> None:
        if not response.ok:
            raise CardError(operation, response.sw)
