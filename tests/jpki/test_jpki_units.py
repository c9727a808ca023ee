"""The authority's use cases on the in-memory register and on SQL: the same answers.

The fake runs the rules fast; SQLite and PostgreSQL (tests/jpki/test_authority.py
and the rest) are where storage is the point.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from jpki_support import BASE_URL, NOW, CardKeys, copy_ca_keys

from fakes.jpki import MemoryJpki
from kofu.core.certkinds import CertKind
from kofu.core.clock import FixedClock
from kofu.core.errors import Conflict, NotFound
from kofu.jpki.adapters.keys import FileKeyStore, load_or_create_hierarchy
from kofu.jpki.adapters.uow import jpki_units
from kofu.jpki.domain.ca import Authority, Urls
from kofu.jpki.domain.revocation import RevocationCause
from kofu.jpki.services.authority import JpkiService
from stores import fresh_store


@pytest.fixture(params=["memory", "sqlite"])
def authority(
    request: pytest.FixtureRequest, ca_key_dir: Path, tmp_path: Path
) -> Iterator[JpkiService]:
    clock = FixedClock(NOW)
    keys = FileKeyStore(copy_ca_keys(ca_key_dir, tmp_path / "keys"))
    signer = Authority(keys, load_or_create_hierarchy(keys, clock.now()), Urls(BASE_URL))
    if request.param == "memory":
        yield JpkiService(MemoryJpki(), signer, clock)
        return
    with fresh_store("sqlite", tmp_path, "jpki") as engine:
        yield JpkiService(jpki_units(engine), signer, clock)


def _issue(service: JpkiService, keys: CardKeys, card_id: str) -> int:
    pair = service.issue_pair(
        city="112186",
        resident_code="12345678901",
        card_id=card_id,
        birth_date=date(1990, 5, 10),
        card_expiry=date(2036, 5, 10),
        facts=None,
        auth_key=keys.auth_public,
        sign_key=None,
    )
    return pair.auth.serial_number


def _ocsp(service: JpkiService, serial: int) -> ocsp.OCSPCertStatus:
    record = service.status(serial)
    assert record is not None
    cert = x509.load_der_x509_certificate(record.der)
    issuer = service.authority.cas.issuing[CertKind.AUTH]
    asked = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1()).build()
    der = service.ocsp_response(CertKind.AUTH, asked.public_bytes(serialization.Encoding.DER))
    return ocsp.load_der_ocsp_response(der).certificate_status


def test_issue_renew_and_revoke_a_card(authority: JpkiService, card_keys: CardKeys) -> None:
    first = _issue(authority, card_keys, "C-1")
    second = _issue(authority, card_keys, "C-1")  # renewal: the first is superseded
    assert (authority.status(first).status, authority.status(second).status) == (  # type: ignore[union-attr]
        "revoked",
        "good",
    )
    assert _ocsp(authority, second) == ocsp.OCSPCertStatus.GOOD
    assert authority.revoke_card("C-1", RevocationCause.LOSS) == [second]
    assert _ocsp(authority, second) == ocsp.OCSPCertStatus.REVOKED
    with pytest.raises(Conflict):
        authority.revoke_serial(second, RevocationCause.LOSS)
    with pytest.raises(NotFound):
        authority.revoke_card("C-404", RevocationCause.LOSS)


def test_crls_list_the_revoked_and_count_up(authority: JpkiService, card_keys: CardKeys) -> None:
    serial = _issue(authority, card_keys, "C-2")
    authority.revoke_card("C-2", RevocationCause.LOSS)
    crl = x509.load_der_x509_crl(authority.crl_der(CertKind.AUTH))
    assert crl.get_revoked_certificate_by_serial_number(serial) is not None
    number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    _issue(authority, card_keys, "C-3")
    authority.revoke_card("C-3", RevocationCause.LOSS)
    later = x509.load_der_x509_crl(authority.crl_der(CertKind.AUTH))
    assert later.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number > number
