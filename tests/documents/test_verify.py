"""The anti-forgery payload and `kofu verify`: genuine documents pass; anything else says why."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib
from datetime import UTC, datetime
from pathlib import Path

import base45
import cbor2
import pytest
import segno
from cryptography.hazmat.primitives.asymmetric import ec

from kofu.center.adapters.signing import center_signer, published_certificates, published_folder
from kofu.center.services.anti_forgery import protect
from kofu.documents.payload import Claims, InvalidPayload, open_payload, seal_payload
from kofu.documents.verify import read_codes

KOFU = Path(sys.executable).with_name("kofu")
ISSUED = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


def claims(**changes: object) -> Claims:
    base = Claims(
        document_id="req-0001",
        city="032051",
        type="juminhyo",
        issued_at=ISSUED,
        holder_digest=b"\x01" * 16,
        content_digest=b"\x02" * 32,
        content_length=1234,
        holder_name="花巻　太郎",
        issue_number=42,
    )
    return Claims(**(base.__dict__ | changes))


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    center_signer(home)
    return home


def test_payload_round_trip_and_structure(home: Path) -> None:
    signer = center_signer(home)
    text = seal_payload(claims(), signer.key, signer.kid)
    assert text.startswith("KF1:") and len(text) < 400
    cose = cbor2.loads(zlib.decompress(base45.b45decode(text[4:])))
    assert cose.tag == 18 and len(cose.value) == 4  # COSE_Sign1
    assert cbor2.loads(cose.value[0]) == {1: -7, 4: signer.kid}  # ES256 and the key id
    assert len(cose.value[3]) == 64
    assert open_payload(text, published_certificates(published_folder(home))) == claims()


def test_altered_truncated_foreign_and_unknown_payloads(home: Path, tmp_path: Path) -> None:
    signer = center_signer(home)
    keys = published_certificates(published_folder(home))
    text = seal_payload(claims(), signer.key, signer.kid)
    cose = cbor2.loads(zlib.decompress(base45.b45decode(text[4:])))
    forged_payload = cbor2.dumps(claims(holder_name="偽造　次郎").to_cbor_map())
    forged = cbor2.CBORTag(18, [cose.value[0], {}, forged_payload, cose.value[3]])
    forged_text = "KF1:" + base45.b45encode(zlib.compress(cbor2.dumps(forged))).decode()
    stranger = ec.generate_private_key(ec.SECP256R1())
    cases = {
        "bad_signature": forged_text,
        "truncated": text[:-20],
        "not_kofu": "HC1:NCFOXN%TS3DH3ZSUZK+.V0ETD%65NL-AH",
        "unknown_key": seal_payload(claims(), stranger, b"\x00" * 8),
    }
    for reason, bad in cases.items():
        with pytest.raises(InvalidPayload) as info:
            open_payload(bad, keys)
        assert info.value.reason in (reason, "corrupt"), (reason, info.value.reason)


def _kofu(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOFU_")} | {
        "KOFU_HOME": str(home)
    }
    return subprocess.run([str(KOFU), *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture(scope="module")
def stamped(home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real certificate PDF (reportlab, IPAex) stamped by the center."""
    from reportlab.pdfgen.canvas import Canvas

    from kofu.documents.fonts import register_fonts

    mincho, _ = register_fonts()
    folder = tmp_path_factory.mktemp("docs")
    city_pdf = folder / "city.pdf"
    canvas = Canvas(str(city_pdf), invariant=1)
    canvas.setFont(mincho, 14)
    canvas.drawString(100, 700, "住民票の写し　花巻　太郎")
    canvas.save()
    out = folder / "store.pdf"
    out.write_bytes(
        protect(
            city_pdf.read_bytes(),
            document_id="req-0001",
            city="032051",
            type="juminhyo",
            issued_at=ISSUED,
            holder_digest="ab" * 32,
            holder_name="花巻　太郎",
            issue_number=7,
            signer=center_signer(home),
        )
    )
    return out


def test_verify_a_genuine_pdf_and_its_scan(home: Path, stamped: Path, tmp_path: Path) -> None:
    done = _kofu(home, "verify", str(stamped), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["genuine"] and result["content_checked"] and result["holder_name"] == "花巻　太郎"
    assert result["type"] == "juminhyo" and result["city"] == "032051"
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", str(stamped), str(tmp_path / "scan")],
        check=True,
    )
    scan = _kofu(home, "verify", str(tmp_path / "scan.png"), "--json")
    assert scan.returncode == 0, scan.stderr
    assert json.loads(scan.stdout)["content_checked"] is False
    assert (
        "複写"
        in subprocess.run(["pdftotext", str(stamped), "-"], capture_output=True, text=True).stdout
    )


def _whiteout(stamped: bytes) -> bytes:
    """The stamped PDF with a white box and another name drawn over the holder's, appended."""
    import io

    from pypdf import PdfReader, PdfWriter
    from reportlab.pdfgen.canvas import Canvas

    from kofu.documents.fonts import register_fonts

    mincho, _ = register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.setFillGray(1)
    canvas.rect(95, 690, 300, 30, stroke=0, fill=1)
    canvas.setFillGray(0)
    canvas.setFont(mincho, 14)
    canvas.drawString(100, 700, "住民票の写し　偽造　次郎")
    canvas.save()
    writer = PdfWriter(io.BytesIO(stamped), incremental=True)
    writer.pages[0].merge_page(PdfReader(buffer).pages[0])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_verify_refuses_what_is_not_genuine(home: Path, stamped: Path, tmp_path: Path) -> None:
    data = stamped.read_bytes()
    altered = tmp_path / "altered.pdf"
    position = data.index(b"/Producer")  # inside the city's original bytes
    altered.write_bytes(data[:position] + b"/Producex" + data[position + 9 :])
    truncated = tmp_path / "truncated.pdf"
    truncated.write_bytes(data[: len(data) // 3])
    plain = tmp_path / "plain.png"
    segno.make("hello", mask=0, micro=False).save(str(plain), scale=6)
    other_home = tmp_path / "other"
    whiteout = tmp_path / "whiteout.pdf"  # an incremental update after the center's layer
    whiteout.write_bytes(_whiteout(data))
    cases = {
        whiteout: ("modified_after_stamp", home),
        altered: ("content_altered", home),
        truncated: ("truncated", home),
        plain: ("not_kofu", home),
        stamped: ("unknown_key", other_home),
    }
    for path, (reason, keys_home) in cases.items():
        done = _kofu(keys_home, "verify", str(path), "--json")
        assert done.returncode == 1, (path, done.stdout)
        assert json.loads(done.stdout.splitlines()[-1])["reason"] == reason, (path, done.stdout)
        assert "NOT GENUINE" in done.stderr


def test_the_decoder_reads_the_printed_code(stamped: Path) -> None:
    codes = read_codes(stamped)
    assert len(codes) == 1 and codes[0].startswith("KF1:")
