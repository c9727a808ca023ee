"""Rendering many certificates: the form's own words embedded the same way in each.

What the renderer keeps from one document to the next (the font's tables, the
subset of the words every certificate prints, its compressed stream) must
never carry one person's characters into another's document, and drawing in
several threads at once must give the same bytes as drawing one at a time.
"""

from __future__ import annotations

import io
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.domain.certificates import Document, IssueRequest
from kofu.city.domain.issuance import compose
from kofu.city.services.layout import certificate_of
from kofu.city.services.seeding import seed_city
from kofu.core.clock import JST
from kofu.core.db import make_engine, migrate
from kofu.documents.model import (
    Certificate,
    Certification,
    Household,
    Paragraph,
    SealImpression,
    Table,
)
from kofu.documents.render import render as draw_certificate
from kofu.documents.render import render_plain as draw_plain

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=JST)


def render(doc: Document) -> bytes:
    """The city's document as the city draws it: mapped to the renderer's own model first."""
    return draw_certificate(certificate_of(doc))


def render_plain(doc: Document) -> bytes:
    return draw_plain(certificate_of(doc))


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> list[Document]:
    """Residence certificates of twelve residents of a small seeded city."""
    path = tmp_path_factory.mktemp("render") / "city.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine, "city")
    seed_city(engine=engine, code="112186", residents=80, seed=3, today=date(2026, 11, 23))
    docs: list[Document] = []
    with CityUnitOfWork(engine) as uow:
        city = uow.city()
        for person in uow.registers.residents():
            if person.status != "resident" or len(docs) == 12:
                continue
            req = IssueRequest.parse(type="juminhyo", resident_code=person.resident_code)
            docs.append(compose(uow.registers, city, req, now=NOW, issue_number=len(docs) + 1))
    engine.dispose()
    return docs


def _font_programs(pdf: bytes) -> dict[str, bytes]:
    """Each embedded font subset's program, by its base font name less the subset tag."""
    out = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            name = str(font["/BaseFont"]).split("+", 1)[1] + str(font["/BaseFont"])[:7]
            out[name] = font["/FontDescriptor"]["/FontFile2"].get_object().get_data()
    return out


def _text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_the_forms_words_make_the_same_subset_and_each_person_their_own(
    certificates: list[Document], tmp_path: Path
) -> None:
    first, second = certificates[0], certificates[1]
    a, b = _font_programs(render(first)), _font_programs(render(second))
    shared = {name for name in a if name in b and a[name] == b[name]}
    mincho_shared = [name for name in shared if "Mincho" in name]
    assert mincho_shared, "the Mincho subset of the form's words differs between two people"
    assert any(a[n] != b.get(n) for n in a if "Mincho" in n), "no subset of the person's own"
    for doc in (first, second):
        text = "".join(_text(render(doc), tmp_path).split())
        assert "".join(doc.holder.name.split()) in text
        assert "令和8年11月23日" in text and "証明する" in text
    first_text = "".join(_text(render(first), tmp_path).split())
    assert "".join(second.holder.name.split()) not in first_text


def test_drawing_in_threads_gives_the_bytes_of_drawing_one_at_a_time(
    certificates: list[Document],
) -> None:
    alone = [render(doc) for doc in certificates]
    with ThreadPoolExecutor(max_workers=6) as pool:
        together = list(pool.map(render, certificates * 3))
    assert together == alone * 3


def test_reserving_the_forms_words_costs_the_file_little(certificates: list[Document]) -> None:
    """Only the words a form prints are reserved: within a fifth of drawing without reserving."""
    for doc in certificates[:4]:
        assert len(render(doc)) < 1.2 * len(render_plain(doc))


def test_the_renderer_draws_its_own_model_without_any_register(tmp_path: Path) -> None:
    """A certificate made by hand, no city behind it: every kind of block prints what it says."""
    members = tuple(
        Table((("氏名", f"見本　{given}"), ("生年月日", "令和元年5月1日生")), label_w=42, size=9)
        for given in ("一郎", "二郎", "三郎", "四郎", "五郎")
    )
    cert = Certificate(
        title="見本証明書",
        form_words="生",
        body=(
            Paragraph("見本の段落"),
            SealImpression("見本"),
            Household(Table((("住所", "見本県見本市1番地"),)), members),
            Table((("備考", "以下余白"),), label_w=60, caption="見出し"),
        ),
        certification=Certification(
            statement="これは見本である。",
            issued_on=date(2026, 11, 23),
            prefecture="見本県",
            mayor_title="見本市長",
            mayor_name="見本　花子",
            city_code="999999",
            issue_number=12,
        ),
    )
    pdf = draw_certificate(cert)
    text = "".join(_text(pdf, tmp_path).split())
    for words in ("見本証明書", "見本の段落", "印影", "見本五郎", "見出し", "これは見本である。"):
        assert words in text, words
    assert "第0000012号" in text and "令和8年11月23日" in text
    assert text.count("見本県見本市1番地") == 2  # the fifth member on a second sheet, header again
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 2
