"""Resident code change (住民票コード変更請求, 住基法30条の4) at the counter or by post.

The new code is the next of the city's unused block from Juki-net; the old
one is retired everywhere by the notice queued in the same transaction (it
names the code it retires), and the notification slip (住民票コード通知票)
is printed for the resident.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from kofu.city.domain.activity import ActivityKind, at_noon
from kofu.city.domain.ports import CityUnits
from kofu.city.services.activity import record_activity
from kofu.core.era import wareki
from kofu.core.errors import Conflict, InvalidInput, NotFound
from kofu.core.identifiers import ResidentCode
from kofu.documents.model import Certificate, Certification, Paragraph, Table
from kofu.documents.render import render

__all__ = ["CHANNELS", "change_resident_code", "notification_slip"]

CHANNELS = ("counter", "post")  # 窓口, 郵送


def change_resident_code(
    *, units: CityUnits, resident: str, channel: str, today: date
) -> dict[str, Any]:
    """Give the person the next unused code; the old one is retired through the outbox."""
    if channel not in CHANNELS:
        raise InvalidInput(f"--by is counter or post, not {channel!r}", field="by")
    old = str(ResidentCode(resident))
    with units(today=today) as uow:
        city = uow.city()
        person = uow.registers.resident(old)
        if person is None:
            replaced = uow.cs.retired_as(old)
            if replaced:
                raise Conflict(
                    f"resident code {old} was already changed to {replaced}", field="resident"
                )
            raise NotFound(f"resident {old} has no record in {city.name}", field="resident")
        if not person.is_resident:
            raise Conflict(
                "a removed record (除票) keeps its code; only a resident may ask", field="resident"
            )
        if any(v.effective > today for v in uow.registers.history(old)):
            raise Conflict(
                "a planned change of this record is waiting for its date; change the code after it",
                field="resident",
            )
        new = uow.cs.take_code()
        if new is None:
            raise Conflict(
                "the city has no unused resident codes from Juki-net (未使用住民票コード); "
                "start the city's server linked to its prefecture's server first",
                field="resident",
            )
        uow.cs.rename_resident(old, new, today, channel)
        changed = person.model_copy(update={"resident_code": new})
        uow.registers.save_resident(changed, effective=today, kind="resident_code_change")
        seq = max(uow.cs.pending_for(new) or [0])
        slip_number = uow.registers.next_number("resident_code_slip")  # 通知票の発行番号
        record_activity(  # 住民票コード変更 by counter or post (OPT-06)
            uow,
            ActivityKind.RESIDENT_CODE_CHANGED,
            at_noon(today),
            ref=f"code:{old}",
            channel=channel,
        )
        uow.commit()
    return {
        "city": city.code,
        "old_code": old,
        "new_code": new,
        "name": person.name,
        "address": person.address.text,
        "changed_on": today.isoformat(),
        "by": channel,
        "seq": seq,
        "slip_number": slip_number,
        "city_name": f"{city.prefecture}{city.name}",
        "mayor_title": city.mayor_title,
        "mayor_name": city.mayor_name,
        "prefecture": city.prefecture,
    }


def notification_slip(change: dict[str, Any]) -> bytes:
    """住民票コード通知票: the new code, for the resident (sent by post when asked by post)."""
    day = date.fromisoformat(change["changed_on"])
    rows = (
        ("氏名", change["name"]),
        ("住所", change["address"]),
        ("新しい住民票コード", _spaced(change["new_code"])),
        ("変更年月日", wareki(day)),
        ("請求の方法", "窓口" if change["by"] == "counter" else "郵送"),
    )
    words = "住民票コード通知票氏名住所新しい変更年月日請求の方法窓口郵送"
    return render(
        Certificate(
            title="住民票コード通知票",
            form_words=words,
            body=(
                Table(rows=rows, label_w=44),
                Paragraph(
                    "住民票コードの変更請求により、あなたの住民票コードを上記のとおり変更しました。"
                ),
                Paragraph("以前の住民票コードは使用できなくなりました。大切に保管してください。"),
            ),
            certification=Certification(
                statement="上記のとおり通知します。",
                issued_on=day,
                prefecture=change["prefecture"],
                mayor_title=change["mayor_title"],
                mayor_name=change["mayor_name"],
                city_code=change["city"],
                issue_number=int(change["slip_number"]),
            ),
        )
    )


def _spaced(code: str) -> str:
    """The code as the slip prints it, in groups easy to read aloud: 1234 5678 901."""
    return f"{code[:4]} {code[4:8]} {code[8:]}"
