"""本籍地利用登録 and store issuance from the domicile city: apply, decide, issue.

The residence city answers who a card belongs to (本人確認情報, as Juki-net
would); the domicile city, this one, keeps the registration and issues
only for the person its approved registration names.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime

from kofu.city.domain.certificates import CertificateType, Document, IssueRequest
from kofu.city.domain.domicile import (
    DomicileRegistration,
    check_registration,
    decide,
    find_person,
)
from kofu.city.domain.issuance import compose_for_domicile
from kofu.city.domain.model import FamilyRegister, RegisterMember, Sex
from kofu.city.domain.ports import CityUnitOfWork, Registers
from kofu.city.domain.store_rules import StoreRules, check_card, check_hours, check_offered
from kofu.city.services.issuance import IssuedCertificate, Keep, issue_certificate
from kofu.contracts.identity import Identity
from kofu.core.clock import Clock
from kofu.core.errors import InvalidInput, NotFound
from kofu.core.text import check_plain

__all__ = [
    "apply_for_domicile_use",
    "decide_registration",
    "identity_of_card",
    "issue_from_domicile",
    "normal_domicile",
]


def normal_domicile(text: str) -> str:
    """本籍 as typed at a kiosk (full-width digits, spaces) compared with the register's."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def identity_of_card(*, uow: CityUnitOfWork, auth_serial: str, clock: Clock) -> Identity:
    """本人確認情報 of a valid card's holder here, as the directory answers another city."""
    with uow:
        uow.registers.today = clock.today()
        card = check_card(uow.cards.card_by_auth_serial(auth_serial.lower()), clock.today())
        person = uow.registers.resident(card.resident_code)
        if person is None:
            raise NotFound("the card's holder has no record here", field="auth_serial")
        return Identity(
            resident_code=person.resident_code,
            name=person.name,
            kana=person.kana,
            birth_date=person.birth_date,
            sex=person.sex.value,
            address=person.address.text,
        )


def apply_for_domicile_use(
    *,
    uow: CityUnitOfWork,
    auth_serial: str,
    domicile: str,
    head_name: str,
    name: str,
    birth_date: date,
    sex: str,
    rules: StoreRules,
    clock: Clock,
) -> DomicileRegistration:
    """A pending registration for the person written in the register at that domicile and head."""
    now = clock.now()
    check_plain(domicile=domicile, head_name=head_name, name=name)  # as typed at the kiosk
    check_hours(rules, CertificateType.KOSEKI_ZENBU, now, family_window=False)
    try:
        person_sex = Sex(sex)
    except ValueError as exc:
        raise InvalidInput(f"sex is male or female, not {sex!r}", field="sex") from exc
    with uow:
        at_domicile = uow.registers.family_registers_at(normal_domicile(domicile))
        register, member = find_person(at_domicile, head_name, name, birth_date, person_sex)
        registration = DomicileRegistration(
            registration_id=uow.registers.new_registration_id(),
            auth_serial=auth_serial.lower(),
            register_id=register.register_id,
            member_name=member.name,
            member_birth_date=member.birth_date,
            applied_at=now,
        )
        uow.registers.save_domicile_registration(registration)
        uow.commit()
    return registration


def decide_registration(
    *, uow: CityUnitOfWork, registration_id: str, approve: bool, reason: str | None, clock: Clock
) -> DomicileRegistration:
    """Staff approve or reject a pending registration (審査)."""
    with uow:
        registration = uow.registers.domicile_registration_by_id(registration_id)
        if registration is None:
            raise NotFound(f"no registration {registration_id}", field="registration")
        decided = decide(registration, approve, clock.now(), reason)
        uow.registers.save_domicile_registration(decided)
        uow.commit()
    return decided


def _registered_person(
    registers: Registers, auth_serial: str
) -> tuple[FamilyRegister, RegisterMember]:
    registration = check_registration(registers.domicile_registration(auth_serial.lower()))
    register = registers.family_register(registration.register_id)
    if register is None or register.closed_on is not None:
        raise NotFound("the registered family register is no longer kept here", field="register")
    member = next(
        (
            m
            for m in register.members
            if not m.removed
            and m.name == registration.member_name
            and m.birth_date == registration.member_birth_date
        ),
        None,
    )
    if member is None:
        raise NotFound("the registered person is no longer in the register", field="register")
    return register, member


def issue_from_domicile(
    *,
    uow: CityUnitOfWork,
    auth_serial: str,
    type: str,
    rules: StoreRules,
    clock: Clock,
    keep: Keep | None = None,
) -> IssuedCertificate:
    """A 戸籍 or 附票 for the person this certificate's approved registration names."""
    request = IssueRequest.parse(type=type, resident_code="")

    def store_rules(inner: CityUnitOfWork, now: datetime) -> None:
        check_offered(rules, request.type)
        check_hours(rules, request.type, now)

    def composer(inner: CityUnitOfWork, now: datetime) -> Document:
        register, member = _registered_person(inner.registers, auth_serial)
        return compose_for_domicile(
            inner.registers, inner.city(), request, register, member, now=now, issue_number=0
        )

    return issue_certificate(
        uow=uow,
        request=request,
        clock=clock,
        channel="store",
        precheck=store_rules,
        composer=composer,
        keep=keep,
    )
