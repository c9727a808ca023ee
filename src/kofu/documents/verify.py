"""Checking a printed or PDF certificate: find the QR code with a real decoder, open the payload.

For a PDF the content digest is checked too: the first ``content_length``
bytes must be exactly the city's document the payload signs.  For a scan or
a photo only the payload can be checked; what the paper must say is printed
so that a person can compare it with the page.
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

from kofu.documents.payload import Claims, InvalidPayload, open_payload

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
    codes = read_codes(path)
    if not codes:
        raise InvalidPayload("no_code", "no QR code was found on the document")
    kofu_codes = [c for c in codes if c.startswith("KF1:")] or codes
    claims = open_payload(kofu_codes[0], keys)
    data = path.read_bytes()
    if not data.startswith(b"%PDF"):
        return Verified(claims, content_checked=False)
    original = data[: claims.content_length]
    if (
        len(original) != claims.content_length
        or hashlib.sha256(original).digest() != claims.content_digest
    ):
        raise InvalidPayload(
            "content_altered", "the document's content does not match the signed digest"
        )
    return Verified(claims, content_checked=True)
