"""Command and response APDUs as ISO/IEC 7816-4 frames them (short length fields only).

A command APDU is a four-byte header (CLA INS P1 P2) followed by one of four
bodies (ISO/IEC 7816-4:2013 §5.1):

    case 1   header                               no data, no response data
    case 2S  header Le                            response data expected
    case 3S  header Lc data                       command data, no response data
    case 4S  header Lc data Le                    both

Lc is 1..255; Le encodes Ne, the maximum number of response bytes, 1..256, with
the byte ``00`` standing for 256.  Extended lengths (a ``00`` byte followed by two
length bytes) are not supported: every command the JPKI application needs fits in
a short APDU, and a certificate longer than one APDU is written in chunks (see
``kofu.card.element``).

A response APDU is the response data followed by the two status bytes SW1 SW2.
The named status words below are the ones the card model answers with; their
meaning is ISO/IEC 7816-4 §5.6, Tables 5 and 6.
"""

from __future__ import annotations

from dataclasses import dataclass

from kofu.core.errors import InvalidInput

__all__ = [
    "SW_AUTH_METHOD_BLOCKED",
    "SW_BYTES_REMAINING",
    "SW_CLA_NOT_SUPPORTED",
    "SW_COMMAND_NOT_ALLOWED",
    "SW_CONDITIONS_NOT_SATISFIED",
    "SW_END_OF_FILE",
    "SW_FILE_NOT_FOUND",
    "SW_INCORRECT_DATA",
    "SW_INCORRECT_P1P2",
    "SW_INS_NOT_SUPPORTED",
    "SW_MEMORY_FAILURE",
    "SW_NOT_ENOUGH_MEMORY",
    "SW_OK",
    "SW_SECURITY_NOT_SATISFIED",
    "SW_TRIES_LEFT",
    "SW_WRONG_LENGTH",
    "SW_WRONG_P1P2_OFFSET",
    "CommandAPDU",
    "ResponseAPDU",
    "bytes_remaining",
    "sw_tries_left",
    "tries_left_of",
]

SW_OK = 0x9000  # normal processing
SW_BYTES_REMAINING = 0x6100  # 61xx: xx more response bytes wait for GET RESPONSE (00 = 256+)
SW_END_OF_FILE = 0x6282  # warning: end of file reached before reading Ne bytes
SW_TRIES_LEFT = 0x63C0  # 63Cx: verification failed, x tries left
SW_MEMORY_FAILURE = 0x6581  # memory failure: the card could not write its state
SW_WRONG_LENGTH = 0x6700  # wrong length (Lc, Le or the APDU itself)
SW_SECURITY_NOT_SATISFIED = 0x6982  # security status not satisfied (PIN or issuer MAC)
SW_AUTH_METHOD_BLOCKED = 0x6983  # authentication method blocked (PIN locked)
SW_CONDITIONS_NOT_SATISFIED = 0x6985  # conditions of use not satisfied
SW_COMMAND_NOT_ALLOWED = 0x6986  # command not allowed (no suitable current EF)
SW_INCORRECT_DATA = 0x6A80  # incorrect parameters in the command data field
SW_FILE_NOT_FOUND = 0x6A82  # file or application not found
SW_NOT_ENOUGH_MEMORY = 0x6A84  # not enough memory space in the file
SW_INCORRECT_P1P2 = 0x6A86  # incorrect parameters P1-P2
SW_WRONG_P1P2_OFFSET = 0x6B00  # wrong parameters P1-P2 (offset outside the EF)
SW_INS_NOT_SUPPORTED = 0x6D00  # instruction code not supported
SW_CLA_NOT_SUPPORTED = 0x6E00  # class not supported

MAX_LC = 255
MAX_NE = 256


def sw_tries_left(tries: int) -> int:
    """The status word 63Cx for ``tries`` (0..15) verification tries left."""
    if not 0 <= tries <= 0x0F:
        raise InvalidInput(f"a 63Cx status word counts 0..15 tries, not {tries}")
    return SW_TRIES_LEFT | tries


def tries_left_of(sw: int) -> int | None:
    """The x of a 63Cx status word, or None for any other status word."""
    return sw & 0x0F if sw & 0xFFF0 == SW_TRIES_LEFT else None


def bytes_remaining(sw: int) -> int | None:
    """For 61xx, how many bytes GET RESPONSE may fetch next (xx = 00 means 256); else None."""
    if sw & 0xFF00 != SW_BYTES_REMAINING:
        return None
    return sw & 0xFF or MAX_NE


def _check_byte(name: str, value: int) -> None:
    if not 0 <= value <= 0xFF:
        raise InvalidInput(f"APDU {name} must be a byte (0..255), not {value}", field=name)


@dataclass(frozen=True, slots=True)
class CommandAPDU:
    """A command APDU; ``le`` is Ne (1..256) or None when no response data is expected."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            _check_byte(name, getattr(self, name))
        if len(self.data) > MAX_LC:
            raise InvalidInput(
                f"a short APDU carries at most {MAX_LC} data bytes, not {len(self.data)}",
                field="data",
            )
        if self.le is not None and not 1 <= self.le <= MAX_NE:
            raise InvalidInput(f"Le must be 1..{MAX_NE} in a short APDU, not {self.le}", field="le")

    @property
    def header(self) -> bytes:
        """CLA INS P1 P2: what the issuer MAC covers together with the data."""
        return bytes((self.cla, self.ins, self.p1, self.p2))

    def to_bytes(self) -> bytes:
        """The APDU on the wire (cases 1, 2S, 3S or 4S)."""
        body = bytes((len(self.data),)) + self.data if self.data else b""
        trailer = bytes((self.le % MAX_NE,)) if self.le is not None else b""
        return self.header + body + trailer

    @classmethod
    def from_bytes(cls, raw: bytes) -> CommandAPDU:
        """Parse a short APDU; malformed or extended-length frames raise InvalidInput."""
        raw = bytes(raw)
        if len(raw) < 4:
            raise InvalidInput(f"an APDU has at least a 4-byte header, got {len(raw)} bytes")
        cla, ins, p1, p2 = raw[:4]
        if len(raw) == 4:
            return cls(cla, ins, p1, p2)
        if len(raw) == 5:
            return cls(cla, ins, p1, p2, le=raw[4] or MAX_NE)
        lc, body = raw[4], raw[5:]
        if lc == 0:
            raise InvalidInput("extended-length APDUs are not supported")
        if len(body) == lc:
            return cls(cla, ins, p1, p2, body)
        if len(body) == lc + 1:
            return cls(cla, ins, p1, p2, body[:lc], le=body[lc] or MAX_NE)
        raise InvalidInput(f"Lc says {lc} data bytes but {len(body)} bytes follow it")


@dataclass(frozen=True, slots=True)
class ResponseAPDU:
    """Response data and the status word SW1 SW2."""

    data: bytes
    sw: int

    def __post_init__(self) -> None:
        if not 0 <= self.sw <= 0xFFFF:
            raise InvalidInput(f"a status word is two bytes, not {self.sw:#x}", field="sw")

    @property
    def ok(self) -> bool:
        """True for 9000, normal processing."""
        return self.sw == SW_OK

    @property
    def tries_left(self) -> int | None:
        """For 63Cx, the tries left; else None."""
        return tries_left_of(self.sw)

    def to_bytes(self) -> bytes:
        return self.data + self.sw.to_bytes(2, "big")

    @classmethod
    def from_bytes(cls, raw: bytes) -> ResponseAPDU:
        raw = bytes(raw)
        if len(raw) < 2:
            raise InvalidInput(f"a response APDU ends in two status bytes, got {len(raw)} bytes")
        return cls(raw[:-2], int.from_bytes(raw[-2:], "big"))

    def __repr__(self) -> str:
        return f"ResponseAPDU(data=<{len(self.data)} bytes>, sw={self.sw:04X})"
