"""``kofu bench ocsp``: OCSP responses per second on one core, at 100 and at N revoked serials.

Each figure is set beside the cost of one RSA-2048 signature measured in the
same run: a responder that signed every answer could not beat ratio 1.0;
answers pre-signed and cached within their freshness window do.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp
from sqlalchemy import Engine, insert

from kofu.core.certkinds import CertKind
from kofu.core.clock import JST, FixedClock
from kofu.core.db import make_engine, migrate
from kofu.jpki.adapters import tables as t
from kofu.jpki.adapters.keys import FileKeyStore
from kofu.jpki.bootstrap import jpki_service
from kofu.jpki.domain.ca import Urls
from kofu.jpki.services.authority import JpkiService

__all__ = ["bench_ocsp"]

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=JST)


def _rate(fn: Callable[[], object], seconds: float) -> float:
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds and count < 2_000_000:
        fn()
        count += 1
    return count / (time.perf_counter() - start)


def _fill_revoked(engine: Engine, count: int, start: int = 0) -> None:
    """Add revoked authentication certificates ``start..count`` (rows only, no certificate)."""
    at = NOW.astimezone(UTC)
    rows = (
        {
            "serial": f"{(1 << 100) + i:x}",
            "kind": "auth",
            "city": "112186",
            "resident_code": "00000000000",
            "card_id": f"bench-{i}",
            "not_before": at,
            "not_after": at + timedelta(days=1800),
            "status": "revoked",
            "revoked_at": at,
            "cause": "loss",
            "der": b"",
        }
        for i in range(start, count)
    )
    with engine.begin() as conn:
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) == 20_000:
                conn.execute(insert(t.certificates), batch)
                batch = []
        if batch:
            conn.execute(insert(t.certificates), batch)


def _requests(service: JpkiService, n: int) -> list[bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    issuer = service.authority.cas.issuing[CertKind.AUTH]
    out = []
    for i in range(n):
        pair = service.issue_pair(
            city="112186",
            resident_code="00000000000",
            card_id=f"bench-good-{i}",
            birth_date=date(1990, 1, 1),
            card_expiry=date(2034, 1, 1),
            facts=None,
            auth_key=key,
            sign_key=None,
        )
        req = ocsp.OCSPRequestBuilder().add_certificate(pair.auth, issuer, hashes.SHA1()).build()
        out.append(req.public_bytes(Encoding.DER))
    return out


def _measure(service: JpkiService, requests: list[bytes], seconds: float) -> dict[str, float]:
    i = 0

    def warm() -> None:
        nonlocal i
        service.ocsp_response(CertKind.AUTH, requests[i % len(requests)])
        i += 1

    def cold() -> None:
        service.forget_cached_answers()  # every answer signed afresh
        warm()

    for r in requests:  # fill the cache once
        service.ocsp_response(CertKind.AUTH, r)
    return {
        "cached_per_second": round(_rate(warm, seconds)),
        "signed_per_second": round(_rate(cold, seconds / 2)),
    }


def bench_ocsp(*, revoked: int = 1_000_000, seconds: float = 2.0) -> dict[str, Any]:
    """Responses per second with 100 and with ``revoked`` revoked serials, and the RSA ratio."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'jpki.sqlite'}")
        migrate(engine, "jpki")
        service = jpki_service(
            engine, FileKeyStore(Path(tmp) / "keys"), Urls("http://127.0.0.1:1"), FixedClock(NOW)
        )
        requests = _requests(service, 50)
        _fill_revoked(engine, 100)
        small = _measure(service, requests, seconds)
        start = time.perf_counter()
        _fill_revoked(engine, revoked, start=100)
        fill_seconds = time.perf_counter() - start
        large = _measure(service, requests, seconds)
        engine.dispose()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_rate = _rate(lambda: key.sign(b"x" * 64, padding.PKCS1v15(), hashes.SHA256()), seconds)
    return {
        "revoked_100": small,
        f"revoked_{revoked}": large,
        "fill_seconds": round(fill_seconds, 1),
        "rsa2048_signatures_per_second": round(rsa_rate),
        "ratio_cached_to_rsa": round(large["cached_per_second"] / rsa_rate, 1),
        "ratio_large_to_small": round(large["cached_per_second"] / small["cached_per_second"], 2),
    }
