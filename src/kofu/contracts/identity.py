"""center ↔ city: 本人確認情報 of a card's holder, and 本籍地利用登録 (domicile registration).

``POST /identity``: ``IdentityRequest`` → ``Identity``, from the city that
keeps the holder's resident record.  ``POST /domicile-registrations``:
``DomicileApplication`` → ``DomicileAnswer``, at the domicile city (本籍地);
the center passes the answer on to the kiosk as it came.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, StrictStr

from kofu.contracts import AuthSerial, Contract, ResidentCodeText
from kofu.core.text import PlainText

__all__ = ["DomicileAnswer", "DomicileApplication", "Identity", "IdentityRequest", "Sex"]

Sex = Literal["male", "female"]  # 性別
Name = Annotated[PlainText, Field(strict=True, min_length=1, max_length=64)]


class IdentityRequest(Contract):
    """Whose card signed in: the serial of its user-authentication certificate."""

    auth_serial: AuthSerial


class Identity(Contract):
    """本人確認情報 of a valid card's holder, as the city that keeps the record vouches for it."""

    resident_code: ResidentCodeText
    name: Name
    kana: Annotated[StrictStr, Field(max_length=128)]
    birth_date: date
    sex: Sex
    address: Annotated[StrictStr, Field(max_length=256)]


class DomicileApplication(Contract):
    """An application for 本籍地利用登録, with the facts the residence city vouched for."""

    auth_serial: AuthSerial
    domicile: Annotated[PlainText, Field(strict=True, min_length=1, max_length=128)]  # 本籍
    head_name: Name  # 筆頭者, as typed
    name: Name
    birth_date: date
    sex: Sex


class DomicileAnswer(Contract):
    """The registration the domicile city made of the application: staff review it."""

    registration_id: StrictStr
    auth_serial: AuthSerial
    register_id: StrictStr  # the family register (戸籍) the applicant was found in
    member_name: Name
    member_birth_date: date
    applied_at: datetime
    state: Literal["pending", "approved", "rejected"]  # 審査中 / 登録済 / 不承認
    decided_at: datetime | None = None
    reason: StrictStr | None = None  # why it was rejected
