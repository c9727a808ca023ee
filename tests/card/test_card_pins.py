"""PIN rules: formats, 3 and 5 tries, 63Cx counting down, locking, and the city's reset."""

from __future__ import annotations

import pytest

from kofu.card.apdu import CommandAPDU, ResponseAPDU
from kofu.card.element import SecureElement
from kofu.card.jpki_ap import JPKI_AID, issuer_mac
from kofu.card.reader import JpkiCard, PinError
from kofu.core.certkinds import CertKind
from kofu.core.errors import Conflict, InvalidInput, Refused

AUTH_PIN_EF, SIGN_PIN_EF = 0x0018, 0x001B


def verify_raw(element: SecureElement, fid: int, value: bytes) -> int:
    """Select the PIN EF and VERIFY; the status word."""
    for command in (
        CommandAPDU(0x00, 0xA4, 0x04, 0x0C, JPKI_AID),
        CommandAPDU(0x00, 0xA4, 0x02, 0x0C, fid.to_bytes(2, "big")),
        CommandAPDU(0x00, 0x20, 0x00, 0x80, value),
    ):
        response = ResponseAPDU.from_bytes(element.transmit(command.to_bytes()))
    return response.sw


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("auth", "123", "the authentication PIN is 4 digits"),
        ("auth", "12345", "the authentication PIN is 4 digits"),
        ("auth", "12a4", "the authentication PIN is 4 digits"),
        ("auth", "１２３４", "the authentication PIN is 4 digits"),
        ("auth", "", "the authentication PIN is 4 digits"),
        ("sign", "ABC12", "the signature password is 6–16 upper-case letters and digits"),
        ("sign", "abc123", "the signature password is 6–16 upper-case letters and digits"),
        ("sign", "A" * 17, "the signature password is 6–16 upper-case letters and digits"),
        ("sign", "ABC 123", "the signature password is 6–16 upper-case letters and digits"),
        ("sign", "ＡＢＣ１２３", "the signature password is 6–16 upper-case letters and digits"),
    ],
)
def test_formats_are_checked_on_the_host_without_spending_a_try(
    personalised: SecureElement, kind: str, value: str, message: str
) -> None:
    card = JpkiCard(personalised)
    with pytest.raises(InvalidInput) as caught:
        card.verify_pin(kind, value)
    assert caught.value.message == message
    assert card.tries_left(kind) == (3 if kind == "auth" else 5)


def test_the_card_checks_the_format_of_a_new_pin_itself(personalised: SecureElement, kit) -> None:
    for fid, value in (
        (AUTH_PIN_EF, b"12345"),
        (SIGN_PIN_EF, b"abc123"),
        (SIGN_PIN_EF, "ＡＢＣ１２３".encode()),
    ):
        verify_raw(personalised, fid, b"")  # selects the EF
        challenge = ResponseAPDU.from_bytes(personalised.transmit(bytes.fromhex("0084000008")))
        mac = issuer_mac(kit.issuer_secret, challenge.data, bytes.fromhex("00240180"), value)
        set_pin = CommandAPDU(0x00, 0x24, 0x01, 0x80, value + mac)
        assert ResponseAPDU.from_bytes(personalised.transmit(set_pin.to_bytes())).sw == 0x6A80


def test_auth_pin_counts_down_from_three_and_locks(personalised: SecureElement, kit) -> None:
    statuses = [verify_raw(personalised, AUTH_PIN_EF, b"0000") for _ in range(4)]
    assert statuses == [0x63C2, 0x63C1, 0x63C0, 0x6983]
    assert verify_raw(personalised, AUTH_PIN_EF, kit.auth_pin.encode()) == 0x6983
    assert verify_raw(personalised, AUTH_PIN_EF, b"") == 0x6983
    assert JpkiCard(personalised).tries_left("auth") == 0


def test_sign_password_counts_down_from_five(personalised: SecureElement, kit) -> None:
    statuses = [verify_raw(personalised, SIGN_PIN_EF, b"WRONG1") for _ in range(6)]
    assert statuses == [0x63C4, 0x63C3, 0x63C2, 0x63C1, 0x63C0, 0x6983]
    assert verify_raw(personalised, SIGN_PIN_EF, kit.sign_password.encode()) == 0x6983


def test_any_wrong_value_costs_a_try_on_the_card(personalised: SecureElement) -> None:
    assert verify_raw(personalised, SIGN_PIN_EF, b"1234") == 0x63C4


def test_client_raises_pin_errors_with_tries_left(personalised: SecureElement, kit) -> None:
    card = JpkiCard(personalised)
    with pytest.raises(PinError) as first:
        card.verify_pin(CertKind.AUTH, "0000")
    assert (first.value.reason, first.value.tries_left) == ("wrong_pin", 2)
    assert "2 tries left" in first.value.message
    assert "あと2回" in first.value.message_ja
    with pytest.raises(PinError) as second:
        card.verify_pin(CertKind.AUTH, "0000")
    assert "1 try left" in second.value.message
    with pytest.raises(PinError) as third:
        card.verify_pin(CertKind.AUTH, "0000")
    assert (third.value.reason, third.value.tries_left) == ("pin_locked", 0)
    with pytest.raises(PinError) as locked:
        card.verify_pin(CertKind.AUTH, kit.auth_pin)
    assert locked.value.reason == "pin_locked"
    assert "reset at the city counter" in locked.value.message
    assert "窓口" in locked.value.message_ja
    assert isinstance(locked.value, Refused)
    assert locked.value.to_dict()["reason"] == "pin_locked"


def test_success_resets_the_counter(personalised: SecureElement, kit) -> None:
    card = JpkiCard(personalised)
    for _ in range(4):
        with pytest.raises(PinError):
            card.verify_pin("sign", "WRONG1")
    assert card.tries_left("sign") == 1
    assert card.verify_pin("sign", kit.sign_password) == 5
    assert card.tries_left("sign") == 5


def test_asking_the_tries_left_spends_none(personalised: SecureElement) -> None:
    card = JpkiCard(personalised)
    with pytest.raises(PinError):
        card.verify_pin("auth", "0000")
    assert [card.tries_left("auth") for _ in range(5)] == [2] * 5
    assert verify_raw(personalised, AUTH_PIN_EF, b"") == 0x63C2


def test_reset_retry_counter_needs_the_issuer_mac(personalised: SecureElement, kit) -> None:
    card = JpkiCard(personalised)
    for _ in range(3):
        with pytest.raises(PinError):
            card.verify_pin("auth", "0000")
    with pytest.raises(Refused) as refused:
        card.reset_pin("auth", "4711", b"not-the-issuer-secret!")
    assert refused.value.reason == "issuer_auth_failed"
    with pytest.raises(Refused):
        card.unlock_pin("auth", b"not-the-issuer-secret!")
    assert card.tries_left("auth") == 0
    card.reset_pin("auth", "4711", kit.issuer_secret)
    assert card.tries_left("auth") == 3
    with pytest.raises(PinError):
        card.verify_pin("auth", kit.auth_pin)  # the old PIN is gone
    assert card.verify_pin("auth", "4711") == 3


def test_unlock_keeps_the_pin(personalised: SecureElement, kit) -> None:
    card = JpkiCard(personalised)
    for _ in range(5):
        with pytest.raises(PinError):
            card.verify_pin("sign", "WRONG1")
    card.unlock_pin("sign", kit.issuer_secret)
    assert card.verify_pin("sign", kit.sign_password) == 5


def test_set_pin_needs_the_issuer_mac_and_a_valid_format(personalised: SecureElement, kit) -> None:
    card = JpkiCard(personalised)
    with pytest.raises(Refused):
        card.set_pin("auth", "1111", b"not-the-issuer-secret!")
    with pytest.raises(InvalidInput, match="4 digits"):
        card.set_pin("auth", "11111", kit.issuer_secret)
    with pytest.raises(InvalidInput, match="issuer secret"):
        card.set_pin("auth", "1111", b"short")
    card.set_pin("auth", "1111", kit.issuer_secret)
    assert card.verify_pin("auth", "1111") == 3


def test_a_wrong_try_ends_the_verified_state(issued: SecureElement, kit) -> None:
    card = JpkiCard(issued)
    card.verify_pin("auth", kit.auth_pin)
    assert len(card.sign("auth", b"x")) == 256
    with pytest.raises(PinError):
        card.verify_pin("auth", "0000")
    with pytest.raises(Refused, match="verified first"):
        card.sign("auth", b"x")


def test_a_card_without_pins(kit) -> None:
    card = JpkiCard(SecureElement.blank(kit.issuer_secret))
    with pytest.raises(Conflict):
        card.tries_left("auth")
    with pytest.raises(Conflict):
        card.verify_pin("sign", kit.sign_password)
    with pytest.raises(Conflict):
        card.unlock_pin("auth", kit.issuer_secret)


def test_unknown_kind_is_invalid(personalised: SecureElement) -> None:
    with pytest.raises(InvalidInput, match="'sign' or 'auth'"):
        JpkiCard(personalised).tries_left("login")
