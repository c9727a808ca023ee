"""Forgeries of a store-issued certificate, each refused with its reason; genuine scans accepted.

Two residents' real residence certificates are rendered by the city's
renderer and stamped by the center's anti-forgery layer.  Each forgery below
is made the way a forger with the genuine file and our own tools would make
it.  A PDF is genuine only if what a reader sees is what was signed: the
city's bytes the payload's digest covers, followed by exactly the center's
layer for that code, and nothing else.  A scan or a photo carries no bytes
to compare, so for an image only the signed payload can be checked (see the
image tests at the end and docs/cli.md).
"""

from __future__ import annotations

import io
import random
import re
import subprocess
import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import base45
import cbor2
import pytest
import segno
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from PIL import Image
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from kofu.center.adapters.signing import center_signer, published_certificates, published_folder
from kofu.center.services.anti_forgery import protect
from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.domain.certificates import IssueRequest
from kofu.city.domain.issuance import compose
from kofu.city.services.layout import certificate_of
from kofu.city.services.seeding import seed_city
from kofu.core.clock import JST
from kofu.core.db import make_engine, migrate
from kofu.documents.fonts import register_fonts
from kofu.documents.payload import InvalidPayload, seal_payload
from kofu.documents.render import render
from kofu.documents.stamp import stamp
from kofu.documents.verify import read_codes, verify_file

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=JST)
FORGED_NAME = "偽造　次郎"
FORGED_ADDRESS = "東京都千代田区千代田1番地"


@dataclass(frozen=True)
class Genuine:
    """One resident's certificate: the city's PDF, the store's stamped PDF and what it says."""

    city_pdf: bytes
    store_pdf: Path
    name: str
    code: str  # the QR text the center printed


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    center_signer(home)
    return home


@pytest.fixture(scope="module")
def keys(home: Path) -> dict[bytes, x509.Certificate]:
    return published_certificates(published_folder(home))


@pytest.fixture(scope="module")
def genuine(home: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Genuine]:
    """The residence certificates of two residents, stamped as a store prints them."""
    folder = tmp_path_factory.mktemp("corpus")
    engine = make_engine(f"sqlite:///{folder / 'city.sqlite'}")
    migrate(engine, "city")
    seed_city(engine=engine, code="112186", residents=12, seed=3, today=date(2026, 11, 23))
    out = []
    with CityUnitOfWork(engine) as uow:
        city = uow.city()
        people = [r for r in uow.registers.residents() if r.status == "resident"][:2]
        for number, person in enumerate(people, start=1):
            req = IssueRequest.parse(type="juminhyo", resident_code=person.resident_code)
            doc = compose(uow.registers, city, req, now=NOW, issue_number=number)
            city_pdf = render(certificate_of(doc))
            store = folder / f"store-{number}.pdf"
            store.write_bytes(
                protect(
                    city_pdf,
                    document_id=f"req-{number:04d}",
                    city="112186",
                    type="juminhyo",
                    issued_at=NOW.astimezone(UTC),
                    holder_digest=f"{number:02x}" * 32,
                    holder_name=doc.holder.name,
                    issue_number=number,
                    signer=center_signer(home),
                )
            )
            out.append(Genuine(city_pdf, store, doc.holder.name, read_codes(store)[0]))
    engine.dispose()
    return out


def _refused(path: Path, keys: dict[bytes, x509.Certificate]) -> str:
    """The reason ``verify_file`` gives for refusing ``path`` (the test fails if it accepts)."""
    with pytest.raises(InvalidPayload) as info:
        verify_file(path, keys)
    return info.value.reason


def _text(path: Path) -> str:
    done = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True)
    return re.sub(r"\s", "", done.stdout)


def _value_band(pdf: Path) -> tuple[float, float, float, float]:
    """The box (x, y, width, height in points, from the bottom) of the address and name values."""
    html = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    words = re.findall(
        r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">(.*?)<', html
    )
    rows = {w: (float(y0), float(y1)) for x, y0, y1, w in words if float(x) < 100}
    top, bottom = rows["住所"][0] - 4, rows["氏名"][1] + 4
    return 150.0, A4[1] - bottom, 400.0, bottom - top


def _overlay(band: tuple[float, float, float, float], qr_png: bytes | None = None) -> PdfReader:
    """One A4 page: white over the band, a new address and name in it, and maybe a QR code."""
    mincho, _ = register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    x, y, width, height = band
    canvas.setFillGray(1)
    canvas.rect(x, y, width, height, stroke=0, fill=1)
    canvas.setFillGray(0)
    canvas.setFont(mincho, 10)
    canvas.drawString(x + 6, y + height - 12, FORGED_ADDRESS)
    canvas.drawString(x + 17, y + 4, FORGED_NAME)
    if qr_png is not None:
        canvas.drawImage(ImageReader(io.BytesIO(qr_png)), 42.5, 39.7, 85, 85)
    canvas.showPage()
    canvas.save()
    return PdfReader(io.BytesIO(buffer.getvalue()))


def _incremental(source: bytes, overlay: PdfReader) -> bytes:
    """``source`` with an incremental update that draws ``overlay`` over its first page."""
    writer = PdfWriter(io.BytesIO(source), incremental=True)
    writer.pages[0].merge_page(overlay.pages[0])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _altered_code(code: str, *, holder_name: str) -> str:
    """The QR text with claims changed and the center's signature kept (it no longer matches)."""
    cose = cbor2.loads(zlib.decompress(base45.b45decode(code[4:])))
    protected, _, payload, signature = cose.value
    claims = cbor2.loads(payload)
    claims[8] = holder_name  # claim 8 is the holder's name (payload._KEYS)
    forged = cbor2.CBORTag(18, [protected, {}, cbor2.dumps(claims), signature])
    return "KF1:" + str(base45.b45encode(zlib.compress(cbor2.dumps(forged), 9)).decode())


def _qr_png(text: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="png", scale=4, border=2)
    return buffer.getvalue()


# ---- PDF forgeries -------------------------------------------------------------------------


def test_a_genuine_store_pdf_is_accepted_with_its_content(
    genuine: list[Genuine], keys: dict[bytes, x509.Certificate]
) -> None:
    for g in genuine:
        result = verify_file(g.store_pdf, keys)
        assert result.content_checked and result.claims.holder_name == g.name


def test_a_page_stamped_with_the_older_layer_still_verifies(
    genuine: list[Genuine], keys: dict[bytes, x509.Certificate], tmp_path: Path
) -> None:
    """Printed before the copy-evident background: layer 1 (visible 「複写」) is still accepted,
    and a layer of one version with bytes of the other is not."""
    g = genuine[0]
    older = tmp_path / "layer-1.pdf"
    older.write_bytes(stamp(g.city_pdf, g.code, version=1))
    assert older.read_bytes() != g.store_pdf.read_bytes()
    assert verify_file(older, keys).content_checked
    mixed = tmp_path / "mixed.pdf"
    mixed.write_bytes(older.read_bytes() + g.store_pdf.read_bytes()[len(g.city_pdf) :])
    assert _refused(mixed, keys) == "modified_after_stamp"


def test_an_incremental_whiteout_after_the_stamp_is_refused(
    genuine: list[Genuine], keys: dict[bytes, x509.Certificate], tmp_path: Path
) -> None:
    g = genuine[0]
    forged = tmp_path / "whiteout.pdf"
    forged.write_bytes(_incremental(g.store_pdf.read_bytes(), _overlay(_value_band(g.store_pdf))))
    # the forged name on the page (the old one is still in the file, under the white)
    assert FORGED_NAME.replace("　", "") in _text(forged)
    assert read_codes(forged) == [g.code]
    assert forged.read_bytes().startswith(g.store_pdf.read_bytes())
    assert _refused(forged, keys) == "modified_after_stamp"


def test_the_center_layer_replaced_by_a_forger_is_refused(
    genuine: list[Genuine], keys: dict[bytes, x509.Certificate], tmp_path: Path
) -> None:
    """The city's bytes kept, the code drawn by the forger's own update that also whites out."""
    g = genuine[0]
    forged = tmp_path / "own-layer.pdf"
    overlay = _overlay(_value_band(g.store_pdf), _qr_png(g.code))
    forged.write_bytes(_incremental(g.city_pdf, overlay))
    assert read_codes(forged) == [g.code] and forged.read_bytes().startswith(g.city_pdf)
    assert _refused(forged, keys) == "modified_after_stamp"


def test_bytes_after_the_stamp_or_a_changed_layer_are_refused(
    genuine: list[Genuine], keys: dict[bytes, x509.Certificate], tmp_path: Path
) -> None:
    g = genuine[0]
    data = g.store_pdf.read_bytes()
    appended = tmp_path / "appended.pdf"
    appended.write_bytes(data + b"% nothing drawn, still not what was signed\n")
    assert _refused(appended, keys) == "modified_after_stamp"
    layer = tmp_path / "layer.pdf"  # one word changed inside the center's own update
    edited = data.replace(b"/Interpolate false", b"/Interpolate true ", 1)
    assert len(edited) == len(data) and edited[: len(g.city_pdf)] == g.city_pdf != edited
    layer.write_bytes(edited)
    assert _refused(layer, keys) == "modified_after_stamp"


def test_a_qr_code_pasted_onto_another_persons_certificate_is_refused(
    genuine: list[Genuine], keys: dict[bytes, x509.Certificate], tmp_path: Path
) -> None:
    a, b = genuine
    forged = tmp_path / "pasted.pdf"
    forged.write_bytes(stamp(b.city_pdf, a.code))  # the center's own layer, A's code, B's page
    assert read_codes(forged) == [a.code]
    assert _refused(forged, keys) == "content_altered"
    over = tmp_path / "pasted-over.pdf"  # A's code drawn over B's on B's genuine store copy
    over.write_bytes(
        _incremental(b.store_pdf.read_bytes(), _overlay((0, 0, 0, 0), _qr_png(a.code)))
    )
    assert a.code in read_codes(over)
    assert _refused(over, keys) == "content_altered"  # B's bytes are not what A's code signs


def test_a_code_with_an_altered_payload_is_refused(
    genuine: list[Genuine], keys: dict[bytes, x509.Certificate], tmp_path: Path
) -> None:
    g = genuine[0]
    code = _altered_code(g.code, holder_name=FORGED_NAME)
    forged = tmp_path / "altered.pdf"
    forged.write_bytes(stamp(g.city_pdf, code))
    assert read_codes(forged) == [code]
    assert _refused(forged, keys) == "bad_signature"


def test_a_re_rendered_page_under_the_same_code_is_refused(
    genuine: list[Genuine], keys: dict[bytes, x509.Certificate], tmp_path: Path
) -> None:
    g = genuine[0]
    whiteout = tmp_path / "whiteout.pdf"
    whiteout.write_bytes(_incremental(g.city_pdf, _overlay(_value_band(g.store_pdf))))
    page = tmp_path / "printed-to-pdf.pdf"  # the forged page drawn anew: all new bytes
    subprocess.run(["pdftocairo", "-pdf", str(whiteout), str(page)], check=True)
    forged = tmp_path / "re-rendered.pdf"
    forged.write_bytes(
        stamp(page.read_bytes(), g.code)
    )  # a different page, stamped like the center does
    assert FORGED_NAME.replace("　", "") in _text(forged)
    assert _refused(forged, keys) == "content_altered"


def test_a_code_signed_by_an_unknown_key_is_refused(
    genuine: list[Genuine], keys: dict[bytes, x509.Certificate], tmp_path: Path
) -> None:
    g = genuine[0]
    claims = verify_file(g.store_pdf, keys).claims
    code = seal_payload(claims, ec.generate_private_key(ec.SECP256R1()), b"\x00" * 8)
    forged = tmp_path / "stranger.pdf"
    forged.write_bytes(stamp(g.city_pdf, code))
    assert _refused(forged, keys) == "unknown_key"


def test_a_signed_document_that_does_not_show_its_holder_is_refused(
    home: Path, genuine: list[Genuine], keys: dict[bytes, x509.Certificate], tmp_path: Path
) -> None:
    """A mix-up, not a forgery: the center signed A's name over B's certificate."""
    a, b = genuine
    mixed = tmp_path / "mixed-up.pdf"
    mixed.write_bytes(
        protect(
            b.city_pdf,
            document_id="req-0003",
            city="112186",
            type="juminhyo",
            issued_at=NOW.astimezone(UTC),
            holder_digest="03" * 32,
            holder_name=a.name,
            issue_number=3,
            signer=center_signer(home),
        )
    )
    assert _refused(mixed, keys) == "holder_not_shown"


@pytest.mark.parametrize("cut", ["third", "trailer", "layer"])
def test_a_truncated_pdf_is_refused_as_truncated(
    genuine: list[Genuine], keys: dict[bytes, x509.Certificate], tmp_path: Path, cut: str
) -> None:
    g = genuine[0]
    data = g.store_pdf.read_bytes()
    end = {"third": len(data) // 3, "trailer": len(data) - 12, "layer": len(g.city_pdf) + 200}
    short = tmp_path / f"{cut}.pdf"
    short.write_bytes(data[: end[cut]])
    assert _refused(short, keys) == "truncated"


def test_what_is_not_a_kofu_document_is_refused(
    keys: dict[bytes, x509.Certificate], tmp_path: Path
) -> None:
    plain = tmp_path / "plain.pdf"
    canvas = Canvas(str(plain), pagesize=A4)
    canvas.drawImage(ImageReader(io.BytesIO(_qr_png("https://example.org/"))), 60, 60, 90, 90)
    canvas.save()
    assert _refused(plain, keys) == "not_kofu"
    text = tmp_path / "notes.txt"
    text.write_text("not a certificate")
    assert _refused(text, keys) == "unreadable"


# ---- images: scans and photos --------------------------------------------------------------


def _scan(pdf: Path, folder: Path, *, degrees: float, noise: float, seed: int) -> Path:
    """The page as a 150 dpi scan: turned a little, with grain, saved as a JPEG."""
    stem = folder / f"{pdf.stem}-{seed}"
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", str(pdf), str(stem)], check=True
    )
    with Image.open(f"{stem}.png") as page:
        grey = page.convert("L").rotate(degrees, resample=Image.Resampling.BICUBIC, fillcolor=255)
    grain = Image.frombytes("L", grey.size, random.Random(seed).randbytes(grey.width * grey.height))
    noisy = Image.blend(grey, grain, noise)
    out = folder / f"{pdf.stem}-{seed}.jpg"
    noisy.save(out, quality=80)
    return out


@pytest.mark.parametrize(("degrees", "noise", "seed"), [(2.0, 0.12, 1), (-3.5, 0.18, 2)])
def test_a_scan_of_a_genuine_certificate_is_accepted(
    genuine: list[Genuine],
    keys: dict[bytes, x509.Certificate],
    tmp_path: Path,
    degrees: float,
    noise: float,
    seed: int,
) -> None:
    for g in genuine:
        result = verify_file(
            _scan(g.store_pdf, tmp_path, degrees=degrees, noise=noise, seed=seed), keys
        )
        assert result.claims.holder_name == g.name and not result.content_checked


def test_scans_of_forged_codes_are_refused(
    genuine: list[Genuine], keys: dict[bytes, x509.Certificate], tmp_path: Path
) -> None:
    g = genuine[0]
    altered = tmp_path / "altered.pdf"
    altered.write_bytes(stamp(g.city_pdf, _altered_code(g.code, holder_name=FORGED_NAME)))
    claims = verify_file(g.store_pdf, keys).claims
    stranger = tmp_path / "stranger.pdf"
    stranger.write_bytes(
        stamp(
            g.city_pdf, seal_payload(claims, ec.generate_private_key(ec.SECP256R1()), b"\x01" * 8)
        )
    )
    unstamped = tmp_path / "unstamped.pdf"
    unstamped.write_bytes(g.city_pdf)
    cases = {altered: "bad_signature", stranger: "unknown_key", unstamped: "no_code"}
    for pdf, reason in cases.items():
        scan = _scan(pdf, tmp_path, degrees=1.5, noise=0.1, seed=3)
        assert _refused(scan, keys) == reason, pdf


def test_a_scan_proves_only_the_payload_so_a_printed_whiteout_shows_the_signed_name(
    genuine: list[Genuine], keys: dict[bytes, x509.Certificate], tmp_path: Path
) -> None:
    """The documented limit: no bytes, no text check; the verifier says what the paper must show.

    A print of the whiteout forgery carries the genuine code, so its scan is
    not refused; the answer names the person the center signed for, not the
    forged name on the paper, and says the content was not checked, so a
    person comparing the two sees the forgery.
    """
    g = genuine[0]
    forged = tmp_path / "whiteout.pdf"
    forged.write_bytes(_incremental(g.store_pdf.read_bytes(), _overlay(_value_band(g.store_pdf))))
    result = verify_file(_scan(forged, tmp_path, degrees=1.0, noise=0.1, seed=4), keys)
    assert not result.content_checked
    assert result.claims.holder_name == g.name != FORGED_NAME
