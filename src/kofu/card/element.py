"""The My Number card's chip: a secure element that only speaks APDUs.

Everything a terminal may do goes through ``SecureElement.transmit(bytes) ->
bytes``, one command APDU in and one response APDU out, exactly as a PC/SC reader
passes them to a real card.  The element models the JPKI application (AID and
files in ``kofu.card.jpki_ap``) with these commands (ISO/IEC 7816-4 unless noted):

    00 A4 04 0C  SELECT the JPKI AP by AID
    00 A4 02 0C  SELECT an EF of the AP by its 2-byte file id
    00 B0 hh ll  READ BINARY of a certificate EF from offset hhll (Le bytes)
    00 20 00 80  VERIFY the PIN of the selected PIN EF; empty data asks the tries left
    80 2A 00 80  COMPUTE DIGITAL SIGNATURE (JPKI, proprietary class) over a SHA-256
                 DigestInfo with the selected key EF
    00 C0 00 00  GET RESPONSE: the rest of a response longer than Ne (after 61xx)
    00 84 00 00  GET CHALLENGE: 8 random bytes for the next issuer command

Issuance commands, which only the municipality's card desk can send, stand in
for the manufacturer's secure messaging and the 交付前設定 (pre-delivery set-up):
their data ends in a 32-byte HMAC-SHA256, under the issuer secret fixed when the
blank card was made, over challenge ‖ CLA INS P1 P2 ‖ payload, where challenge is
what GET CHALLENGE returned immediately before (single use).  A missing or wrong
MAC answers 6982.

    00 46 00 00  GENERATE ASYMMETRIC KEY PAIR (ISO/IEC 7816-8) for the selected key
                 EF: RSA-2048 made on the card; answers the public key as DER
                 SubjectPublicKeyInfo (294 bytes, so 256 + 61 26 + GET RESPONSE)
    00 24 01 80  CHANGE REFERENCE DATA, new value only: set the selected PIN
    00 D6 hh ll  UPDATE BINARY of a certificate EF, in chunks of up to 223 bytes.
                 The EF holds exactly the bytes written: a write at offset o keeps
                 bytes [0, o) and replaces the rest with the chunk, so writing from
                 offset 0 replaces a certificate and READ BINARY's end of file is the
                 certificate's end.  Extended-length APDUs are not used.
    00 2C 02 80  RESET RETRY COUNTER with a new PIN (ISO P1=02, new reference data)
    00 2C 03 80  RESET RETRY COUNTER keeping the PIN (ISO P1=03, no data but the MAC)

The session — selected AP and EF, which PINs were verified, an outstanding
challenge or response — lasts until ``reset()`` (the card is pulled out and put
back); it is never saved.  Retry counters, PINs, keys and certificates persist: bound to
its file (``kofu.card.device.open_card``) the element writes each change before
it answers, and VERIFY writes the spent try before it compares the PIN.

No command returns a private key.  They live in ``kofu.card._vault`` closures;
``kofu.card.storage`` writes them only encrypted.

The card's ``card_id``, ``state`` and ``expires_on`` are not on the chip's APDU
interface: they model the card face and the municipality's card-management
record, which the city reads and sets with explicit methods.  The element does
not refuse commands by ``state``; a suspended or abolished card's certificates
are revoked by the JPKI authority, which is where relying parties look.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import ClassVar, NoReturn, SupportsIndex

from kofu.card._vault import Vault, new_vault
from kofu.card.apdu import (
    MAX_NE,
    SW_AUTH_METHOD_BLOCKED,
    SW_BYTES_REMAINING,
    SW_CLA_NOT_SUPPORTED,
    SW_COMMAND_NOT_ALLOWED,
    SW_CONDITIONS_NOT_SATISFIED,
    SW_END_OF_FILE,
    SW_FILE_NOT_FOUND,
    SW_INCORRECT_DATA,
    SW_INCORRECT_P1P2,
    SW_INS_NOT_SUPPORTED,
    SW_MEMORY_FAILURE,
    SW_NOT_ENOUGH_MEMORY,
    SW_OK,
    SW_SECURITY_NOT_SATISFIED,
    SW_WRONG_LENGTH,
    SW_WRONG_P1P2_OFFSET,
    CommandAPDU,
    ResponseAPDU,
    sw_tries_left,
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
    EfRole,
    check_issuer_secret,
)
from kofu.core.certkinds import CertKind
from kofu.core.errors import InvalidInput, KofuError

__all__ = ["CARD_STATES", "MAX_CERT_SIZE", "CardImage", "SecureElement"]

CARD_STATES = frozenset({"active", "suspended", "abolished", "expired"})
MAX_CERT_SIZE = 4096  # room in a certificate EF; JPKI certificates are about 1.5–2 KB
CARD_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,63}")

INS_SELECT = 0xA4
INS_READ_BINARY = 0xB0
INS_VERIFY = 0x20
INS_COMPUTE_SIGNATURE = 0x2A
INS_GET_RESPONSE = 0xC0
INS_GET_CHALLENGE = 0x84
INS_GENERATE_KEY_PAIR = 0x46
INS_CHANGE_REFERENCE_DATA = 0x24
INS_UPDATE_BINARY = 0xD6
INS_RESET_RETRY_COUNTER = 0x2C


@dataclass(frozen=True)
class _Ef:
    fid: int
    kind: CertKind
    role: EfRole


_FILES: dict[int, _Ef] = {
    fid: _Ef(fid, kind, role)
    for role, table in ((EfRole.CERT, CERT_EF), (EfRole.PIN, PIN_EF), (EfRole.KEY, KEY_EF))
    for kind, fid in table.items()
}


@dataclass
class _Session:
    """What a card forgets when it loses power."""

    app_selected: bool = False
    current: _Ef | None = None
    verified: set[CertKind] = field(default_factory=set)
    challenge: bytes | None = None  # from GET CHALLENGE, for the next command only
    armed: bytes | None = None  # the challenge the command being processed may use
    pending: bytes = b""  # response bytes waiting for GET RESPONSE


@dataclass(frozen=True)
class CardImage:
    """Everything the card holds except its secrets: what ``storage`` may write in clear."""

    card_id: str
    state: str
    expires_on: date | None
    issuer_digest: str
    certificates: dict[CertKind, bytes]
    tries_left: dict[CertKind, int]
    generation: int = 0
    """How many times this card's state has been written: it only ever rises."""


def _sw(sw: int) -> ResponseAPDU:
    return ResponseAPDU(b"", sw)


def _check_card_id(card_id: str) -> str:
    if not isinstance(card_id, str) or not CARD_ID.fullmatch(card_id):
        raise InvalidInput(
            "a card id is 1–64 letters, digits and hyphens, starting with a letter or digit",
            field="card_id",
        )
    return card_id


def _check_state(state: str) -> str:
    if state not in CARD_STATES:
        raise InvalidInput(
            f"a card state is one of {', '.join(sorted(CARD_STATES))}, not {state!r}",
            field="state",
        )
    return state


def _check_expiry(expires_on: date | None) -> date | None:
    if expires_on is not None and not isinstance(expires_on, date):
        raise InvalidInput("a card expiry is a date", field="expires_on")
    return expires_on


Handler = Callable[["SecureElement", CommandAPDU], ResponseAPDU]


class SecureElement:
    """The card's chip.  Make one with ``blank`` or ``kofu.card.storage.load_card``."""

    __slots__ = (
        "_card_id",
        "_certs",
        "_expires_on",
        "_generation",
        "_persist",
        "_session",
        "_state",
        "_tries",
        "_vault",
    )
    _COMMANDS: ClassVar[dict[int, tuple[int, Handler]]]

    def __init__(self, image: CardImage, vault: Vault) -> None:
        """Assemble a card from its public image and its vault (internal: see ``blank``)."""
        if vault.issuer_digest != image.issuer_digest:
            raise InvalidInput("the card's secrets belong to another issuer key")
        self._card_id = _check_card_id(image.card_id)
        self._state = _check_state(image.state)
        self._expires_on = _check_expiry(image.expires_on)
        self._certs = {kind: bytes(image.certificates.get(kind, b"")) for kind in CertKind}
        self._tries = {kind: PIN_RULES[kind].max_tries for kind in CertKind}
        for kind, tries in image.tries_left.items():
            if not 0 <= tries <= PIN_RULES[kind].max_tries:
                raise InvalidInput(f"the {kind} retry counter is out of range: {tries}")
            self._tries[kind] = tries
        self._vault = vault
        self._session = _Session()
        self._generation = image.generation
        self._persist: Callable[[], None] | None = None

    @classmethod
    def blank(
        cls,
        issuer_secret: bytes,
        *,
        card_id: str | None = None,
        expires_on: date | None = None,
        state: str = "active",
    ) -> SecureElement:
        """A card as it leaves the factory: JPKI AP present, no keys, PINs or certificates.

        ``issuer_secret`` (at least 16 bytes) is the key only the issuing
        municipality holds; issuance commands must carry a MAC under it.
        """
        secret = check_issuer_secret(issuer_secret)
        vault = new_vault(secret)
        image = CardImage(
            card_id=card_id if card_id is not None else secrets.token_hex(8).upper(),
            state=state,
            expires_on=expires_on,
            issuer_digest=vault.issuer_digest,
            certificates={},
            tries_left={},
        )
        return cls(image, vault)

    # -- the card face and the municipality's record (not APDUs) --------------------

    @property
    def card_id(self) -> str:
        return self._card_id

    @property
    def state(self) -> str:
        return self._state

    def set_state(self, state: str) -> None:
        """Record a new card state (active, suspended, abolished, expired), as the city does."""
        self._state = _check_state(state)

    @property
    def expires_on(self) -> date | None:
        return self._expires_on

    def set_expires_on(self, expires_on: date | None) -> None:
        """Record the card's expiry printed on its face (有効期限)."""
        self._expires_on = _check_expiry(expires_on)

    @property
    def issuer_key_digest(self) -> str:
        """SHA-256 (hex) of the issuer secret: which issuer key this card answers to."""
        return self._vault.issuer_digest

    # -- the chip -------------------------------------------------------------------

    def reset(self) -> None:
        """Card pulled out and put back: selection, verified PINs and challenges are gone."""
        self._session = _Session()

    def transmit(self, command: bytes) -> bytes:
        """Process one raw command APDU and return the raw response APDU."""
        try:
            apdu = CommandAPDU.from_bytes(bytes(command))
        except InvalidInput:
            return _sw(SW_WRONG_LENGTH).to_bytes()
        return self._chain(apdu, self._dispatch(apdu)).to_bytes()

    def __repr__(self) -> str:
        return f"SecureElement(card_id={self._card_id!r}, state={self._state!r})"

    def __reduce_ex__(self, protocol: SupportsIndex) -> NoReturn:
        raise TypeError("a SecureElement cannot be pickled or copied; use kofu.card.storage")

    # -- for kofu.card.storage ------------------------------------------------------

    def _image(self) -> CardImage:
        return CardImage(
            card_id=self._card_id,
            state=self._state,
            expires_on=self._expires_on,
            issuer_digest=self._vault.issuer_digest,
            certificates={k: v for k, v in self._certs.items() if v},
            tries_left=dict(self._tries),
            generation=self._generation,
        )

    def _seal(self, key: bytes, aad: bytes) -> tuple[bytes, bytes]:
        return self._vault.seal(key, aad)

    def _written(self, generation: int) -> None:
        """Storage wrote this state as ``generation``."""
        self._generation = generation

    def _bind(self, persist: Callable[[], None] | None) -> None:
        """Have every change of the card's lasting state written through ``persist`` at once.

        Like a chip's non-volatile memory: a command that changes a counter, a
        PIN, a key or a certificate answers only after ``persist`` returned.
        """
        self._persist = persist

    def _commit(self) -> bool:
        """Write the lasting state now; False when it could not be written (answer 6581)."""
        if self._persist is None:
            return True
        try:
            self._persist()
        except (OSError, KofuError):
            return False
        return True

    # -- dispatch -------------------------------------------------------------------

    def _dispatch(self, apdu: CommandAPDU) -> ResponseAPDU:
        session = self._session
        session.armed, session.challenge = session.challenge, None
        if apdu.ins != INS_GET_RESPONSE:
            session.pending = b""
        entry = self._COMMANDS.get(apdu.ins)
        if entry is None:
            return _sw(SW_INS_NOT_SUPPORTED)
        cla, handler = entry
        if apdu.cla != cla:
            return _sw(SW_CLA_NOT_SUPPORTED)
        return handler(self, apdu)

    def _chain(self, apdu: CommandAPDU, response: ResponseAPDU) -> ResponseAPDU:
        """Cut a response longer than Ne (256 when Le is absent); 61xx says more waits."""
        limit = apdu.le or MAX_NE
        if len(response.data) <= limit:
            return response
        self._session.pending = rest = response.data[limit:]
        remaining = min(len(rest), MAX_NE) % MAX_NE  # 00 stands for 256 or more
        return ResponseAPDU(response.data[:limit], SW_BYTES_REMAINING | remaining)

    def _current(self, role: EfRole) -> _Ef | None:
        current = self._session.current
        return current if current is not None and current.role is role else None

    def _authenticate(self, apdu: CommandAPDU) -> bytes | ResponseAPDU:
        """The payload of an issuer command whose MAC is right, else the error to answer."""
        if len(apdu.data) < MAC_SIZE:
            return _sw(SW_WRONG_LENGTH)
        payload, mac = apdu.data[:-MAC_SIZE], apdu.data[-MAC_SIZE:]
        challenge = self._session.armed
        if challenge is None or not self._vault.mac_valid(challenge + apdu.header + payload, mac):
            return _sw(SW_SECURITY_NOT_SATISFIED)
        return payload

    # -- terminal commands ----------------------------------------------------------

    def _select(self, apdu: CommandAPDU) -> ResponseAPDU:
        if (apdu.p1, apdu.p2) == (0x04, 0x0C):
            if apdu.data != JPKI_AID:
                return _sw(SW_FILE_NOT_FOUND)
            self._session.app_selected, self._session.current = True, None
            return _sw(SW_OK)
        if (apdu.p1, apdu.p2) != (0x02, 0x0C):
            return _sw(SW_INCORRECT_P1P2)
        if len(apdu.data) != 2:
            return _sw(SW_WRONG_LENGTH)
        ef = _FILES.get(int.from_bytes(apdu.data, "big"))
        if ef is None or not self._session.app_selected:
            return _sw(SW_FILE_NOT_FOUND)
        self._session.current = ef
        return _sw(SW_OK)

    def _read_binary(self, apdu: CommandAPDU) -> ResponseAPDU:
        if apdu.p1 & 0x80:  # short EF identifier addressing: not modelled
            return _sw(SW_INCORRECT_P1P2)
        ef = self._current(EfRole.CERT)
        if ef is None:
            return _sw(SW_COMMAND_NOT_ALLOWED)
        if ef.kind is CertKind.SIGN and CertKind.SIGN not in self._session.verified:
            return _sw(SW_SECURITY_NOT_SATISFIED)  # as on the real card
        content = self._certs[ef.kind]
        if not content:
            return _sw(SW_FILE_NOT_FOUND)  # nothing written yet: a blank card
        if apdu.le is None:
            return _sw(SW_WRONG_LENGTH)
        offset = apdu.p1 << 8 | apdu.p2
        if offset >= len(content):
            return _sw(SW_WRONG_P1P2_OFFSET)
        chunk = content[offset : offset + apdu.le]
        return ResponseAPDU(chunk, SW_OK if len(chunk) == apdu.le else SW_END_OF_FILE)

    def _verify(self, apdu: CommandAPDU) -> ResponseAPDU:
        if (apdu.p1, apdu.p2) != (0x00, 0x80):
            return _sw(SW_INCORRECT_P1P2)
        ef = self._current(EfRole.PIN)
        if ef is None:
            return _sw(SW_COMMAND_NOT_ALLOWED)
        kind, tries = ef.kind, self._tries[ef.kind]
        if not self._vault.has_pin(kind):
            return _sw(SW_CONDITIONS_NOT_SATISFIED)
        if tries == 0:
            return _sw(SW_AUTH_METHOD_BLOCKED)
        if not apdu.data:  # a question, not a try
            return _sw(sw_tries_left(tries))
        # The try is counted and written before the PIN is compared, as a chip does:
        # pulling the card (or killing the reader) mid-check cannot save the try.
        self._tries[kind] = tries - 1
        self._session.verified.discard(kind)
        if not self._commit():
            self._tries[kind] = tries
            return _sw(SW_MEMORY_FAILURE)
        if not self._vault.pin_matches(kind, apdu.data):
            return _sw(sw_tries_left(tries - 1))
        self._tries[kind] = PIN_RULES[kind].max_tries
        self._session.verified.add(kind)
        self._commit()  # if this write fails, the file keeps one try fewer: the safe side
        return _sw(SW_OK)

    def _compute_signature(self, apdu: CommandAPDU) -> ResponseAPDU:
        if (apdu.p1, apdu.p2) != (0x00, 0x80):
            return _sw(SW_INCORRECT_P1P2)
        ef = self._current(EfRole.KEY)
        if ef is None:
            return _sw(SW_COMMAND_NOT_ALLOWED)
        if ef.kind not in self._session.verified:
            return _sw(SW_SECURITY_NOT_SATISFIED)
        prefix = SHA256_DIGEST_INFO_PREFIX
        if len(apdu.data) != len(prefix) + 32 or not apdu.data.startswith(prefix):
            return _sw(SW_INCORRECT_DATA)
        if not self._vault.has_key(ef.kind):
            return _sw(SW_CONDITIONS_NOT_SATISFIED)
        return ResponseAPDU(self._vault.sign_digest(ef.kind, apdu.data[len(prefix) :]), SW_OK)

    def _get_response(self, apdu: CommandAPDU) -> ResponseAPDU:
        if (apdu.p1, apdu.p2) != (0x00, 0x00):
            return _sw(SW_INCORRECT_P1P2)
        pending, self._session.pending = self._session.pending, b""
        if not pending:
            return _sw(SW_CONDITIONS_NOT_SATISFIED)
        return ResponseAPDU(pending, SW_OK)

    def _get_challenge(self, apdu: CommandAPDU) -> ResponseAPDU:
        if (apdu.p1, apdu.p2) != (0x00, 0x00):
            return _sw(SW_INCORRECT_P1P2)
        if apdu.le != CHALLENGE_SIZE or apdu.data:
            return _sw(SW_WRONG_LENGTH)
        self._session.challenge = os.urandom(CHALLENGE_SIZE)
        return ResponseAPDU(self._session.challenge, SW_OK)

    # -- issuance commands (MAC under the issuer secret) ----------------------------

    def _generate_key_pair(self, apdu: CommandAPDU) -> ResponseAPDU:
        if (apdu.p1, apdu.p2) != (0x00, 0x00):
            return _sw(SW_INCORRECT_P1P2)
        ef = self._current(EfRole.KEY)
        if ef is None:
            return _sw(SW_COMMAND_NOT_ALLOWED)
        payload = self._authenticate(apdu)
        if isinstance(payload, ResponseAPDU):
            return payload
        if payload:
            return _sw(SW_INCORRECT_DATA)
        public_key = self._vault.generate_key(ef.kind)
        return ResponseAPDU(public_key, SW_OK) if self._commit() else _sw(SW_MEMORY_FAILURE)

    def _change_reference_data(self, apdu: CommandAPDU) -> ResponseAPDU:
        if (apdu.p1, apdu.p2) != (0x01, 0x80):
            return _sw(SW_INCORRECT_P1P2)
        ef = self._current(EfRole.PIN)
        if ef is None:
            return _sw(SW_COMMAND_NOT_ALLOWED)
        payload = self._authenticate(apdu)
        if isinstance(payload, ResponseAPDU):
            return payload
        return self._install_pin(ef.kind, payload)

    def _update_binary(self, apdu: CommandAPDU) -> ResponseAPDU:
        if apdu.p1 & 0x80:
            return _sw(SW_INCORRECT_P1P2)
        ef = self._current(EfRole.CERT)
        if ef is None:
            return _sw(SW_COMMAND_NOT_ALLOWED)
        payload = self._authenticate(apdu)
        if isinstance(payload, ResponseAPDU):
            return payload
        if not payload:
            return _sw(SW_WRONG_LENGTH)
        offset, content = apdu.p1 << 8 | apdu.p2, self._certs[ef.kind]
        if offset > len(content):
            return _sw(SW_WRONG_P1P2_OFFSET)
        if offset + len(payload) > MAX_CERT_SIZE:
            return _sw(SW_NOT_ENOUGH_MEMORY)
        self._certs[ef.kind] = content[:offset] + payload
        return _sw(SW_OK) if self._commit() else _sw(SW_MEMORY_FAILURE)

    def _reset_retry_counter(self, apdu: CommandAPDU) -> ResponseAPDU:
        if apdu.p1 not in (0x02, 0x03) or apdu.p2 != 0x80:
            return _sw(SW_INCORRECT_P1P2)
        ef = self._current(EfRole.PIN)
        if ef is None:
            return _sw(SW_COMMAND_NOT_ALLOWED)
        payload = self._authenticate(apdu)
        if isinstance(payload, ResponseAPDU):
            return payload
        if apdu.p1 == 0x02:
            return self._install_pin(ef.kind, payload)
        if payload:
            return _sw(SW_INCORRECT_DATA)
        if not self._vault.has_pin(ef.kind):
            return _sw(SW_CONDITIONS_NOT_SATISFIED)
        self._tries[ef.kind] = PIN_RULES[ef.kind].max_tries
        self._session.verified.discard(ef.kind)
        return _sw(SW_OK) if self._commit() else _sw(SW_MEMORY_FAILURE)

    def _install_pin(self, kind: CertKind, value: bytes) -> ResponseAPDU:
        """Set a PIN whose format the card checks itself; the counter starts full."""
        rule = PIN_RULES[kind]
        try:
            valid = rule.is_valid(value.decode("ascii"))
        except UnicodeDecodeError:
            valid = False
        if not valid:
            return _sw(SW_INCORRECT_DATA)
        self._vault.set_pin(kind, value)
        self._tries[kind] = rule.max_tries
        self._session.verified.discard(kind)
        return _sw(SW_OK) if self._commit() else _sw(SW_MEMORY_FAILURE)

    _COMMANDS = {  # noqa: RUF012 - a ClassVar declared above
        INS_SELECT: (0x00, _select),
        INS_READ_BINARY: (0x00, _read_binary),
        INS_VERIFY: (0x00, _verify),
        INS_COMPUTE_SIGNATURE: (0x80, _compute_signature),
        INS_GET_RESPONSE: (0x00, _get_response),
        INS_GET_CHALLENGE: (0x00, _get_challenge),
        INS_GENERATE_KEY_PAIR: (0x00, _generate_key_pair),
        INS_CHANGE_REFERENCE_DATA: (0x00, _change_reference_data),
        INS_UPDATE_BINARY: (0x00, _update_binary),
        INS_RESET_RETRY_COUNTER: (0x00, _reset_retry_counter),
    }
