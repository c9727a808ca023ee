"""The authority in-process, on SQLite and PostgreSQL: the two profiles, revocation, CRL, OCSP."""

from __future__ import annotations

import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import (
    AuthorityInformationAccessOID,
    ExtendedKeyUsageOID,
    ExtensionOID,
    SignatureAlgorithmOID,
)
from jpki_support import BASE_URL, CardKeys

from kofu.core.certkinds import CertKind
from kofu.core.errors import InvalidInput, NotFound
from kofu.jpki.domain.profiles import BasicFacts, read_utf8
from kofu.jpki.domain.revocation import RevocationCause
from kofu.jpki.services.authority import IssuedPair, JpkiService

JPKI_FACT_OIDS = {f"1.2.392.200149.8.5.5.{n}" for n in range(1, 7)}
NAME = "深谷 花子"
ADDRESS = (
    "埼玉県深谷市仲町11番1号"
    " 深谷市役所前コーポラス・ヴィレッジ・フカヤ第二棟 三〇二号室（管理人室隣）"
)
BIRTH = date(1990, 5, 10)
CARD_EXPIRY = date(2036, 5, 10)
# the fifth birthday after 2026-11-23 is 2031-05-10; 23:59:59 JST is 14:59:59 UTC
NOT_AFTER = datetime(2031, 5, 10, 14, 59, 59, tzinfo=UTC)

BOTH = {CertKind.SIGN, CertKind.AUTH}
REACH = {
    RevocationCause.MOVE: {CertKind.SIGN},
    RevocationCause.NAME_CHANGE: {CertKind.SIGN},
    RevocationCause.FACTS_CHANGED: {CertKind.SIGN},
    RevocationCause.DEATH: BOTH,
    RevocationCause.LOSS: BOTH,
    RevocationCause.CARD_RETURN: BOTH,
    RevocationCause.ABOLITION: BOTH,
    RevocationCause.USER_REQUEST: BOTH,
    RevocationCause.KEY_COMPROMISE: BOTH,
    RevocationCause.RECORD_MISMATCH: BOTH,
    RevocationCause.RENEWAL: BOTH,
}
REASON = {
    RevocationCause.MOVE: x509.ReasonFlags.affiliation_changed,
    RevocationCause.NAME_CHANGE: x509.ReasonFlags.affiliation_changed,
    RevocationCause.FACTS_CHANGED: x509.ReasonFlags.affiliation_changed,
    RevocationCause.DEATH: x509.ReasonFlags.cessation_of_operation,
    RevocationCause.LOSS: x509.ReasonFlags.key_compromise,
    RevocationCause.CARD_RETURN: x509.ReasonFlags.cessation_of_operation,
    RevocationCause.ABOLITION: x509.ReasonFlags.cessation_of_operation,
    RevocationCause.USER_REQUEST: x509.ReasonFlags.unspecified,
    RevocationCause.KEY_COMPROMISE: x509.ReasonFlags.key_compromise,
    RevocationCause.RECORD_MISMATCH: x509.ReasonFlags.privilege_withdrawn,
    RevocationCause.RENEWAL: x509.ReasonFlags.superseded,
}


def _issue(
    service: JpkiService,
    keys: CardKeys,
    card_id: str = "CARD-0001",
    *,
    birth: date = BIRTH,
    card_expiry: date = CARD_EXPIRY,
    with_sign: bool = True,
) -> IssuedPair:
    return service.issue_pair(
        city="112186",
        resident_code="12345678901",
        card_id=card_id,
        birth_date=birth,
        card_expiry=card_expiry,
        facts=BasicFacts(NAME, "2", birth, ADDRESS) if with_sign else None,
        auth_key=keys.auth_public,
        sign_key=keys.sign_public if with_sign else None,
    )


def _crl(service: JpkiService, kind: CertKind) -> x509.CertificateRevocationList:
    return x509.load_der_x509_crl(service.crl_der(kind))


def _crl_reasons(service: JpkiService, kind: CertKind) -> dict[int, x509.ReasonFlags]:
    crl = _crl(service, kind)
    issuer = service.authority.cas.issuing[kind]
    assert crl.issuer == issuer.subject
    issuer_key = issuer.public_key()
    assert isinstance(issuer_key, rsa.RSAPublicKey)
    assert crl.is_signature_valid(issuer_key)
    return {
        r.serial_number: r.extensions.get_extension_for_class(x509.CRLReason).value.reason
        for r in crl
    }


def _public_der(key: rsa.RSAPublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


# --- the profiles ---------------------------------------------------------------------------


def _common_profile(service: JpkiService, cert: x509.Certificate, kind: CertKind) -> None:
    ca = service.authority.cas.issuing[kind]
    root = service.authority.cas.root
    # RSA-2048, SHA256withRSA, signed by the issuing CA, which the root signed
    key = cert.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    assert key.key_size == 2048
    assert cert.signature_algorithm_oid == SignatureAlgorithmOID.RSA_WITH_SHA256
    assert isinstance(cert.signature_hash_algorithm, hashes.SHA256)
    assert cert.issuer == ca.subject
    cert.verify_directly_issued_by(ca)
    ca.verify_directly_issued_by(root)
    root.verify_directly_issued_by(root)
    ca_key = ca.public_key()
    assert isinstance(ca_key, rsa.RSAPublicKey)
    assert ca_key.key_size == 2048
    assert ca.signature_algorithm_oid == SignatureAlgorithmOID.RSA_WITH_SHA256
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert cert.version is x509.Version.v3
    # not a CA
    bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and not bc.value.ca
    # validity: to 23:59:59 JST of the fifth birthday after issue
    assert cert.not_valid_after_utc == NOT_AFTER
    assert cert.not_valid_before_utc <= datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    # the policy of the kind
    policies = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    expected_policy = (
        "1.2.392.200149.8.5.1.1" if kind is CertKind.SIGN else "1.2.392.200149.8.5.1.3"
    )
    assert [p.policy_identifier.dotted_string for p in policies] == [expected_policy]
    # CRL distribution point and AIA, pointing at the authority for this kind
    dps = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert [[n.value for n in dp.full_name or []] for dp in dps] == [
        [f"{BASE_URL}/crl/{kind.value}.crl"]
    ]
    aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    access = {(a.access_method, a.access_location.value) for a in aia}
    assert access == {
        (AuthorityInformationAccessOID.OCSP, f"{BASE_URL}/ocsp/{kind.value}"),
        (AuthorityInformationAccessOID.CA_ISSUERS, f"{BASE_URL}/ca/{kind.value}.der"),
    }
    # key identifiers tie the chain together
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    # the facts are never critical; nothing else unknown is
    for ext in cert.extensions:
        if ext.oid.dotted_string in JPKI_FACT_OIDS:
            assert not ext.critical


def test_signature_certificate_profile(service: JpkiService, card_keys: CardKeys) -> None:
    pair = _issue(service, card_keys)
    assert pair.sign is not None
    cert = pair.sign
    _common_profile(service, cert, CertKind.SIGN)
    assert _public_der(cert.public_key()) == _public_der(card_keys.sign_public)  # type: ignore[arg-type]
    # the four basic facts, each a UTF8String under 1.2.392.200149.8.5.5
    facts = {
        ext.oid.dotted_string: ext
        for ext in cert.extensions
        if ext.oid.dotted_string in JPKI_FACT_OIDS
    }
    assert set(facts) == {f"1.2.392.200149.8.5.5.{n}" for n in (1, 3, 4, 5)}
    values = {}
    for oid, ext in facts.items():
        assert isinstance(ext.value, x509.UnrecognizedExtension)
        assert ext.value.value[0] == 12  # UTF8String
        values[oid] = read_utf8(ext.value.value)
    assert values == {
        "1.2.392.200149.8.5.5.1": NAME,
        "1.2.392.200149.8.5.5.3": "2",
        "1.2.392.200149.8.5.5.4": "19900510",
        "1.2.392.200149.8.5.5.5": ADDRESS,
    }
    assert len(ADDRESS.encode()) > 127  # the address takes the long-form DER length
    # nonRepudiation + digitalSignature, critical
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical
    assert ku.value.digital_signature and ku.value.content_commitment
    assert not (
        ku.value.key_encipherment
        or ku.value.data_encipherment
        or ku.value.key_agreement
        or ku.value.key_cert_sign
        or ku.value.crl_sign
    )


def test_authentication_certificate_profile(service: JpkiService, card_keys: CardKeys) -> None:
    pair = _issue(service, card_keys)
    cert = pair.auth
    _common_profile(service, cert, CertKind.AUTH)
    assert _public_der(cert.public_key()) == _public_der(card_keys.auth_public)  # type: ignore[arg-type]
    # none of the basic facts
    assert not {e.oid.dotted_string for e in cert.extensions} & JPKI_FACT_OIDS
    assert NAME.encode() not in cert.public_bytes(serialization.Encoding.DER)
    # digitalSignature only, critical
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical
    assert ku.value.digital_signature
    assert not (
        ku.value.content_commitment
        or ku.value.key_encipherment
        or ku.value.data_encipherment
        or ku.value.key_agreement
        or ku.value.key_cert_sign
        or ku.value.crl_sign
    )
    eku = cert.extensions.get_extension_for_oid(ExtensionOID.EXTENDED_KEY_USAGE)
    assert isinstance(eku.value, x509.ExtendedKeyUsage)
    assert list(eku.value) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    # a signature by the card's key verifies against the certificate
    message = b"login challenge"
    signature = card_keys.auth.sign(message, padding.PKCS1v15(), hashes.SHA256())
    public = cert.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    public.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())


def test_certificates_end_with_the_card_if_sooner(
    service: JpkiService, card_keys: CardKeys
) -> None:
    pair = _issue(service, card_keys, card_expiry=date(2029, 1, 1))
    assert pair.sign is not None
    for cert in (pair.sign, pair.auth):
        assert cert.not_valid_after_utc == datetime(2029, 1, 1, 14, 59, 59, tzinfo=UTC)


def test_child_without_signature_certificate(service: JpkiService, card_keys: CardKeys) -> None:
    pair = _issue(
        service,
        card_keys,
        birth=date(2016, 7, 1),
        card_expiry=date(2031, 7, 1),
        with_sign=False,
    )
    assert pair.sign is None
    assert pair.auth.not_valid_after_utc == datetime(2031, 7, 1, 14, 59, 59, tzinfo=UTC)
    assert service.status(pair.auth.serial_number) is not None
    # a move revokes only the signature certificate, and this card has none
    assert service.revoke_card("CARD-0001", RevocationCause.MOVE) == []


def test_issued_certificates_are_on_record(service: JpkiService, card_keys: CardKeys) -> None:
    pair = _issue(service, card_keys)
    assert pair.sign is not None
    assert pair.sign.serial_number != pair.auth.serial_number
    for cert, kind in ((pair.sign, "sign"), (pair.auth, "auth")):
        record = service.status(cert.serial_number)
        assert record is not None
        assert record.kind == kind
        assert record.status == "good"
        assert record.card_id == "CARD-0001"
        assert record.cause is None
        assert record.der == cert.public_bytes(serialization.Encoding.DER)
    assert service.status(0x1234) is None
    assert _crl_reasons(service, CertKind.SIGN) == {}
    assert _crl_reasons(service, CertKind.AUTH) == {}


def test_ca_certificates_published(service: JpkiService) -> None:
    cas = service.authority.cas
    assert x509.load_der_x509_certificate(service.ca_der("root")) == cas.root
    assert x509.load_der_x509_certificate(service.ca_der("sign")) == cas.issuing[CertKind.SIGN]
    assert x509.load_der_x509_certificate(service.ca_der("auth")) == cas.issuing[CertKind.AUTH]


def test_issue_refuses_bad_input_and_keeps_the_old_pair(
    service: JpkiService, card_keys: CardKeys, small_key: rsa.RSAPrivateKey
) -> None:
    old = _issue(service, card_keys)
    assert old.sign is not None
    facts = BasicFacts(NAME, "2", BIRTH, ADDRESS)
    good = {
        "city": "112186",
        "resident_code": "12345678901",
        "card_id": "CARD-0001",
        "birth_date": BIRTH,
        "card_expiry": CARD_EXPIRY,
        "facts": facts,
        "auth_key": card_keys.auth_public,
        "sign_key": card_keys.sign_public,
    }
    bad: list[tuple[dict[str, object], str]] = [
        ({"auth_key": small_key.public_key()}, "public_key"),
        ({"sign_key": small_key.public_key()}, "public_key"),
        ({"facts": None}, "facts"),
        ({"card_expiry": date(2026, 11, 22)}, "card_expiry"),
    ]
    for changes, field in bad:
        with pytest.raises(InvalidInput) as caught:
            service.issue_pair(**{**good, **changes})  # type: ignore[arg-type]
        assert caught.value.field == field
    # nothing was issued, and the card's pair is still good (not superseded)
    for cert in (old.sign, old.auth):
        record = service.status(cert.serial_number)
        assert record is not None and record.status == "good"
    assert _crl_reasons(service, CertKind.SIGN) == {}
    # a card that expires today is still certified, to the end of that day
    pair = service.issue_pair(**{**good, "card_expiry": date(2026, 11, 23)})  # type: ignore[arg-type]
    assert pair.auth.not_valid_after_utc == datetime(2026, 11, 23, 14, 59, 59, tzinfo=UTC)


# --- revocation -----------------------------------------------------------------------------


@pytest.mark.parametrize("cause", list(RevocationCause))
def test_each_cause_revokes_what_it_should(
    service: JpkiService, card_keys: CardKeys, cause: RevocationCause
) -> None:
    pair = _issue(service, card_keys)
    assert pair.sign is not None
    other = _issue(service, card_keys, "CARD-0002")  # another card is untouched
    assert other.sign is not None
    serials = {CertKind.SIGN: pair.sign.serial_number, CertKind.AUTH: pair.auth.serial_number}

    revoked = service.revoke_card("CARD-0001", cause)

    assert set(revoked) == {serials[k] for k in REACH[cause]}
    for kind, serial in serials.items():
        record = service.status(serial)
        assert record is not None
        reasons = _crl_reasons(service, kind)
        if kind in REACH[cause]:
            assert record.status == "revoked"
            assert record.cause == cause.value
            assert record.revoked_at is not None
            assert reasons == {serial: REASON[cause]}
        else:
            assert record.status == "good"
            assert record.cause is None
            assert reasons == {}
    for cert in (other.sign, other.auth):
        other_record = service.status(cert.serial_number)
        assert other_record is not None
        assert other_record.status == "good"


def test_second_revocation_revokes_nothing_new(service: JpkiService, card_keys: CardKeys) -> None:
    pair = _issue(service, card_keys)
    assert pair.sign is not None
    assert len(service.revoke_card("CARD-0001", RevocationCause.LOSS)) == 2
    assert service.revoke_card("CARD-0001", RevocationCause.LOSS) == []
    assert service.revoke_card("CARD-0001", RevocationCause.DEATH) == []
    # the first cause stands, in the store and in the CRL
    record = service.status(pair.auth.serial_number)
    assert record is not None and record.cause == "loss"
    assert _crl_reasons(service, CertKind.AUTH) == {
        pair.auth.serial_number: x509.ReasonFlags.key_compromise
    }


def test_move_then_death_revokes_the_rest(service: JpkiService, card_keys: CardKeys) -> None:
    pair = _issue(service, card_keys)
    assert pair.sign is not None
    assert service.revoke_card("CARD-0001", RevocationCause.MOVE) == [pair.sign.serial_number]
    assert service.revoke_card("CARD-0001", RevocationCause.MOVE) == []
    assert service.revoke_card("CARD-0001", RevocationCause.DEATH) == [pair.auth.serial_number]
    assert _crl_reasons(service, CertKind.SIGN) == {
        pair.sign.serial_number: x509.ReasonFlags.affiliation_changed
    }
    assert _crl_reasons(service, CertKind.AUTH) == {
        pair.auth.serial_number: x509.ReasonFlags.cessation_of_operation
    }


def test_unknown_card_is_not_found(service: JpkiService, card_keys: CardKeys) -> None:
    with pytest.raises(NotFound) as caught:
        service.revoke_card("NO-SUCH-CARD", RevocationCause.LOSS)
    assert caught.value.field == "card_id"
    _issue(service, card_keys)
    with pytest.raises(NotFound):
        service.revoke_card("NO-SUCH-CARD", RevocationCause.DEATH)


def test_reissue_supersedes_the_old_pair(service: JpkiService, card_keys: CardKeys) -> None:
    old = _issue(service, card_keys)
    new = _issue(service, card_keys)
    assert old.sign is not None and new.sign is not None
    for cert in (old.sign, old.auth):
        record = service.status(cert.serial_number)
        assert record is not None
        assert (record.status, record.cause) == ("revoked", "renewal")
    for cert in (new.sign, new.auth):
        record = service.status(cert.serial_number)
        assert record is not None and record.status == "good"
    assert _crl_reasons(service, CertKind.SIGN) == {
        old.sign.serial_number: x509.ReasonFlags.superseded
    }
    # revoking the card now reaches only the new pair
    assert set(service.revoke_card("CARD-0001", RevocationCause.DEATH)) == {
        new.sign.serial_number,
        new.auth.serial_number,
    }


# --- OCSP in-process ------------------------------------------------------------------------


def _ask(
    service: JpkiService, kind: CertKind, cert: x509.Certificate, issuer: x509.Certificate
) -> ocsp.OCSPResponse:
    request = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1()).build()
    der = service.ocsp_response(kind, request.public_bytes(serialization.Encoding.DER))
    response = ocsp.load_der_ocsp_response(der)
    assert response.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert response.serial_number == cert.serial_number
    ca = service.authority.cas.issuing[kind]
    ca_key = ca.public_key()
    assert isinstance(ca_key, rsa.RSAPublicKey)
    assert response.signature_hash_algorithm is not None
    ca_key.verify(
        response.signature,
        response.tbs_response_bytes,
        padding.PKCS1v15(),
        response.signature_hash_algorithm,
    )
    return response


def test_ocsp_good_revoked_unknown(service: JpkiService, card_keys: CardKeys) -> None:
    pair = _issue(service, card_keys)
    assert pair.sign is not None
    sign_ca = service.authority.cas.issuing[CertKind.SIGN]
    auth_ca = service.authority.cas.issuing[CertKind.AUTH]

    assert _ask(service, CertKind.AUTH, pair.auth, auth_ca).certificate_status is (
        ocsp.OCSPCertStatus.GOOD
    )
    assert _ask(service, CertKind.SIGN, pair.sign, sign_ca).certificate_status is (
        ocsp.OCSPCertStatus.GOOD
    )
    # a signature certificate asked of the auth responder is not its to know
    assert _ask(service, CertKind.AUTH, pair.sign, auth_ca).certificate_status is (
        ocsp.OCSPCertStatus.UNKNOWN
    )

    service.revoke_card("CARD-0001", RevocationCause.MOVE)

    sign_answer = _ask(service, CertKind.SIGN, pair.sign, sign_ca)
    assert sign_answer.certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert sign_answer.revocation_reason is x509.ReasonFlags.affiliation_changed
    # the auth certificate stays good after a move (the same request, answered again)
    assert _ask(service, CertKind.AUTH, pair.auth, auth_ca).certificate_status is (
        ocsp.OCSPCertStatus.GOOD
    )

    service.revoke_card("CARD-0001", RevocationCause.DEATH)
    auth_answer = _ask(service, CertKind.AUTH, pair.auth, auth_ca)
    assert auth_answer.certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert auth_answer.revocation_reason is x509.ReasonFlags.cessation_of_operation


def test_ocsp_other_issuer_is_unknown(service: JpkiService, card_keys: CardKeys) -> None:
    """The auth certificate's serial under another issuer's hashes is not this responder's."""
    pair = _issue(service, card_keys)
    for wrong in (service.authority.cas.issuing[CertKind.SIGN], service.authority.cas.root):
        answer = _ask(service, CertKind.AUTH, pair.auth, wrong)
        assert answer.certificate_status is ocsp.OCSPCertStatus.UNKNOWN
    for algorithm in (hashes.SHA1(), hashes.SHA256(), hashes.SHA512()):
        request = (
            ocsp.OCSPRequestBuilder()
            .add_certificate(pair.auth, service.authority.cas.issuing[CertKind.AUTH], algorithm)
            .build()
        )
        der = service.ocsp_response(CertKind.AUTH, request.public_bytes(serialization.Encoding.DER))
        assert ocsp.load_der_ocsp_response(der).certificate_status is ocsp.OCSPCertStatus.GOOD


def test_ocsp_malformed_request(service: JpkiService) -> None:
    for body in (b"", b"not an OCSP request", b"\x30\x03\x02\x01\x01"):
        response = ocsp.load_der_ocsp_response(service.ocsp_response(CertKind.AUTH, body))
        assert response.response_status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def _crl_number(service: JpkiService, kind: CertKind, tmp_path: Path) -> int:
    """The CRL number as openssl reads it (an independent parser), checked against ours."""
    der = service.crl_der(kind)
    path = tmp_path / f"{kind.value}.crl"
    path.write_bytes(der)
    shown = subprocess.run(
        ["openssl", "crl", "-inform", "DER", "-in", str(path), "-noout", "-crlnumber"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout  # crlNumber=0x…
    number = int(shown.strip().split("=", 1)[1], 16)
    ours = x509.load_der_x509_crl(der).extensions.get_extension_for_class(x509.CRLNumber)
    assert ours.value.crl_number == number
    return number


def test_crl_numbers_grow_with_every_crl_even_when_the_clock_stands_still(
    service: JpkiService, card_keys: CardKeys, tmp_path: Path
) -> None:
    """RFC 5280 §5.2.3: a counter in the store, per CA; a timestamp repeats under a fixed clock."""
    first = _crl_number(service, CertKind.AUTH, tmp_path)
    assert _crl_number(service, CertKind.AUTH, tmp_path) == first  # the same CRL, cached
    _issue(service, card_keys)
    service.revoke_card("CARD-0001", RevocationCause.LOSS)
    after = _crl_number(service, CertKind.AUTH, tmp_path)
    assert after > first
    assert _crl_number(service, CertKind.SIGN, tmp_path) >= 1  # each CA counts on its own
    service.revoke_card("CARD-0001", RevocationCause.DEATH)  # nothing new: same CRL
    assert _crl_number(service, CertKind.AUTH, tmp_path) == after
