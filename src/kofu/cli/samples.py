"""What ``kofu demo`` does: seed the demo cities once and issue a sample of every certificate."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.domain.certificates import CertificateType, IssueRequest
from kofu.city.services.events import apply_events
from kofu.city.services.issuance import issue_certificate
from kofu.city.services.seeding import domicile_elsewhere, is_seeded, seed_city
from kofu.city.store import city_engine
from kofu.cli.common import clock, emit, settings

__all__ = ["DEMO_CITIES", "ensure_domiciled_demo", "ensure_seeded", "issue_samples"]

DEMO_CITIES = ("112186", "032051")  # 埼玉県深谷市, 岩手県花巻市 — the two evaluation sheets' cities

# (type, household, items) of each sample
_SAMPLES: tuple[tuple[CertificateType, str | None, tuple[str, ...]], ...] = (
    (CertificateType.JUMINHYO, "all", ("head", "domicile")),
    (CertificateType.INKAN, None, ()),
    (CertificateType.KAZEI, None, ()),
    (CertificateType.SHOTOKU, None, ()),
    (CertificateType.KOSEKI_ZENBU, None, ()),
    (CertificateType.KOSEKI_KOJIN, None, ()),
    (CertificateType.FUHYO, None, ()),
    (CertificateType.JOHYO, None, ()),
)


def ensure_seeded(code: str, residents: int) -> None:
    engine = city_engine(settings(), code)
    if not is_seeded(engine, clock().today()):
        typer.echo(f"seeding {code} with {residents:,} residents …", err=True)
        seed_city(engine=engine, code=code, residents=residents, seed=1, today=clock().today())
    from kofu.evaluation.services.activity import demo_history

    demo_history(engine, code, clock())  # years of past activity for the evaluation sheets, once


def ensure_domiciled_demo() -> dict[str, str]:
    """A Fukaya resident whose family register is in Hanamaki, made once and remembered.

    The demo of 本籍地利用登録: this person's card is issued by Fukaya and
    gets 戸籍 documents from Hanamaki once registered there.
    """
    remembered = settings().home / "demo-domicile.json"
    if remembered.exists():
        return dict(json.loads(remembered.read_text(encoding="utf-8")))
    residence, domicile = DEMO_CITIES
    today = clock().today()
    person, register = domicile_elsewhere(
        residence=CityUnitOfWork(city_engine(settings(), residence), today=today),
        domicile=CityUnitOfWork(city_engine(settings(), domicile), today=today),
        today=today,
    )
    facts = {
        "city": residence,
        "resident_code": person.resident_code,
        "holder": person.name,
        "domicile_city": domicile,
        "domicile": register.domicile,
        "head": register.head_name,
    }
    remembered.write_text(json.dumps(facts, ensure_ascii=False), encoding="utf-8")
    return facts


def _removed_person(code: str) -> str:
    """A 除票 to show: the first removed record, or a move-out made now for the demo."""
    engine = city_engine(settings(), code)
    with CityUnitOfWork(engine, today=clock().today()) as uow:
        removed = uow.registers.sample_holder(removed=True)
        if removed is not None:
            return removed.resident_code
        people = uow.registers.residents(limit=1)
    person = people[0]
    event = {
        "kind": "move_out",
        "resident": person.resident_code,
        "effective": clock().today().isoformat(),
        "destination": {
            "prefecture": "東京都",
            "city": "豊島区",
            "town": "東池袋",
            "block": "1番地",
        },
    }
    apply_events(uow=CityUnitOfWork(engine, today=clock().today()), events=[event], clock=clock())
    return person.resident_code


# the evaluation sheets of the two seed documents, from the demo history (kofu evaluation)
_SHEETS = (("112186", "16231", 2023), ("032051", "124750", 2016))


def _evaluation_sample(out: Path, code: str, programme: str, year: int) -> Path:
    """The programme's evaluation sheet of ``year`` as PDF (and HTML beside it)."""
    from kofu.evaluation.adapters.graphs import sheet_graphs
    from kofu.evaluation.adapters.html import render_html
    from kofu.evaluation.adapters.pdf import render_pdf
    from kofu.evaluation.services.sheets import sheet

    engine = city_engine(settings(), code)
    data = sheet(engine, settings().home, code, programme, year, clock().today())
    graphs = sheet_graphs(data)
    path = out / code / f"evaluation-{programme}-{year}.pdf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(render_pdf(data, graphs))
    path.with_suffix(".html").write_text(render_html(data, graphs), encoding="utf-8")
    return path


def issue_samples(out: Path, residents: int, as_json: bool) -> None:
    """Seed each demo city unless it is seeded, then write one of each certificate under ``out``."""
    for code in DEMO_CITIES:
        ensure_seeded(code, residents)
        engine = city_engine(settings(), code)
        with CityUnitOfWork(engine, today=clock().today()) as uow:
            holder = uow.registers.sample_holder()
        assert holder is not None, "a seeded city always has a sample holder"
        removed = _removed_person(code)
        for kind, household, items in _SAMPLES:
            who = removed if kind is CertificateType.JOHYO else holder.resident_code
            request = IssueRequest.parse(
                type=kind.value, resident_code=who, household=household, items=items
            )
            issued = issue_certificate(
                uow=CityUnitOfWork(engine, today=clock().today()),
                request=request,
                clock=clock(),
            )
            path = out / code / f"{kind.value}.pdf"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(issued.pdf)
            if as_json:
                emit(
                    {
                        "city": code,
                        "certificate": kind.value,
                        "file": str(path.resolve()),
                        "resident_code": who,
                        "issue_number": issued.issue_number,
                    }
                )
            else:
                typer.echo(f"{code}  {kind.label:<14} {path.resolve()}")
    store = _store_sample(out)
    if as_json:
        emit(
            {"city": DEMO_CITIES[1], "certificate": "juminhyo", "file": str(store), "stamped": True}
        )
    for code, programme, year in _SHEETS:
        sheet = _evaluation_sample(out, code, programme, year)
        if as_json:
            emit({"city": code, "evaluation": programme, "fiscal_year": year, "file": str(sheet)})
        else:
            typer.echo(f"{code}  評価表 {year}年度   {sheet.resolve()}")
    else:
        typer.echo(f"samples of every certificate of both demo cities are in {out.resolve()}")
        typer.echo(f"a store-style copy with the center's signed QR code: {store}")
        typer.echo(f"check it with: .venv/bin/kofu verify {store}")


def _store_sample(out: Path) -> Path:
    """The Hanamaki residence certificate as a store prints it: signed QR and 「複写」 layer."""
    from kofu.center.adapters.signing import center_signer
    from kofu.center.services.anti_forgery import protect
    from kofu.core.holder import holder_digest

    source = out / DEMO_CITIES[1] / "juminhyo.pdf"
    engine = city_engine(settings(), DEMO_CITIES[1])
    with CityUnitOfWork(engine, today=clock().today()) as uow:
        holder = uow.registers.sample_holder()
    assert holder is not None
    target = out / DEMO_CITIES[1] / "store-juminhyo.pdf"
    target.write_bytes(
        protect(
            source.read_bytes(),
            document_id="demo-store-juminhyo",
            city=DEMO_CITIES[1],
            type="juminhyo",
            issued_at=clock().now(),
            holder_digest=holder_digest(DEMO_CITIES[1], holder.resident_code),
            holder_name=holder.name,
            issue_number=0,
            signer=center_signer(settings().home),
        )
    )
    return target.resolve()
