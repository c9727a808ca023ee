"""How register events write the family registers (戸籍) and their attachments (附票).

A family register is itself a history: people are never deleted from it; a
person who leaves is struck out (除籍) with the event that took them, and a
register whose domicile moves away is closed whole.  Only registers whose
domicile is in this city are kept here; events of people domiciled elsewhere
change nothing in them.
"""

from __future__ import annotations

from datetime import date

from kofu.city.domain.model import (
    AttachmentLine,
    FamilyRegister,
    RegisterEntry,
    RegisterMember,
    Resident,
    Sex,
)
from kofu.city.domain.ports import Registers
from kofu.core.era import wareki
from kofu.core.errors import Conflict, InvalidInput

__all__ = [
    "child_relationship",
    "record_address",
    "record_adoption",
    "record_birth",
    "record_death",
    "record_divorce",
    "record_marriage",
    "record_transfer_in",
    "record_transfer_out",
    "register_of",
]

_ORDINALS = ("長", "二", "三", "四", "五", "六", "七", "八", "九", "十")


def child_relationship(sex: Sex, order: int) -> str:
    """続柄 of the n-th son or daughter of a mother: 長男, 二女, 三男 …"""
    ordinal = _ORDINALS[min(order, len(_ORDINALS)) - 1]
    return f"{ordinal}{'男' if sex is Sex.MALE else '女'}"


def register_of(reg: Registers, person: Resident) -> FamilyRegister | None:
    """The person's register when it is kept in this city and still open."""
    if not person.family_register_id:
        return None
    register = reg.family_register(person.family_register_id)
    return register if register is not None and register.closed_on is None else None


def _replace(register: FamilyRegister, member: RegisterMember) -> FamilyRegister:
    members = tuple(
        member
        if (m.resident_code and m.resident_code == member.resident_code)
        or (m.name, m.birth_date) == (member.name, member.birth_date)
        else m
        for m in register.members
    )
    return register.model_copy(update={"members": members})


def _strike(
    member: RegisterMember, kind: str, on: date, *details: tuple[str, str]
) -> RegisterMember:
    entry = RegisterEntry(kind=kind, on=on, details=details)
    return member.model_copy(
        update={"removed": True, "removed_reason": kind, "entries": (*member.entries, entry)}
    )


def _line(person: Resident, on: date) -> AttachmentLine:
    return AttachmentLine(address=person.address, set_on=on)


def record_birth(
    reg: Registers, child: Resident, mother: Resident, father_code: str | None, on: date
) -> None:
    """出生: the child is written into the mother's register with its 続柄 among her children."""
    register = register_of(reg, mother)
    if register is None:
        return
    father = reg.resident(father_code) if father_code else None
    mother_name = mother.name.split("　", 1)[1]  # the register writes the mother's given name
    siblings = [m for m in register.members if m.mother == mother_name and m.sex is child.sex]
    member = RegisterMember(
        name=child.name.split("　", 1)[1],
        kana=child.kana,
        birth_date=child.birth_date,
        sex=child.sex,
        father=father.name if father else None,
        mother=mother_name,
        relationship=child_relationship(child.sex, len(siblings) + 1),
        resident_code=child.resident_code,
        entries=(
            RegisterEntry(
                kind="出生",
                on=on,
                details=(
                    ("出生日", wareki(on)),
                    ("出生地", f"{child.address.prefecture}{child.address.city}"),
                    ("届出日", wareki(child.notified_on)),
                    ("届出人", "母"),
                ),
            ),
        ),
        attachment=(_line(child, on),),
    )
    reg.save_family_register(register.model_copy(update={"members": (*register.members, member)}))


def record_death(reg: Registers, person: Resident, on: date) -> None:
    """死亡: the person is struck out of the register (除籍)."""
    register = register_of(reg, person)
    member = register.member_for(person.resident_code) if register else None
    if register is None or member is None:
        return
    struck = _strike(member, "死亡", on, ("死亡日", wareki(on)), ("死亡地", person.address.city))
    reg.save_family_register(_replace(register, struck))


def record_address(reg: Registers, person: Resident, on: date) -> None:
    """A new address is added to the 附票 of the person's register."""
    register = register_of(reg, person)
    member = register.member_for(person.resident_code) if register else None
    if register is None or member is None:
        return
    updated = member.model_copy(update={"attachment": (*member.attachment, _line(person, on))})
    reg.save_family_register(_replace(register, updated))


def _leave(
    reg: Registers, person: Resident, kind: str, on: date, *details: tuple[str, str]
) -> None:
    register = register_of(reg, person)
    member = register.member_for(person.resident_code) if register else None
    if register is not None and member is not None and not member.removed:
        reg.save_family_register(_replace(register, _strike(member, kind, on, *details)))


def _member_from(
    person: Resident, relationship: str, on: date, entry: RegisterEntry
) -> RegisterMember:
    return RegisterMember(
        name=person.name.split("　", 1)[1],
        kana=person.kana,
        birth_date=person.birth_date,
        sex=person.sex,
        relationship=relationship,
        resident_code=person.resident_code,
        entries=(entry,),
        attachment=(_line(person, on),),
    )


def _carried_relationship(reg: Registers, person: Resident) -> str:
    """The 続柄 a person carries into a new register: as written in the old one, if known."""
    register = register_of(reg, person)
    member = register.member_for(person.resident_code) if register else None
    return member.relationship if member else ("長男" if person.sex is Sex.MALE else "長女")


def _married(reg: Registers, person: Resident) -> bool:
    """Whether the register kept here shows the person with a spouse not struck out."""
    register = register_of(reg, person)
    member = register.member_for(person.resident_code) if register else None
    if register is None or member is None or member.removed:
        return False
    if member.relationship in ("妻", "夫"):
        return True
    return register.head_name == person.name and any(
        m.relationship in ("妻", "夫") and not m.removed for m in register.members
    )


def record_marriage(
    reg: Registers, head: Resident, other: Resident, domicile: str, on: date
) -> str:
    """婚姻: a new register for the couple, the one whose family name they keep at its head."""
    if not domicile.strip():
        raise InvalidInput("the new register needs a domicile (本籍)", field="domicile")
    for person in (head, other):
        if person.foreign is not None:
            raise InvalidInput("a foreign national has no family register", field="resident")
        if person.age_on(on) < 18:
            raise InvalidInput(
                f"resident {person.resident_code} is under 18, the age of marriage (民法731条)",
                field="resident",
            )
        if _married(reg, person):
            raise Conflict(
                f"resident {person.resident_code} is already married (重婚, 民法732条)",
                field="resident",
            )
    details = (("婚姻日", wareki(on)), ("配偶者氏名", other.name))
    head_member = _member_from(
        head,
        _carried_relationship(reg, head),
        on,
        RegisterEntry(kind="婚姻", on=on, details=details),
    )
    other_member = _member_from(
        other,
        "妻" if other.sex is Sex.FEMALE else "夫",
        on,
        RegisterEntry(
            kind="婚姻", on=on, details=(("婚姻日", wareki(on)), ("配偶者氏名", head.name))
        ),
    )
    _leave(reg, head, "婚姻", on, ("婚姻日", wareki(on)), ("新本籍", domicile))
    _leave(reg, other, "婚姻", on, ("婚姻日", wareki(on)), ("新本籍", domicile))
    register_id = reg.new_register_id()
    reg.save_family_register(
        FamilyRegister(
            register_id=register_id,
            domicile=domicile,
            head_name=head.name,
            made_on=on,
            made_reason="婚姻",
            members=(head_member, other_member),
        )
    )
    return register_id


def record_divorce(reg: Registers, person: Resident, on: date) -> tuple[str | None, str]:
    """離婚: the spouse who is not the head is struck out and takes back the earlier name (復氏).

    The person heads a new register (新戸籍編製) in the same domicile.  Returns the
    name taken back, if any, and the new register's id.
    """
    register = register_of(reg, person)
    member = register.member_for(person.resident_code) if register else None
    if register is None or member is None or member.relationship not in ("妻", "夫"):
        raise Conflict(
            f"resident {person.resident_code} is not a spouse in a register kept here",
            field="resident",
        )
    _leave(reg, person, "離婚", on, ("離婚日", wareki(on)), ("配偶者氏名", register.head_name))
    previous = person.name_history[-1] if person.name_history else None
    restored = person.model_copy(update={"name": previous or person.name})
    register_id = reg.new_register_id()
    reg.save_family_register(
        FamilyRegister(
            register_id=register_id,
            domicile=register.domicile,
            head_name=restored.name,
            made_on=on,
            made_reason="離婚",
            members=(
                _member_from(
                    restored,
                    "長女" if person.sex is Sex.FEMALE else "長男",
                    on,
                    RegisterEntry(kind="離婚", on=on, details=(("離婚日", wareki(on)),)),
                ),
            ),
        )
    )
    return previous, register_id


def record_adoption(
    reg: Registers, adoptee: Resident, adopter: Resident, on: date, *, special: bool = False
) -> None:
    """養子縁組: the adoptee is written into the adopter's register as 養子 / 養女.

    特別養子縁組 (民法817条の2) writes the child as the adopters' own (長男, 長女 …).
    """
    register = register_of(reg, adopter)
    if register is None:
        raise Conflict("the adopter's family register is not kept in this city", field="adopter")
    kind = "特別養子縁組" if special else "養子縁組"
    details = (("縁組日", wareki(on)), ("養親氏名", adopter.name))
    _leave(reg, adoptee, kind, on, *details)
    if special:
        same_sex = [
            m for m in register.members if m.sex is adoptee.sex and m.relationship[-1] in "男女"
        ]
        relationship = child_relationship(adoptee.sex, len(same_sex) + 1)
    else:
        relationship = "養子" if adoptee.sex is Sex.MALE else "養女"
    member = _member_from(
        adoptee, relationship, on, RegisterEntry(kind=kind, on=on, details=details)
    )
    register = reg.family_register(register.register_id) or register
    reg.save_family_register(register.model_copy(update={"members": (*register.members, member)}))


def record_transfer_out(reg: Registers, person: Resident, new_domicile: str, on: date) -> list[str]:
    """転籍 out: the whole register is closed here; returns the members' resident codes."""
    register = register_of(reg, person)
    if register is None:
        raise Conflict(
            f"resident {person.resident_code} has no family register kept here", field="resident"
        )
    member = register.member_for(person.resident_code)
    if (
        member is None
        or member.removed
        or (register.head_name != person.name and member.relationship not in ("妻", "夫"))
    ):
        raise Conflict(
            "only the head (筆頭者) or spouse may transfer the domicile", field="resident"
        )
    reg.save_family_register(
        register.model_copy(
            update={"closed_on": on, "closed_reason": f"転籍（新本籍 {new_domicile}）"}
        )
    )
    return [m.resident_code for m in register.members if m.resident_code and not m.removed]


def record_transfer_in(reg: Registers, person: Resident, domicile: str, on: date) -> str:
    """転籍 in: a register is made here with the person at its head."""
    if person.foreign is not None:
        raise InvalidInput("a foreign national has no family register", field="resident")
    if register_of(reg, person) is not None:
        raise Conflict("the person's register is already kept in this city", field="resident")
    register_id = reg.new_register_id()
    entry = RegisterEntry(
        kind="転籍", on=on, details=(("転籍日", wareki(on)), ("従前本籍", person.domicile or ""))
    )
    reg.save_family_register(
        FamilyRegister(
            register_id=register_id,
            domicile=domicile,
            head_name=person.name,
            made_on=on,
            made_reason="転籍",
            members=(_member_from(person, _carried_relationship(reg, person), on, entry),),
        )
    )
    return register_id
