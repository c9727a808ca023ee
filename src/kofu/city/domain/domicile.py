"""本籍地利用登録: a person living elsewhere asks for family-register documents from this city.

Someone whose domicile (本籍) is here but whose residence is in another city
must register once, at a kiosk, before the store can print their 戸籍 or
附票 from here.  The application gives the domicile and the head of the
register (筆頭者) as the person believes them; the residence city vouches for
the person's name, birth date and sex (本人確認情報, as Juki-net would); this
city finds the register and the person in it, and staff approve it (about
five business days in practice).  The registration belongs to the
user-authentication certificate that applied: once that certificate is
renewed or reissued, the new one finds no registration and the person
registers again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum

from kofu.city.domain.model import FamilyRegister, Record, RegisterMember, Sex
from kofu.core.errors import Conflict, Refused
from kofu.core.holder import normal_name
from kofu.core.text import check_plain

__all__ = [
    "DomicileRegistration",
    "RegistrationState",
    "check_registration",
    "decide",
    "find_person",
]


class RegistrationState(StrEnum):
    PENDING = "pending"  # 審査中
    APPROVED = "approved"  # 登録済
    REJECTED = "rejected"  # 不承認


class DomicileRegistration(Record):
    """One application, keyed by the applying certificate's serial."""

    registration_id: str
    auth_serial: str  # lower-case hex of the user-authentication certificate
    register_id: str
    member_name: str
    member_birth_date: date
    applied_at: datetime
    state: RegistrationState = RegistrationState.PENDING
    decided_at: datetime | None = None
    reason: str | None = None  # why it was rejected


def find_person(
    at_domicile: Sequence[FamilyRegister], head_name: str, name: str, birth_date: date, sex: Sex
) -> tuple[FamilyRegister, RegisterMember]:
    """The open register at the domicile with that head (筆頭者), and the applicant in it."""
    check_plain(head_name=head_name, name=name)
    head, applicant = normal_name(head_name), normal_name(name)
    for register in at_domicile:
        if register.closed_on is not None or normal_name(register.head_name) != head:
            continue
        for member in register.members:
            if (
                not member.removed
                and normal_name(member.name) == applicant
                and member.birth_date == birth_date
                and member.sex == sex
            ):
                return register, member
    raise Refused(
        "domicile_not_found",
        "no family register here has this person at that domicile and head (本籍・筆頭者)",
        message_ja="入力された本籍・筆頭者の戸籍に、ご本人の記載が見つかりません。",
    )


def check_registration(registration: DomicileRegistration | None) -> DomicileRegistration:
    """The approved registration of the signing certificate, or why the store must refuse."""
    if registration is None:
        raise Refused(
            "domicile_not_registered",
            "this card is not registered for the domicile city's documents (本籍地利用登録); "
            "a renewed certificate needs a new registration",
            message_ja="本籍地の証明書の交付には、本籍地利用登録が必要です"
            "（電子証明書を更新した方は再登録が必要です）。",
        )
    if registration.state is RegistrationState.PENDING:
        raise Refused(
            "domicile_pending",
            "the domicile registration is still being reviewed by the city",
            message_ja="本籍地利用登録を審査中です。登録完了までしばらくお待ちください。",
        )
    if registration.state is RegistrationState.REJECTED:
        raise Refused(
            "domicile_rejected",
            f"the domicile registration was not approved: {registration.reason or ''}".strip(),
            message_ja="本籍地利用登録が承認されませんでした。本籍地の市区町村にお問い合わせください。",
        )
    return registration


def decide(
    registration: DomicileRegistration, approve: bool, at: datetime, reason: str | None
) -> DomicileRegistration:
    """Staff's decision on a pending application; a decided one is not decided again."""
    check_plain(reason=reason)  # kept with the registration and shown to staff
    if registration.state is not RegistrationState.PENDING:
        raise Conflict(
            f"registration {registration.registration_id} is already {registration.state}",
            field="registration",
        )
    state = RegistrationState.APPROVED if approve else RegistrationState.REJECTED
    return registration.model_copy(update={"state": state, "decided_at": at, "reason": reason})
