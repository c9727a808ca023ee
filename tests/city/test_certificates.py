"""Counter certificates issued from the seeded city and read back from the PDF.

Every certificate type is issued with ``issue_certificate`` on both storage
backends and read back with poppler (``pdftotext -layout``, ``pdfinfo``,
``pdffonts``): the holder's facts must be printed, and what was not asked for
must not be.  Every refusal must name its reason and leave every table as it
was — no issuance logged, no number used.  One test drives the ``kofu issue``
command end to end.

pdftotext lays a full-width space out as a run of blanks, so texts are
compared with all whitespace removed (``flat``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from kofu.city.adapters import tables
from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.domain.certificates import IssueRequest
from kofu.city.domain.model import FamilyRegister, Resident
from kofu.city.services.events import apply_events
from kofu.city.services.issuance import IssuedCertificate, issue_certificate
from kofu.core.clock import JST, FixedClock
from kofu.core.db import make_engine
from kofu.core.era import wareki
from kofu.core.errors import InvalidInput, NotFound, Refused
from kofu.core.identifiers import ResidentCode

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=JST)
TODAY = NOW.date()
FISCAL_YEAR = 2026  # assessments of the new fiscal year are out from June
ISSUED_ON = "令和8年11月23日"
MAYOR = "深谷市長"
MAYOR_NAME = "鈴木　健二"  # the seeded 深谷市's mayor

Rows = dict[str, list[dict[str, Any]]]

STATEMENTS = {
    "juminhyo": "この写しは、住民票の原本と相違ないことを証明する。",
    "juminhyo-all": "この写しは、世帯全員の住民票の原本と相違ないことを証明する。",
    "johyo": "この写しは、住民票の除票の原本と相違ないことを証明する。",
    "inkan": "この写しは、登録されている印影と相違ないことを証明します。",
    "kazei": "上記のとおり相違ないことを証明します。",
    "shotoku": "上記のとおり相違ないことを証明します。",
    "koseki-zenbu": "これは、戸籍に記録されている事項の全部を証明した書面である。",
    "koseki-kojin": (
        "これは、戸籍中の一部の者について記録されている事項の全部を証明した書面である。"
    ),
    "fuhyo": "この写しは、戸籍の附票の原本と相違ないことを証明する。",
}
TITLES = {
    "juminhyo": "住民票の写し",
    "johyo": "住民票の除票の写し",
    "inkan": "印鑑登録証明書",
    "kazei": "課税証明書",
    "shotoku": "所得証明書",
    "koseki-zenbu": "戸籍全部事項証明書",
    "koseki-kojin": "戸籍個人事項証明書",
    "fuhyo": "戸籍の附票の写し",
}
OPTIONAL_LABELS = ("個人番号", "本籍", "筆頭者", "住民票コード", "世帯主", "続柄")


# --- reading PDFs back ------------------------------------------------------------------


def flat(text: str) -> str:
    """The text without any whitespace (full-width spaces included)."""
    return re.sub(r"\s+", "", text)


def _run(*args: str) -> str:
    done = subprocess.run(args, capture_output=True, text=True, encoding="utf-8", check=True)
    return done.stdout


@dataclass
class Pdf:
    """An issued PDF on disk, read with poppler."""

    path: Path

    def text(self, page: int | None = None) -> str:
        pages = ["-f", str(page), "-l", str(page)] if page else []
        return _run("pdftotext", "-layout", "-enc", "UTF-8", *pages, str(self.path), "-")

    def flat(self, page: int | None = None) -> str:
        return flat(self.text(page))

    @property
    def pages(self) -> int:
        match = re.search(r"^Pages:\s+(\d+)$", _run("pdfinfo", str(self.path)), re.M)
        assert match, "pdfinfo printed no page count"
        return int(match.group(1))

    def fonts(self) -> list[dict[str, str]]:
        """pdffonts' table: name, emb and sub of every font."""
        lines = _run("pdffonts", str(self.path)).splitlines()
        assert lines[1].startswith("---"), lines
        out = []
        for line in lines[2:]:
            cells = line.split()
            out.append({"name": cells[0], "emb": cells[-5], "sub": cells[-4]})
        return out


@dataclass
class Issued:
    certificate: IssuedCertificate
    pdf: Pdf

    @property
    def number(self) -> int:
        return self.certificate.issue_number


def assert_well_formed(issued: Issued) -> None:
    """Fonts embedded as subsets, page count agreed, and the certification block's lines."""
    fonts = issued.pdf.fonts()
    faces = {f["name"].split("+", 1)[-1] for f in fonts}
    assert {"IPAexMincho", "IPAexGothic"} <= faces, fonts
    for font in fonts:
        assert font["emb"] == "yes", f"font not embedded: {font}"
        assert font["sub"] == "yes", f"font not subset: {font}"
        assert re.fullmatch(r"[A-Z]{6}\+IPAex(Mincho|Gothic)", font["name"]), font
    pages = issued.pdf.pages
    assert issued.certificate.pages == pages
    last = issued.pdf.flat(pages)
    assert ISSUED_ON in last
    assert f"埼玉県{MAYOR}" in last
    assert flat(MAYOR_NAME) in last
    for page in range(1, pages + 1):  # the 発行番号 on every page (jyuki-stnd 5.5)
        label = f"発行番号20261123深谷市本庁1プリンタ001{issued.number:07d}{page}/{pages}"
        assert label in issued.pdf.flat(page)


# --- the seeded city as the counter sees it ---------------------------------------------


class Desk:
    """The counter (窓口) of the seeded city: issue, apply events, read records back."""

    def __init__(self, engine: Engine, directory: Path) -> None:
        self.engine = engine
        self.directory = directory
        self.clock = FixedClock(NOW)

    def issue(self, type: str, resident: str, channel: str = "counter", **options: Any) -> Issued:
        request = IssueRequest.parse(type=type, resident_code=resident, **options)
        issued = issue_certificate(
            uow=CityUnitOfWork(self.engine), request=request, clock=self.clock, channel=channel
        )
        path = self.directory / f"{issued.issue_number:07d}-{type}.pdf"
        path.write_bytes(issued.pdf)
        return Issued(issued, Pdf(path))

    def apply(self, *events: dict[str, Any]) -> None:
        apply_events(uow=CityUnitOfWork(self.engine), events=list(events), clock=self.clock)

    def record(self, code: str) -> Resident | None:
        with CityUnitOfWork(self.engine, today=self.clock.today()) as uow:
            return uow.registers.resident(code)

    def register(self, register_id: str) -> FamilyRegister:
        with CityUnitOfWork(self.engine) as uow:
            found = uow.registers.family_register(register_id)
        assert found is not None
        return found

    def log(self, number: int) -> dict[str, Any]:
        log = tables.issuance_log
        with self.engine.connect() as conn:
            row = conn.execute(select(log).where(log.c.issue_number == number)).one()
        return dict(row._mapping)


@dataclass(frozen=True)
class Cast:
    """Residents of the seeded city chosen for what each test needs."""

    holder: Resident  # Japanese adult: active seal, register kept here, taxed, 3-4 in household
    housemates: tuple[Resident, ...]  # the holder's household, holder excluded
    big_head: Resident  # head of a household of five or more
    big_household: tuple[Resident, ...]  # that household in household order, head first
    elsewhere: Resident  # Japanese, family register kept in another municipality
    unsealed: Resident  # an adult with no registered seal
    foreigner: Resident


def _pick(engine: Engine) -> Cast:
    with engine.connect() as conn:
        seals = set(
            conn.execute(
                select(tables.seals.c.resident_code).where(tables.seals.c.active.is_(True))
            ).scalars()
        )
        taxed = set(
            conn.execute(
                select(tables.tax_assessments.c.resident_code).where(
                    tables.tax_assessments.c.fiscal_year == FISCAL_YEAR
                )
            ).scalars()
        )
        protected = set(conn.execute(select(tables.support_measures.c.resident_code)).scalars())
        protected |= set(conn.execute(select(tables.issuance_blocks.c.resident_code)).scalars())
        registers = set(conn.execute(select(tables.family_registers.c.register_id)).scalars())
    with CityUnitOfWork(engine) as uow:
        everyone = [p for p in uow.registers.residents() if p.is_resident]
        households: dict[str, list[Resident]] = {}
        for p in everyone:
            households.setdefault(p.household_id, []).append(p)
        safe = {h for h, ms in households.items() if not {m.resident_code for m in ms} & protected}

        def distinct_names(members: list[Resident]) -> bool:
            """No member's name is part of another's, so absence checks mean something."""
            names = [flat(m.name) for m in members]
            return not any(
                a in b for i, a in enumerate(names) for j, b in enumerate(names) if i != j
            )

        def holder_ok(p: Resident) -> bool:
            if not (
                p.foreign is None
                and p.household_id in safe
                and p.age_on(TODAY) >= 20
                and p.resident_code in seals
                and p.resident_code in taxed
                and p.family_register_id in registers
                and 3 <= len(households[p.household_id]) <= 4
                and distinct_names(households[p.household_id])
            ):
                return False
            register = uow.registers.family_register(p.family_register_id or "")
            return (
                register is not None
                and len(register.members) >= 2
                and bool(register.member_for(p.resident_code))
            )

        holder = next(p for p in everyone if holder_ok(p))
        safe.discard(holder.household_id)  # everyone else comes from other households
        big_id = next(
            h for h, ms in households.items() if len(ms) >= 5 and h in safe and distinct_names(ms)
        )
        safe.discard(big_id)
        big = tuple(uow.registers.household(big_id))
        elsewhere = next(
            p
            for p in everyone
            if p.foreign is None
            and p.household_id in safe
            and p.family_register_id is None
            and p.domicile
        )
        unsealed = next(
            p
            for p in everyone
            if p.household_id in safe and p.age_on(TODAY) >= 20 and p.resident_code not in seals
        )
        foreigner = next(p for p in everyone if p.foreign is not None and p.household_id in safe)
    return Cast(
        holder=holder,
        housemates=tuple(
            m for m in households[holder.household_id] if m.resident_code != holder.resident_code
        ),
        big_head=big[0],
        big_household=big,
        elsewhere=elsewhere,
        unsealed=unsealed,
        foreigner=foreigner,
    )


@pytest.fixture
def counter(seeded_engine: Engine, tmp_path: Path) -> Desk:
    return Desk(seeded_engine, tmp_path)


@pytest.fixture
def cast(seeded_engine: Engine) -> Cast:
    return _pick(seeded_engine)


@pytest.fixture
def refused(counter: Desk, db_rows: Callable[[], Rows]) -> Callable[..., Refused]:
    """Issue, expecting a refusal with ``reason``; only the refusal itself is logged."""

    def check(reason: str, type: str, resident: str, **options: Any) -> Refused:
        before = db_rows()
        with pytest.raises(Refused) as caught:
            counter.issue(type, resident, **options)
        error = caught.value
        assert error.reason == reason, error.to_dict()
        assert error.message and error.message_ja
        assert error.to_dict()["reason"] == reason
        after = db_rows()
        logged = ("activity_log", "activity_daily")  # the refusal, counted by its reason
        assert {k: v for k, v in after.items() if k not in logged} == {
            k: v for k, v in before.items() if k not in logged
        }, "a refused issuance changed the registers"
        added = after["activity_log"][len(before["activity_log"]) :]
        assert [(r["kind"], r["channel"], r["cause"]) for r in added] == [
            ("certificate.refused", "counter", reason)
        ]
        return error

    return check


def _event(kind: str, resident: str, **fields: Any) -> dict[str, Any]:
    return {"kind": kind, "resident": resident, "effective": TODAY.isoformat(), **fields}


def assert_facts(text: str, person: Resident) -> None:
    """Name, date of birth in the era calendar, and address (whitespace-free text)."""
    assert flat(person.name) in text
    assert f"{wareki(person.birth_date)}生" in text
    assert flat(person.address.text) in text


def assert_nothing_optional(text: str, person: Resident) -> None:
    """A certificate asked without --with shows no number, code, domicile or head."""
    for label in OPTIONAL_LABELS:
        assert label not in text, f"{label} printed without being asked for"
    assert person.individual_number not in text
    assert person.resident_code not in text
    if person.domicile:
        assert flat(person.domicile) not in text


# --- every certificate type --------------------------------------------------------------


def test_residence_certificate_for_self(counter: Desk, cast: Cast) -> None:
    holder = cast.holder
    issued = counter.issue("juminhyo", holder.resident_code)
    assert_well_formed(issued)
    text = issued.pdf.flat()
    assert TITLES["juminhyo"] in text
    assert STATEMENTS["juminhyo"] in text
    assert STATEMENTS["juminhyo-all"] not in text
    assert_facts(text, holder)
    assert flat(holder.kana) in text
    assert holder.sex.ja in text
    assert f"住民となった年月日{wareki(holder.became_resident_on)}" in text
    assert_nothing_optional(text, holder)
    for other in cast.housemates:
        assert flat(other.name) not in text, "a household member not asked for was printed"
    assert issued.certificate.subjects == (holder.resident_code,)
    assert issued.pdf.pages == 1


def test_every_item_is_printed_only_when_asked(counter: Desk, cast: Cast) -> None:
    holder = cast.holder
    everything = counter.issue(
        "juminhyo",
        holder.resident_code,
        items=["head", "domicile", "individual_number", "resident_code"],
    )
    assert_well_formed(everything)
    text = everything.pdf.flat()
    assert f"個人番号{holder.individual_number}" in text
    assert f"住民票コード{holder.resident_code}" in text
    assert f"本籍{flat(holder.domicile or '')}" in text
    assert f"筆頭者{flat(holder.domicile_head or '')}" in text
    assert f"世帯主{flat(holder.household_head_name)}" in text
    assert f"続柄{holder.relationship}" in text

    shown = {
        "individual_number": [f"個人番号{holder.individual_number}"],
        "resident_code": [f"住民票コード{holder.resident_code}"],
        "domicile": ["本籍", "筆頭者", flat(holder.domicile or "")],
        "head": ["世帯主", "続柄"],
    }
    for item, wanted in shown.items():
        text = counter.issue("juminhyo", holder.resident_code, items=[item]).pdf.flat()
        for piece in wanted:
            assert piece in text, f"--with {item} did not print {piece}"
        for other, pieces in shown.items():
            if other != item:
                for piece in pieces:
                    assert piece not in text, f"--with {item} also printed {piece}"
        if item != "individual_number":
            assert holder.individual_number not in text


def test_residence_certificate_for_chosen_members(counter: Desk, cast: Cast) -> None:
    chosen, left_out = cast.housemates[0], cast.housemates[1:]
    codes = [cast.holder.resident_code, chosen.resident_code]
    issued = counter.issue("juminhyo", cast.holder.resident_code, members=codes)
    text = issued.pdf.flat()
    assert STATEMENTS["juminhyo"] in text
    assert flat(cast.holder.name) in text and flat(chosen.name) in text
    for other in left_out:
        assert flat(other.name) not in text
    assert sorted(issued.certificate.subjects) == sorted(codes)

    whole = counter.issue("juminhyo", cast.holder.resident_code, household="all")
    text = whole.pdf.flat()
    assert STATEMENTS["juminhyo-all"] in text
    for member in (cast.holder, *cast.housemates):
        assert flat(member.name) in text


def test_seal_certificate(counter: Desk, cast: Cast) -> None:
    holder = cast.holder
    with CityUnitOfWork(counter.engine) as uow:
        seal = uow.registers.seal(holder.resident_code)
    assert seal is not None and seal.active
    issued = counter.issue("inkan", holder.resident_code)
    assert_well_formed(issued)
    text = issued.pdf.flat()
    assert TITLES["inkan"] in text
    assert STATEMENTS["inkan"] in text
    assert_facts(text, holder)
    assert f"登録番号{seal.registration_number}" in text
    assert "印影" in text
    assert_nothing_optional(text, holder)


@pytest.mark.parametrize("kind", ["kazei", "shotoku"])
def test_tax_and_income_certificates(counter: Desk, cast: Cast, kind: str) -> None:
    holder = cast.holder
    with CityUnitOfWork(counter.engine) as uow:
        assessment = uow.registers.tax(holder.resident_code, FISCAL_YEAR)
    assert assessment is not None
    issued = counter.issue(kind, holder.resident_code)
    assert_well_formed(issued)
    text = issued.pdf.flat()
    assert TITLES[kind] in text
    assert STATEMENTS[kind] in text
    assert_facts(text, holder)
    assert "令和8年度（令和7年中の所得）" in text
    assert f"合計所得金額{assessment.total_income:,}円" in text
    assert f"所得控除の合計{assessment.total_deductions:,}円" in text
    tax_lines = [
        f"市町村民税{assessment.municipal_tax:,}円",
        f"道府県民税{assessment.prefectural_tax:,}円",
    ]
    for line in tax_lines:
        assert (line in text) is (kind == "kazei"), line
    assert_nothing_optional(text, holder)

    earlier = counter.issue(kind, holder.resident_code, fiscal_year=FISCAL_YEAR - 1).pdf.flat()
    assert "令和7年度（令和6年中の所得）" in earlier


@pytest.mark.parametrize("kind", ["koseki-zenbu", "koseki-kojin", "fuhyo"])
def test_family_register_certificates(counter: Desk, cast: Cast, kind: str) -> None:
    holder = cast.holder
    register = counter.register(holder.family_register_id or "")
    mine = register.member_for(holder.resident_code)
    assert mine is not None
    issued = counter.issue(kind, holder.resident_code)
    assert_well_formed(issued)
    text = issued.pdf.flat()
    assert TITLES[kind] in text
    assert STATEMENTS[kind] in text
    assert f"本籍{flat(register.domicile)}" in text
    assert f"氏名{flat(register.head_name)}" in text
    assert f"【編製日】{wareki(register.made_on)}" in text
    assert "個人番号" not in text and holder.individual_number not in text
    assert "住民票コード" not in text and holder.resident_code not in text
    others = [m for m in register.members if m is not mine]
    if kind == "fuhyo":
        family = register.head_name.split("　", 1)[0]
        for member in register.members:
            assert flat(f"{family}　{member.name}") in text
            for line in member.attachment:
                assert flat(line.address.text) in text
    else:
        assert f"【名】{mine.name}" in text
        assert f"【生年月日】{wareki(mine.birth_date)}" in text
        for other in others:
            shown = f"【名】{other.name}【生年月日】{wareki(other.birth_date)}" in text
            assert shown is (kind == "koseki-zenbu"), other.name


def test_removed_record_certificates(
    counter: Desk, cast: Cast, refused: Callable[..., Refused]
) -> None:
    deceased, mover = cast.holder, cast.elsewhere
    counter.apply(
        _event("death", deceased.resident_code),
        _event(
            "move_out",
            mover.resident_code,
            destination={
                "prefecture": "東京都",
                "city": "千代田区",
                "town": "丸の内",
                "block": "一丁目1番",
            },
        ),
    )
    errors = [refused("removed_record", "juminhyo", p.resident_code) for p in (deceased, mover)]
    assert all("johyo" in error.message for error in errors)
    assert errors[0] is not errors[1], "each refusal is its own error, with its own traceback"
    refused("removed_record", "inkan", deceased.resident_code)

    gone = counter.issue("johyo", deceased.resident_code)
    assert_well_formed(gone)
    text = gone.pdf.flat()
    assert TITLES["johyo"] in text
    assert STATEMENTS["johyo"] in text
    assert_facts(text, deceased)
    assert f"消除事由死亡{ISSUED_ON}" in text
    assert_nothing_optional(text, deceased)

    moved = counter.issue("johyo", mover.resident_code, items=["domicile"]).pdf.flat()
    assert_facts(moved, mover)
    assert f"消除事由転出{ISSUED_ON}" in moved
    assert "転出先東京都千代田区丸の内一丁目1番" in moved
    assert f"本籍{flat(mover.domicile or '')}" in moved

    still_here = next(iter(cast.housemates))
    refused("not_removed", "johyo", still_here.resident_code)
    # the deceased is no longer in the household's certificate
    household = counter.issue("juminhyo", still_here.resident_code, household="all")
    assert flat(deceased.name) not in household.pdf.flat()
    assert deceased.resident_code not in household.certificate.subjects


def test_every_issue_is_numbered_and_logged(counter: Desk, cast: Cast) -> None:
    first = counter.issue("juminhyo", cast.holder.resident_code, items=["individual_number"])
    second = counter.issue("inkan", cast.holder.resident_code)
    assert second.number == first.number + 1
    for issued, kind in ((first, "juminhyo"), (second, "inkan")):
        row = counter.log(issued.number)
        assert row["certificate"] == kind
        assert row["channel"] == "counter"
        assert row["resident_code"] == cast.holder.resident_code
        assert row["content_digest"] == hashlib.sha256(issued.certificate.pdf).hexdigest()
        assert row["content_digest"] == issued.certificate.content_digest
        detail = json.loads(row["detail"])
        assert detail["subjects"] == [cast.holder.resident_code]
    assert json.loads(counter.log(first.number)["detail"])["items"] == ["individual_number"]
    with counter.engine.connect() as conn:
        value = conn.execute(
            select(tables.counters.c.value).where(tables.counters.c.name == "issue")
        ).scalar_one()
    assert value == second.number


# --- pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("items", [[], ["head", "domicile", "individual_number", "resident_code"]])
def test_large_household_runs_onto_more_pages(counter: Desk, cast: Cast, items: list[str]) -> None:
    members = cast.big_household
    assert len(members) > 4
    issued = counter.issue("juminhyo", cast.big_head.resident_code, household="all", items=items)
    assert_well_formed(issued)
    pages = issued.pdf.pages
    assert pages > 1
    texts = [issued.pdf.flat(n) for n in range(1, pages + 1)]
    statement = STATEMENTS["juminhyo-all"]
    for n, text in enumerate(texts, start=1):
        assert TITLES["juminhyo"] in text, f"page {n} has no title"
        assert f"住所{flat(cast.big_head.address.text)}" in text, f"page {n} has no address"
        assert f"{n}/{pages}" in text, f"page {n} is not numbered {n}/{pages}"
        assert (statement in text) is (n == pages), f"certification on page {n} of {pages}"
        assert (ISSUED_ON in text) is (n == pages)
        assert f"発行番号{issued.certificate.issue_label.replace(' ', '')}{n}/{pages}" in text
    whole = "".join(texts)
    for member in members:
        assert whole.count(flat(member.name) + "（") == 1, member.name
    order = [whole.index(flat(m.name) + "（") for m in members]
    assert order == sorted(order), "members are not in household order"
    assert set(issued.certificate.subjects) == {m.resident_code for m in members}


# --- refusals ----------------------------------------------------------------------------


def test_support_measure_subject_gets_nothing(
    counter: Desk, cast: Cast, refused: Callable[..., Refused]
) -> None:
    holder, housemate = cast.holder, cast.housemates[0]
    counter.apply(_event("support_measure", holder.resident_code, measure="DV"))
    for kind in ("juminhyo", "inkan", "kazei", "koseki-zenbu"):
        error = refused("support_measure", kind, holder.resident_code)
        assert "支援措置" in error.message_ja
    # a household certificate asked by another member would show the subject too
    refused("support_measure", "juminhyo", housemate.resident_code, household="all")


def test_support_measure_comes_before_every_other_refusal(
    counter: Desk, cast: Cast, refused: Callable[..., Refused]
) -> None:
    """No other reason may tell the asker that a protected person moved away."""
    fled = cast.elsewhere
    counter.apply(
        _event("support_measure", fled.resident_code),
        _event(
            "move_out", fled.resident_code, destination={"prefecture": "北海道", "city": "札幌市"}
        ),
    )
    for kind in ("juminhyo", "johyo", "inkan", "koseki-zenbu", "fuhyo"):
        refused("support_measure", kind, fled.resident_code)
    refused("support_measure", "kazei", fled.resident_code, fiscal_year=2010)


def test_attachment_shows_no_protected_member(
    counter: Desk, cast: Cast, refused: Callable[..., Refused]
) -> None:
    """The 附票 prints every member's address, so a protected member stops it."""
    holder = cast.holder
    register = counter.register(holder.family_register_id or "")
    others = [
        m.resident_code
        for m in register.members
        if m.resident_code and m.resident_code != holder.resident_code
    ]
    assert others, "the holder's register has another member with a resident record"
    issued = counter.issue("fuhyo", holder.resident_code)
    assert set(issued.certificate.subjects) == {holder.resident_code, *others}
    counter.apply(_event("support_measure", others[0]))
    refused("support_measure", "fuhyo", holder.resident_code)


def test_seeded_support_measure_subject_is_refused(
    seeded_engine: Engine, refused: Callable[..., Refused]
) -> None:
    with seeded_engine.connect() as conn:
        codes = list(conn.execute(select(tables.support_measures.c.resident_code)).scalars())
    assert codes, "the seeded city has a support-measure subject"
    refused("support_measure", "juminhyo", codes[0])


def test_issuance_block_and_its_releases(
    counter: Desk, cast: Cast, refused: Callable[..., Refused]
) -> None:
    code = cast.holder.resident_code
    counter.apply(_event("issuance_block", code, reason="不正請求の疑い"))
    refused("issuance_blocked", "juminhyo", code)
    refused("issuance_blocked", "inkan", code)

    counter.apply(
        _event("issuance_block_temporary_release", code, until="2026-11-23T09:30:00+09:00")
    )
    refused("issuance_blocked", "juminhyo", code)  # that release is already over

    counter.apply(
        _event("issuance_block_temporary_release", code, until="2026-11-23T12:00:00+09:00")
    )
    assert counter.issue("juminhyo", code).certificate.resident_code == code
    with pytest.raises(Refused) as caught:  # a temporary release is for the counter only
        counter.issue("juminhyo", code, channel="store")
    assert caught.value.reason == "issuance_blocked"

    counter.apply(_event("issuance_block", cast.housemates[0].resident_code, reason="本人申出"))
    refused("issuance_blocked", "juminhyo", code, household="all")

    counter.apply(_event("issuance_block_release", code))
    counter.issue("juminhyo", code, channel="store")
    counter.issue("inkan", code)


def test_temporary_release_until_an_instant_in_another_zone(
    counter: Desk, cast: Cast, refused: Callable[..., Refused]
) -> None:
    """The release instant is compared as an instant, whatever zone it is written in."""
    code = cast.holder.resident_code
    counter.apply(_event("issuance_block", code, reason="不正請求の疑い"))
    counter.apply(_event("issuance_block_temporary_release", code, until="2026-11-23T03:30:00Z"))
    counter.issue("juminhyo", code)  # 12:30 JST, still released at 10:00 JST
    counter.apply(
        _event("issuance_block_temporary_release", code, until="2026-11-23T10:30:00+10:00")
    )
    refused("issuance_blocked", "juminhyo", code)  # 09:30 JST, over by 10:00 JST


def test_no_registered_seal(counter: Desk, cast: Cast, refused: Callable[..., Refused]) -> None:
    refused("no_seal", "inkan", cast.unsealed.resident_code)
    counter.apply(_event("seal_abolish", cast.holder.resident_code))
    refused("no_seal", "inkan", cast.holder.resident_code)


@pytest.mark.parametrize("kind", ["kazei", "shotoku"])
def test_no_tax_record_for_the_year(cast: Cast, refused: Callable[..., Refused], kind: str) -> None:
    error = refused("no_tax_record", kind, cast.holder.resident_code, fiscal_year=2010)
    assert "2010" in error.message and "2010年度" in error.message_ja


@pytest.mark.parametrize("kind", ["koseki-zenbu", "koseki-kojin", "fuhyo"])
def test_family_register_kept_elsewhere(
    cast: Cast, refused: Callable[..., Refused], kind: str
) -> None:
    refused("domicile_elsewhere", kind, cast.elsewhere.resident_code)


def test_foreign_resident_has_no_family_register(
    counter: Desk, cast: Cast, refused: Callable[..., Refused]
) -> None:
    person = cast.foreigner
    assert person.foreign is not None
    refused("no_family_register", "koseki-zenbu", person.resident_code)
    text = counter.issue("juminhyo", person.resident_code, items=["foreign"]).pdf.flat()
    assert flat(person.name) in text
    assert f"国籍・地域{flat(person.foreign.nationality)}" in text
    assert f"在留カードの番号{person.foreign.residence_card_number}" in text
    plain = counter.issue("juminhyo", person.resident_code).pdf.flat()
    assert person.foreign.residence_card_number not in plain


def test_unknown_resident_and_bad_check_digit(
    counter: Desk, cast: Cast, db_rows: Callable[[], Rows]
) -> None:
    before = db_rows()
    unknown = next(
        code
        for base in range(10**9, 10**9 + 100)
        if counter.record(code := ResidentCode.from_base(f"{base:010d}")) is None
    )
    with pytest.raises(NotFound) as missing:
        counter.issue("juminhyo", unknown)
    assert unknown in missing.value.message

    code = cast.holder.resident_code
    typo = code[:-1] + str((int(code[-1]) + 1) % 10)
    with pytest.raises(InvalidInput) as bad:
        counter.issue("juminhyo", typo)
    assert bad.value.field == "resident_code"
    assert "check digit" in bad.value.message
    assert db_rows() == before


@pytest.mark.parametrize(
    ("options", "field", "named"),
    [
        ({"type": "inkan", "items": ["individual_number"]}, "with", "individual_number"),
        ({"type": "kazei", "items": ["head", "domicile"]}, "with", "domicile"),
        ({"type": "koseki-zenbu", "items": ["resident_code"]}, "with", "resident_code"),
        ({"type": "juminhyo", "items": ["blood_type"]}, "with", "blood_type"),
        ({"type": "inkan", "household": "all"}, "household", "household"),
        ({"type": "fuhyo", "members": ["00061671806"]}, "household", "household"),
        ({"type": "inkan", "history": True}, "history", "history"),
        ({"type": "juminhyo", "fiscal_year": 2025}, "year", "fiscal year"),
        ({"type": "juminhyo", "household": "everyone"}, "household", "everyone"),
        ({"type": "juminhyo", "household": "all", "members": ["x"]}, "members", "--members"),
        ({"type": "passport"}, "type", "passport"),
    ],
)
def test_options_a_certificate_does_not_allow(
    options: dict[str, Any], field: str, named: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        IssueRequest.parse(resident_code="00061671806", **options)
    assert caught.value.field == field
    assert named in caught.value.message


def test_options_refused_before_anything_is_written(
    counter: Desk, cast: Cast, db_rows: Callable[[], Rows]
) -> None:
    before = db_rows()
    with pytest.raises(InvalidInput, match="not a member of the same household"):
        counter.issue(
            "juminhyo",
            cast.holder.resident_code,
            members=[cast.holder.resident_code, cast.big_head.resident_code],
        )
    with pytest.raises(InvalidInput, match="本籍"):
        counter.issue("juminhyo", cast.foreigner.resident_code, items=["domicile"])
    assert db_rows() == before


def test_planned_move_out_takes_effect_on_its_day(counter: Desk, cast: Cast) -> None:
    """転出予定: until the planned day the person is a resident with a seal; then a 除票."""
    code = cast.holder.resident_code
    counter.apply(
        {
            "kind": "move_out",
            "resident": code,
            "effective": "2026-12-10",
            "notified": TODAY.isoformat(),
            "destination": {"prefecture": "東京都", "city": "千代田区"},
        }
    )
    assert code in counter.issue("juminhyo", code).certificate.subjects  # a resident until the day
    assert counter.issue("inkan", code).pdf.flat()  # the seal lasts until the move
    counter.clock = FixedClock(datetime(2026, 12, 10, 9, 0, tzinfo=JST))
    with pytest.raises(Refused) as refused:
        counter.issue("juminhyo", code)
    assert refused.value.reason == "removed_record"
    with pytest.raises(Refused) as no_seal:
        counter.issue("inkan", code)
    assert no_seal.value.reason in ("removed_record", "no_seal")
    johyo = counter.issue("johyo", code).pdf.flat()
    assert "転出" in johyo and "千代田区" in johyo


# --- the command --------------------------------------------------------------------------


def _kofu(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("kofu")), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
    )


def _logged(engine: Engine) -> list[int]:
    log = tables.issuance_log
    with engine.connect() as conn:
        return list(conn.execute(select(log.c.issue_number).order_by(log.c.issue_number)).scalars())


@pytest.mark.slow
def test_issue_command(tmp_path: Path) -> None:
    city = "032051"  # 岩手県花巻市
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOFU_")}
    env |= {"KOFU_HOME": str(tmp_path / "home"), "KOFU_NOW": "2026-11-23T10:00:00+09:00"}
    seeded = _kofu(env, "seed", "--city", city, "--residents", "200", "--json")
    assert seeded.returncode == 0, seeded.stderr
    assert json.loads(seeded.stdout.splitlines()[-1])["residents"] == 200

    engine = make_engine(f"sqlite:///{tmp_path / 'home' / f'city_{city}.sqlite'}")
    try:
        with CityUnitOfWork(engine) as uow:
            person = next(
                p
                for p in uow.registers.residents()
                if p.is_resident
                and p.foreign is None
                and p.age_on(TODAY) >= 20
                and not uow.registers.support_measures(p.resident_code)
                and not uow.registers.issuance_blocks(p.resident_code)
            )
        logged = _logged(engine)
    finally:
        engine.dispose()

    out = tmp_path / "out" / "juminhyo.pdf"
    done = _kofu(
        env,
        "issue",
        "--city", city,
        "--resident", person.resident_code,
        "--type", "juminhyo",
        "--with", "individual_number",
        "--json",
        "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1
    summary = json.loads(lines[0])
    pdf = out.read_bytes()
    assert summary == {
        "file": str(out),
        "certificate": "juminhyo",
        "issue_number": summary["issue_number"],
        "resident_code": person.resident_code,
        "subjects": [person.resident_code],
        "content_digest": hashlib.sha256(pdf).hexdigest(),
        "bytes": len(pdf),
        "issue_label": f"20261123 花巻市 本庁1 プリンタ001 {summary['issue_number']:07d}",
        "warnings": [],
        "preview": False,
        "copies": [{"file": str(out), "issue_number": summary["issue_number"], "pages": 1}],
    }
    assert isinstance(summary["issue_number"], int) and summary["issue_number"] >= 1
    text = Pdf(out).flat()
    assert TITLES["juminhyo"] in text and STATEMENTS["juminhyo"] in text
    assert_facts(text, person)
    assert f"個人番号{person.individual_number}" in text
    assert "岩手県花巻市長" in text and ISSUED_ON in text
    assert f"発行番号20261123花巻市本庁1プリンタ001{summary['issue_number']:07d}1/1" in text

    nothing = tmp_path / "out" / "kazei.pdf"
    refusal = _kofu(
        env,
        "issue",
        "--city", city,
        "--resident", person.resident_code,
        "--type", "kazei",
        "--year", "2010",
        "--json",
        "--out", str(nothing),
    )  # fmt: skip
    assert refusal.returncode == 1
    assert "error:" in refusal.stderr and "no tax record for fiscal year 2010" in refusal.stderr
    assert "Traceback" not in refusal.stderr
    assert json.loads(refusal.stdout)["reason"] == "no_tax_record"
    assert not nothing.exists()

    wrong = _kofu(
        env,
        "issue",
        "--city", city,
        "--resident", person.resident_code,
        "--type", "inkan",
        "--with", "individual_number",
        "--out", str(nothing),
    )  # fmt: skip
    assert wrong.returncode == 2
    assert "individual_number" in wrong.stderr
    assert not nothing.exists()

    engine = make_engine(f"sqlite:///{tmp_path / 'home' / f'city_{city}.sqlite'}")
    try:
        assert _logged(engine) == [*logged, summary["issue_number"]]  # the refusals logged nothing
    finally:
        engine.dispose()
