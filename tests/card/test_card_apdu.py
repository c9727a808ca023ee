"""ISO/IEC 7816-4 short APDUs: the four command cases, Le = 256 as 00, responses."""

from __future__ import annotations

import pytest

from kofu.card.apdu import (
    SW_AUTH_METHOD_BLOCKED,
    SW_CONDITIONS_NOT_SATISFIED,
    SW_FILE_NOT_FOUND,
    SW_INCORRECT_DATA,
    SW_INCORRECT_P1P2,
    SW_INS_NOT_SUPPORTED,
    SW_OK,
    SW_SECURITY_NOT_SATISFIED,
    SW_WRONG_LENGTH,
    CommandAPDU,
    ResponseAPDU,
    bytes_remaining,
    sw_tries_left,
    tries_left_of,
)
from kofu.core.errors import InvalidInput


@pytest.mark.parametrize(
    ("apdu", "wire"),
    [
        (CommandAPDU(0x00, 0xA4, 0x04, 0x0C), "00A4040C"),  # case 1
        (CommandAPDU(0x00, 0xB0, 0x00, 0x10, le=16), "00B0001010"),  # case 2S
        (CommandAPDU(0x00, 0xB0, 0x00, 0x00, le=256), "00B0000000"),  # Le 256 is 00
        (CommandAPDU(0x00, 0xA4, 0x02, 0x0C, b"\x00\x0a"), "00A4020C02000A"),  # case 3S
        (CommandAPDU(0x80, 0x2A, 0x00, 0x80, b"\x01\x02", le=256), "802A008002010200"),  # 4S
    ],
)
def test_command_round_trip(apdu: CommandAPDU, wire: str) -> None:
    assert apdu.to_bytes() == bytes.fromhex(wire)
    assert CommandAPDU.from_bytes(bytes.fromhex(wire)) == apdu


def test_command_with_255_data_bytes_round_trips() -> None:
    apdu = CommandAPDU(0x00, 0xD6, 0x01, 0x00, bytes(range(255)), le=1)
    assert CommandAPDU.from_bytes(apdu.to_bytes()) == apdu
    assert apdu.header == bytes.fromhex("00D60100")


@pytest.mark.parametrize(
    "wire",
    [
        "",
        "00A404",  # shorter than a header
        "00A4040C0501",  # Lc 5, one byte follows
        "00A4040C01010203",  # Lc 1, three bytes follow
        "00B00000000100",  # extended length
    ],
)
def test_malformed_commands_are_refused(wire: str) -> None:
    with pytest.raises(InvalidInput):
        CommandAPDU.from_bytes(bytes.fromhex(wire))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"cla": 256},
        {"ins": -1},
        {"data": bytes(256)},
        {"le": 0},
        {"le": 257},
    ],
)
def test_command_fields_are_checked(kwargs: dict[str, object]) -> None:
    fields: dict[str, object] = {"cla": 0, "ins": 0xA4, "p1": 0, "p2": 0} | kwargs
    with pytest.raises(InvalidInput):
        CommandAPDU(**fields)  # type: ignore[arg-type]


def test_response_round_trip_and_ok() -> None:
    ok = ResponseAPDU(b"\x01\x02", SW_OK)
    assert ok.to_bytes() == bytes.fromhex("01029000")
    assert ResponseAPDU.from_bytes(ok.to_bytes()) == ok
    assert ok.ok
    refused = ResponseAPDU.from_bytes(bytes.fromhex("6982"))
    assert refused == ResponseAPDU(b"", SW_SECURITY_NOT_SATISFIED)
    assert not refused.ok


def test_response_needs_two_status_bytes() -> None:
    with pytest.raises(InvalidInput):
        ResponseAPDU.from_bytes(b"\x90")


def test_status_word_values() -> None:
    assert (SW_OK, SW_AUTH_METHOD_BLOCKED, SW_SECURITY_NOT_SATISFIED) == (0x9000, 0x6983, 0x6982)
    assert (SW_FILE_NOT_FOUND, SW_INCORRECT_P1P2, SW_WRONG_LENGTH) == (0x6A82, 0x6A86, 0x6700)
    assert (SW_INS_NOT_SUPPORTED, SW_CONDITIONS_NOT_SATISFIED) == (0x6D00, 0x6985)
    assert SW_INCORRECT_DATA == 0x6A80


def test_tries_left_status_words() -> None:
    assert sw_tries_left(2) == 0x63C2
    assert tries_left_of(0x63C2) == 2
    assert tries_left_of(0x63C0) == 0
    assert tries_left_of(0x6983) is None
    assert ResponseAPDU(b"", 0x63C4).tries_left == 4
    with pytest.raises(InvalidInput):
        sw_tries_left(16)


def test_bytes_remaining() -> None:
    assert bytes_remaining(0x6126) == 0x26
    assert bytes_remaining(0x6100) == 256
    assert bytes_remaining(0x9000) is None
