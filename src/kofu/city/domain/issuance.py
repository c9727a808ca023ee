"""Composing a certificate from the registers, refusing with a reason when a rule forbids it."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from kofu.city.domain.certificates import (
    COUNTER_ONLY,
    REMOVED_TYPES,
    RESIDENT_TYPES,
    CertificateType,
    Document,
    FamilyRegisterCertificate,
    Holder,
    Issuer,
    IssueRequest,
    Item,
    MoveOutCertificate,
    ResidenceCertificate,
    SealCertificate,
    TaxCertificate,
    check_not_protected,
)
from kofu.city.domain.city import CityProfile
from kofu.city.domain.kinship import household_order
from kofu.city.domain.model import (
    Address,
    FamilyRegister,
    IssuanceBlock,
    RegisterMember,
    RemovalReason,
    Resident,
    SupportMeasure,
)
from kofu.city.domain.ports import Registers
from kofu.city.domain.remarks import history_lines
from kofu.core.clock import JST
from kofu.core.errors import InvalidInput, NotFound, Refused
from kofu.core.holder import identity_digest
from kofu.core.identifiers import ResidentCode

__all__ = ["compose", "current_fiscal_year"]


def _removed() -> Refused:
    """A new error each time: a shared instance would pile up tracebacks on every raise."""
    return Refused(
        "removed_record",
        "this person's record is a removed record (除票); "
        "ask for the 除票 certificate (--type johyo)",
        message_ja="住民票が消除されているため発行できません。除票の写しを請求してください。",
    )


def current_fiscal_year(day: date) -> int:
    """The newest fiscal year with assessments: the new year's figures are out in June."""
    return day.year if day.month >= 6 else day.year - 1


def _person(registers: Registers, resident_code: str) -> Resident:
    person = registers.resident(ResidentCode(resident_code))
    if person is None:
        raise NotFound(f"no resident with code {resident_code}", field="resident")
    return person


def _release_end(block: IssuanceBlock) -> datetime | None:
    """When a temporary release ends, as an instant (a time without zone is Japan time)."""
    if block.temporary_release_until is None:
        return None
    try:
        until = datetime.fromisoformat(block.temporary_release_until)
    except ValueError:  # an unreadable release lifts nothing
        return None
    return until if until.tzinfo is not None else until.replace(tzinfo=JST)


def _measure_released(m: SupportMeasure, now: datetime, store: bool, holder: str) -> bool:
    """The 支援措置責任者 released this counter request, for now (never at a store)."""
    if store or m.override_until is None or m.override_for != holder:
        return False
    try:
        until = datetime.fromisoformat(m.override_until)
    except ValueError:  # an unreadable release lifts nothing
        return False
    return now < (until if until.tzinfo is not None else until.replace(tzinfo=JST))


def _protected(
    registers: Registers, people: list[Resident], now: datetime, store: bool, holder: str
) -> list[str]:
    """Refuse for a support measure or a block; the alert-level blocks' warnings otherwise."""
    today = now.date()
    protected, blocked = set(), set()
    warnings = []
    for p in people:
        if any(
            m.active_on(today) and not _measure_released(m, now, store, holder)
            for m in registers.support_measures(p.resident_code)
        ):
            protected.add(p.resident_code)
        for block in registers.issuance_blocks(p.resident_code):
            until = _release_end(block)
            released_for_now = not store and until is not None and now < until
            if block.blocks_on(today) and not released_for_now:
                blocked.add(p.resident_code)
            elif block.warns_on(today):
                warnings.append(
                    f"抑止（アラート） {p.resident_code}: {block.category}: {block.reason}"
                )
    check_not_protected(people, protected, blocked)
    return warnings


def _residence(registers: Registers, req: IssueRequest, person: Resident) -> ResidenceCertificate:
    removed = req.type in REMOVED_TYPES
    if removed and person.is_resident:
        raise Refused(
            "not_removed",
            "this person is a current resident; a 除票 exists only for a removed record",
            message_ja="現に住民であるため除票はありません。",
        )
    if not removed and not person.is_resident:
        raise _removed()
    if req.household == "self":
        members = [person]
    else:
        household = (
            _removed_together(registers, person)
            if removed
            else list(registers.household(person.household_id))
        )
        if req.household == "all":
            members = household
        else:
            by_code = {m.resident_code: m for m in household}
            missing = [c for c in req.members if c not in by_code]
            if missing:
                raise InvalidInput(
                    f"{', '.join(missing)} is not a member of the same household", field="members"
                )
            members = [m for m in household if m.resident_code in req.members]
    if all(m.foreign is not None for m in members) and Item.DOMICILE in req.items:
        raise InvalidInput("本籍・筆頭者 exists only for Japanese nationals", field="with")
    remarks = {}
    if req.history:  # only asked-for history costs a read per member
        for m in members:
            versions = registers.history(m.resident_code)
            remarks[m.resident_code] = history_lines(
                versions,
                removed=removed,
                today=registers.today,
                special=req.special,
            )
    return ResidenceCertificate(
        members=tuple(members),
        items=req.items,
        whole_household=req.household == "all",
        removed=removed,
        history=req.history,
        household_head=person.household_head_name,
        form=req.form,
        extract=req.type in (CertificateType.KISAI, CertificateType.JOHYO_KISAI),
        remarks=remarks,
    )


def _removed_together(registers: Registers, person: Resident) -> list[Resident]:
    """A 除票 for a household: its members removed with the person, the same day and reason.

    Removed and current members never share one certificate (jyuki-stnd 5.1).
    """
    return household_order(
        [
            m
            for m in registers.former_household(person.household_id)
            if (m.removed_on, m.removal_reason) == (person.removed_on, person.removal_reason)
        ]
    )


LATE_MOVE_OUT = timedelta(days=14)  # 転出後14日を過ぎた届出は職権記載 (jyuki-stnd 4.1.3.0.1)


def _move_of(p: Resident) -> tuple[date, Address, date, bool] | None:
    """The 転出 written on a record: day, destination, 届出日 and whether it was notified ahead."""
    if p.removal_reason is not None and p.removal_reason is not RemovalReason.MOVED_OUT:
        return None
    if p.planned_move_out is not None:
        m = p.planned_move_out
        return m.planned_on, m.destination, m.notified_on, True
    if p.removed_on is not None and p.move_out_destination is not None:
        return p.removed_on, p.move_out_destination, p.removal_notified_on or p.removed_on, False
    return None


def _first_move_out_certificate(registers: Registers, code: str) -> date | None:
    """The day a 転出証明書 still standing (not disposed of) was first issued for the person."""
    days = [
        e.issued_at.astimezone(JST).date()
        for e in registers.issuances(code)
        if e.certificate == CertificateType.TENSHUTSU.value and e.disposed_on is None
    ]
    return min(days) if days else None


def _as_of(registers: Registers, person: Resident, day: date) -> Resident:
    """The record as it stood at the end of ``day`` (a 再交付 prints the first issue's state)."""
    versions = [v for v in registers.history(person.resident_code) if v.effective <= day]
    return versions[-1].record if versions else person


def _move_out(registers: Registers, req: IssueRequest, person: Resident) -> MoveOutCertificate:
    """転出証明書: the person and whoever moves with them the same day to the same place.

    Asked for again while one is standing, it is a 再交付: marked so, with
    the records as they stood when the first was issued (jyuki-stnd 4.1.3.0.3).
    """
    now = person
    first = _first_move_out_certificate(registers, person.resident_code)
    if first is not None:
        person = _as_of(registers, person, first)
    move = _move_of(person)
    if move is None:
        raise Refused(
            "no_move_out",
            "this person has not notified a move-out to another municipality (転出届)",
            message_ja="転出の届出がないため転出証明書は発行できません。",
        )
    day, destination, notified, planned = move
    # late, or written ex officio (no 転出届 at all): never certified as notified (j660)
    late = (not planned and notified - day > LATE_MOVE_OUT) or person.ex_officio is not None
    if req.in_lieu and not late:
        raise InvalidInput(
            "the move-out was notified in time: its certificate is the 転出証明書 "
            "(without --in-lieu)",
            field="in_lieu",
        )
    if late and not req.in_lieu:
        raise Refused(
            "late_move_out",
            "the move-out was notified more than 14 days after the move, or recorded ex "
            "officio; the new city takes the 転出証明書に準ずる証明書 (--in-lieu) or the "
            "除票 certificate (--type johyo) instead",
            message_ja="転出後14日を過ぎた届出のため転出証明書は発行できません。"
            "除票の写しを請求してください。",
        )
    # who moves with them: still here (a planned move) or gone already (confirmed, or past the day)
    found = {m.resident_code: m for m in registers.former_household(now.household_id)}
    found |= {m.resident_code: m for m in registers.household(now.household_id)}
    found.setdefault(now.resident_code, now)
    household = list(found.values())
    if first is not None:
        household = [_as_of(registers, m, first) for m in household]
    moving = [m for m in household_order(household) if _move_of(m) == move]
    if req.household == "self":
        members = [person]
    elif req.household == "all":
        members = moving
    else:
        codes = {m.resident_code for m in moving}
        missing = [c for c in req.members if c not in codes]
        if missing:
            raise InvalidInput(
                f"{', '.join(missing)} does not move out with this person", field="members"
            )
        members = [m for m in moving if m.resident_code in req.members]
    return MoveOutCertificate(
        members=tuple(members),
        address=person.address,
        household_head=person.household_head_name,
        destination=destination,
        moves_on=day,
        notified_on=notified,
        planned=planned,
        reissued=first is not None,
        in_lieu=req.in_lieu,
        special=person.special_move_out,
    )


def _register_for(registers: Registers, person: Resident) -> FamilyRegister:
    register = (
        registers.family_register(person.family_register_id) if person.family_register_id else None
    )
    if register is None:
        raise Refused(
            "domicile_elsewhere",
            "this person's family register is not kept in this city (本籍地が他市区町村)",
            message_ja="本籍地が当市にないため発行できません。本籍地の市区町村に請求してください。",
        )
    return register


def _family(
    req: IssueRequest, register: FamilyRegister, member: RegisterMember | None
) -> FamilyRegisterCertificate:
    if req.type is CertificateType.KOSEKI_KOJIN:
        if member is None:
            raise NotFound("this person is not written in the register", field="resident")
        members: tuple[RegisterMember, ...] = (member,)
    else:
        members = register.members
    return FamilyRegisterCertificate(
        register=register,
        members=members,
        whole=req.type is not CertificateType.KOSEKI_KOJIN,
        attachment=req.type is CertificateType.FUHYO,
    )


def _register_residents(
    registers: Registers, members: tuple[RegisterMember, ...], person: Resident
) -> list[Resident]:
    """The register's other members who have (or had) a resident record here."""
    out = []
    for member in members:
        if member.resident_code and member.resident_code != person.resident_code:
            record = registers.resident(member.resident_code)
            if record is not None:
                out.append(record)
    return out


def compose(
    registers: Registers,
    city: CityProfile,
    req: IssueRequest,
    *,
    now: datetime,
    issue_number: int,
    store: bool = False,
) -> Document:
    """The document the request asks for, or a refusal naming the rule."""
    person = _person(registers, req.resident_code)
    # protection comes first: no other refusal may tell whether a protected person moved away
    warnings = _protected(registers, [person], now, store, person.resident_code)
    content: (
        ResidenceCertificate
        | MoveOutCertificate
        | SealCertificate
        | TaxCertificate
        | FamilyRegisterCertificate
    )
    subjects: list[Resident] = [person]
    if req.type in RESIDENT_TYPES:
        content = _residence(registers, req, person)
        subjects = list(content.members)
    elif req.type is CertificateType.TENSHUTSU:
        if store and req.type in COUNTER_ONLY:  # handed over with the 転出届, never at a machine
            raise Refused(
                "counter_only",
                "a move-out certificate is issued at the counter only",
                message_ja="転出証明書は窓口でのみ交付します。",
            )
        content = _move_out(registers, req, person)
        subjects = list(content.members)
    elif not person.is_resident and req.type in (CertificateType.INKAN,):
        raise _removed()
    elif req.type is CertificateType.INKAN:
        seal = registers.seal(person.resident_code)
        if seal is None or not seal.active_on(now.date()):
            raise Refused(
                "no_seal",
                "this person has no registered seal (印鑑登録がありません)",
                message_ja="印鑑登録がないため発行できません。",
            )
        content = SealCertificate(person=person, seal=seal)
    elif req.type in (CertificateType.KAZEI, CertificateType.SHOTOKU):
        year = req.fiscal_year or current_fiscal_year(now.date())
        assessment = registers.tax(person.resident_code, year)
        if assessment is None:
            raise Refused(
                "no_tax_record",
                f"there is no tax record for fiscal year {year} for this person",
                message_ja=f"{year}年度の課税の記録がないため発行できません。",
            )
        content = TaxCertificate(person, assessment, with_tax=req.type is CertificateType.KAZEI)
    else:
        if person.foreign is not None:
            raise Refused(
                "no_family_register",
                "a foreign national has no Japanese family register",
                message_ja="外国籍の方には戸籍がありません。",
            )
        register = _register_for(registers, person)
        content = _family(req, register, register.member_for(person.resident_code))
        if content.attachment:  # the 附票 prints every member's address
            subjects += _register_residents(registers, content.members, person)
    others = [s for s in subjects if s.resident_code != person.resident_code]
    warnings += _protected(registers, others, now, store, person.resident_code)
    return Document(
        type=req.type,
        content=content,
        issuer=Issuer(city=city, issued_at=now, issue_number=issue_number),
        holder=person,
        subjects=tuple(s.resident_code for s in subjects),
        warnings=tuple(warnings),
        official=req.official,
    )


def compose_for_domicile(
    registers: Registers,
    city: CityProfile,
    req: IssueRequest,
    register: FamilyRegister,
    member: RegisterMember,
    *,
    now: datetime,
    issue_number: int,
) -> Document:
    """A family-register document for someone registered for it who lives in another city.

    Only 戸籍 and 附票 documents come from the domicile city; the members who
    do live here are still checked for support measures, since the 附票
    prints their addresses.
    """
    if req.type not in (
        CertificateType.KOSEKI_ZENBU,
        CertificateType.KOSEKI_KOJIN,
        CertificateType.FUHYO,
    ):
        raise Refused(
            "not_from_domicile",
            f"{req.type.label} is issued by the city of residence, not the domicile city",
            message_ja=f"{req.type.label}は住所地の市区町村でお取りください。",
        )
    content = _family(req, register, member)
    residents_here = [
        r
        for m in content.members
        if m.resident_code and (r := registers.resident(m.resident_code)) is not None
    ]
    _protected(registers, residents_here, now, True, "")
    return Document(
        type=req.type,
        content=content,
        issuer=Issuer(city=city, issued_at=now, issue_number=issue_number),
        holder=Holder(
            member.name,
            member.resident_code or "",
            identity_digest(member.name, member.birth_date.isoformat(), member.sex.value),
        ),
        subjects=tuple(r.resident_code for r in residents_here),
    )
