"""The My Number card desk (マイナンバーカード交付窓口): applications, slots, issuance, cards.

The flow the seed city runs: a resident applies (by mail, online, at a photo
booth, at the counter, or at an outreach session — including group
applications at care facilities); J-LIS produces the card in about a month;
the city mails the issuance notice (交付通知書) and the resident books an
issuance slot (交付枠), whose capacity staff adjust, with extended-hours and
weekend sessions; at the desk the clerk checks identity, the card generates
its keys, the authority certifies them, and the resident sets the PINs.

Card validity: to the 10th birthday after issue when 18 or older, the 5th
under 18.  Certificate renewal opens three months before expiry.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from kofu.core.birthdays import birthday_after
from kofu.core.errors import Conflict, InvalidInput, Refused

__all__ = [
    "LEAD_TIME",
    "ApplicationChannel",
    "CardApplication",
    "CardRecord",
    "CardState",
    "IdentityDocument",
    "IssuanceSlot",
    "card_validity_end",
    "check_identity",
    "renewal_opens",
]

ABROAD = "国外"  # the destination prefecture of a move abroad (国外転出)
LEAD_TIME = timedelta(days=30)  # J-LIS production and delivery to the city, about a month


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ApplicationChannel(StrEnum):
    """申請方法."""

    MAIL = "mail"  # 郵送
    ONLINE = "online"  # スマートフォン・パソコン
    PHOTO_BOOTH = "photo_booth"  # 証明写真機
    COUNTER = "counter"  # 窓口 (申請時来庁方式)
    OUTREACH = "outreach"  # 出張申請受付 (商業施設・行政センター)
    GROUP_OUTREACH = "group_outreach"  # 施設入所者の団体出張申請


class ApplicationStatus(StrEnum):
    APPLIED = "applied"
    NOTIFIED = "notified"  # 交付通知書 sent (the card has arrived from J-LIS)
    BOOKED = "booked"  # 交付予約
    ISSUED = "issued"
    CANCELLED = "cancelled"


class CardState(StrEnum):
    """運用状況 of a card."""

    ACTIVE = "active"
    SUSPENDED = "suspended"  # 一時停止 (reported lost)
    RETURNED = "returned"  # 返納 (death, moving abroad)
    ABOLISHED = "abolished"  # 廃止 (reissued, special move-in lost)
    EXPIRED = "expired"


class SlotKind(StrEnum):
    REGULAR = "regular"
    EXTENDED_HOURS = "extended_hours"  # 平日時間外延長
    WEEKEND = "weekend"  # 土日交付


class CardApplication(_Value):
    """One application for a card (交付申請)."""

    application_id: str
    resident_code: str
    channel: ApplicationChannel
    applied_on: date
    facility: str | None = None  # the care facility of a group application
    reason: str = "new"  # new | reissue | renewal
    status: ApplicationStatus = ApplicationStatus.APPLIED
    arrives_on: date  # when the produced card reaches the city
    notice_sent_on: date | None = None
    slot_id: str | None = None
    card_id: str | None = None


class IssuanceSlot(_Value):
    """交付枠: a time window at the desk with a capacity staff can change."""

    slot_id: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    booked: int = 0
    kind: SlotKind = SlotKind.REGULAR

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.booked)


class CardRecord(_Value):
    """The city's record of one issued card, linking its certificates to the resident."""

    card_id: str
    resident_code: str
    application_id: str
    issued_on: date
    expires_on: date
    state: CardState = CardState.ACTIVE
    auth_serial: str
    sign_serial: str | None = None
    certificates_expire_on: date
    issuer_secret: str  # hex; the transport key the desk uses for card management commands
    state_changed_on: date | None = None
    # 継続利用: a card that came with a special move-in is carried over within 90 days
    moved_in_on: date | None = None  # the move-in notification (転入届の特例) at this city
    continued_on: date | None = None  # when the new address was written and the PIN entered
    card_address: str | None = None  # the address the card's record (券面) says

    def changed_to(self, state: CardState, on: date) -> CardRecord:
        """The record with the card's new 運用状況 and the day it changed."""
        return self.model_copy(update={"state": state, "state_changed_on": on})


class IdentityDocument(StrEnum):
    """本人確認書類: A needs one, B needs two."""

    DRIVING_LICENCE = "driving_licence"  # A
    PASSPORT = "passport"  # A
    RESIDENCE_CARD = "residence_card"  # A (在留カード)
    NOTIFICATION_CARD = "notification_card"  # B (通知カード, collected)
    HEALTH_INSURANCE = "health_insurance"  # B
    PENSION_BOOK = "pension_book"  # B
    ISSUANCE_NOTICE = "issuance_notice"  # B (the 交付通知書 itself)

    @property
    def photo_id(self) -> bool:
        return self in _TYPE_A


_TYPE_A = {
    IdentityDocument.DRIVING_LICENCE,
    IdentityDocument.PASSPORT,
    IdentityDocument.RESIDENCE_CARD,
}


def check_identity(documents: list[IdentityDocument]) -> None:
    """One photo ID (type A), or two other documents (type B)."""
    if any(d.photo_id for d in documents):
        return
    if len(set(documents)) >= 2:
        return
    raise Refused(
        "identity_not_confirmed",
        "identity needs one photo ID (licence, passport, residence card) or two other documents",
        message_ja="本人確認書類が不足しています（顔写真付き1点、またはそれ以外2点）。",
    )


def renewal_opens(expires_on: date) -> date:
    """Certificates and cards can be renewed from three months before they expire."""
    month = expires_on.month - 3
    year = expires_on.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    for day in (expires_on.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def check_slot(slot: IssuanceSlot, now: datetime) -> None:
    """A booking needs a future slot with room."""
    if slot.starts_at <= now:
        raise Conflict(f"slot {slot.slot_id} has already begun", field="slot")
    if slot.free == 0:
        raise Refused(
            "slot_full",
            f"slot {slot.slot_id} is full ({slot.capacity} booked); choose another",
            message_ja="選択された交付枠は満員です。別の日時を選んでください。",
        )


def validate_capacity(capacity: int) -> int:
    if not 0 <= capacity <= 500:
        raise InvalidInput("a slot's capacity is between 0 and 500", field="capacity")
    return capacity


def revocation_for(kind: str, changed: dict[str, object]) -> str | None:
    """The JPKI revocation cause a register change carries to the person's card, if any.

    A change of address or name revokes the signature certificate (its facts
    are stale); death or a move abroad revokes both and the card is returned.
    """
    if kind == "death":
        return "death"
    destination = changed.get("move_out_destination")
    if (
        kind == "move_out"
        and isinstance(destination, dict)
        and destination.get("prefecture") == ABROAD
    ):
        return "card_return"  # 国外転出: the card is returned and both certificates end
    if kind == "move_out" or "address" in changed:
        return "move"
    if "name" in changed:
        return "name_change"
    return None


def card_validity_end(birth: date, issued_on: date, stay_until: date | None = None) -> date:
    """The card's expiry: the 10th birthday after issue from age 18, the 5th under 18.

    A foreign resident whose stay has an end (a student's 在留期間) holds a card
    valid only until that end (番号法施行令, jyuki-stnd 1.1.2).
    """
    age = (
        issued_on.year - birth.year - ((issued_on.month, issued_on.day) < (birth.month, birth.day))
    )
    end = birthday_after(birth, issued_on, 10 if age >= 18 else 5)
    return min(end, stay_until) if stay_until is not None else end
