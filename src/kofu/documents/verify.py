"""Checking a printed or PDF certificate: find the QR code with a real decoder, open the payload.

A PDF is genuine only if what a reader sees is what was signed.  The first
``content_length`` bytes must be exactly the city's document whose digest
the payload signs, and everything after them exactly the center's layer for
that code (ISO 32000-1 §7.5.6: an incremental update may redraw any page, so
any other byte after the signed ones could change what the page shows).  The
layer is a function of the city's bytes and the code alone, so it is drawn
again here and compared byte for byte.  The signed holder's name must also
be in the city's text.

For a scan or a photo only the payload can be checked; what the paper must
say is printed so that a person can compare it with the page.
"""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import zxingcpp
from cryptography import x509
from PIL import Image, UnidentifiedImageError

from kofu.documents.payload import PREFIX, Claims, InvalidPayload, open_payload
from kofu.documents.stamp import LAYERS, stamp

__all__ = ["Verified", "read_codes", "verify_file"]


@dataclass(frozen=True)
class Verified:
    claims: Claims
    content_checked: bool


def _decode(image: Image.Image) -> list[str]:
    return [
        r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode
    ]


def read_codes(path: Path) -> list[str]:
    """Every QR code on the first page of a PDF, or in an image."""
    data = path.read_bytes()
    if data.startswith(b"%PDF"):
        with tempfile.TemporaryDirectory() as tmp:
            done = subprocess.run(
                ["pdftoppm", "-r", "200", "-f", "1", "-l", "1", "-png", str(path), f"{tmp}/page"],
                capture_output=True,
                timeout=60,
            )
            pages = sorted(Path(tmp).glob("page*.png"))
            if done.returncode != 0 or not pages:
                raise InvalidPayload(
                    "unreadable", "the PDF could not be rendered (damaged or truncated)"
                )
            with Image.open(pages[0]) as page:
                return _decode(page.convert("L"))
    try:
        with Image.open(path) as image:
            return _decode(image.convert("L"))
    except (UnidentifiedImageError, OSError) as exc:
        raise InvalidPayload("unreadable", "the file is neither a PDF nor an image") from exc


def verify_file(path: Path, keys: dict[bytes, x509.Certificate]) -> Verified:
    """The claims of a genuine document, or an InvalidPayload naming what is wrong."""
    data = path.read_bytes()
    is_pdf = data.startswith(b"%PDF")
    code = _first_code(path, cut_short=is_pdf and not data.rstrip().endswith(b"%%EOF"))
    claims = open_payload(code, keys)
    if not is_pdf:
        return Verified(claims, content_checked=False)
    _check_content(data, claims)
    _check_layer(data, claims, code)
    _check_holder(data[: claims.content_length], claims)
    return Verified(claims, content_checked=True)


def _first_code(path: Path, *, cut_short: bool) -> str:
    """The kofu code on the page; a PDF cut short before its end says so rather than "no code"."""
    try:
        codes = read_codes(path)
    except InvalidPayload:
        if cut_short:
            raise _truncated() from None
        raise
    if not codes:
        if cut_short:
            raise _truncated()
        raise InvalidPayload("no_code", "no QR code was found on the document")
    return ([c for c in codes if c.startswith(PREFIX)] or codes)[0]


def _truncated() -> InvalidPayload:
    return InvalidPayload("truncated", "the PDF is cut short: its end (%%EOF) is missing")


def _check_content(data: bytes, claims: Claims) -> None:
    """The city's bytes, before the center's layer, are the ones whose digest was signed."""
    original = data[: claims.content_length]
    if len(original) != claims.content_length and not data.rstrip().endswith(b"%%EOF"):
        raise _truncated()
    if (
        len(original) != claims.content_length
        or hashlib.sha256(original).digest() != claims.content_digest
    ):
        raise InvalidPayload(
            "content_altered", "the document's content does not match the signed digest"
        )


def _check_layer(data: bytes, claims: Claims, code: str) -> None:
    """After the city's bytes comes the center's layer for this code, and not one byte more.

    Any layer version the center ever stamped is drawn again (newest first), so
    a page printed before the layer changed still verifies.
    """
    drawn = [stamp(data[: claims.content_length], code, version) for version in LAYERS]
    if data in drawn:
        return
    for expected in drawn:
        if expected.startswith(data):
            raise _truncated()
        if data.startswith(expected):
            raise InvalidPayload(
                "modified_after_stamp",
                f"{len(data) - len(expected)} bytes were added after the center's layer "
                "(an update there can redraw the page)",
            )
    raise InvalidPayload(
        "modified_after_stamp", "what follows the signed content is not the center's layer"
    )


def _check_holder(original: bytes, claims: Claims) -> None:
    """The signed holder's surname and given name are both in the city's text.

    Each part on its own: a family register prints the surname (氏) once and
    each member's given name (名) apart, and the text's reading order need
    not keep a name's two parts together.
    """
    parts = claims.holder_name.split()
    if not parts:
        return
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "original.pdf"
        source.write_bytes(original)
        done = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", str(source), "-"], capture_output=True, timeout=60
        )
    text = "".join(done.stdout.decode("utf-8", "replace").split())
    if done.returncode != 0 or not all(part in text for part in parts):
        raise InvalidPayload(
            "holder_not_shown",
            "the document does not show the name of the holder it was signed for",
        )
