"""The public verifier's files: the page, its script, the center's keys and a QR decoder.

Everything a browser needs comes in one folder, so the page works offline
and from any static host (or from a file opened locally): no CDN, no server
round trip after loading.  The center's published certificates are
bundled as ``keys.js`` (key id → the public key in SubjectPublicKeyInfo DER,
which WebCrypto imports).  The QR decoder is jsQR from the npm registry,
installed by scripts/setup.sh from package-lock.json (never committed); where
it is missing the page still checks a pasted code, and reads images with the
browser's own BarcodeDetector where the browser has one.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

__all__ = ["JSQR_ENV", "build", "decoder_path", "site_files"]

SITE = Path(__file__).parent / "site"
STATIC = ("index.html", "verifier.js", "verifier.css")
JSQR_ENV = "KOFU_JSQR"  # a jsQR.js elsewhere than node_modules
_JSQR = Path("node_modules") / "jsqr" / "dist" / "jsQR.js"


def decoder_path() -> Path | None:
    """jsQR.js: $KOFU_JSQR, or node_modules/ in the working folder or above this package."""
    given = os.environ.get(JSQR_ENV)
    if given:
        return Path(given) if Path(given).is_file() else None
    for folder in (Path.cwd(), *Path(__file__).resolve().parents):
        if (folder / _JSQR).is_file():
            return folder / _JSQR
    return None


def _keys_js(keys: dict[bytes, x509.Certificate]) -> bytes:
    """``window.KOFU_KEYS``: each published key by its COSE key id (kofu.documents.payload)."""
    entries = [
        {
            "kid": kid.hex(),
            "spki": base64.b64encode(
                cert.public_key().public_bytes(
                    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
                )
            ).decode(),
            "subject": cert.subject.rfc4514_string(),
            "not_after": cert.not_valid_after_utc.isoformat(),
        }
        for kid, cert in sorted(keys.items())
    ]
    text = json.dumps(entries, ensure_ascii=False, indent=1)
    return f"// The issuance center's published keys.\nwindow.KOFU_KEYS = {text};\n".encode()


def site_files(keys: dict[bytes, x509.Certificate]) -> dict[str, bytes]:
    """Every file of the page by name; jsQR.js only when a decoder is installed."""
    files = {name: (SITE / name).read_bytes() for name in STATIC}
    files["keys.js"] = _keys_js(keys)
    decoder = decoder_path()
    files["jsQR.js"] = (
        decoder.read_bytes()
        if decoder is not None
        else b"// no QR decoder installed: run scripts/setup.sh (npm ci) to bring jsQR\n"
    )
    return files


def build(out: Path, keys: dict[bytes, x509.Certificate]) -> list[Path]:
    """Write the page into ``out`` (created if missing); returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in site_files(keys).items():
        path = out / name
        path.write_bytes(data)
        written.append(path)
    return written
