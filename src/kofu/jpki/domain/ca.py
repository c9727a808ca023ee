"""The authority's certificate hierarchy and how it signs (RFC 5280).

One root CA and two issuing CAs, one per certificate kind, all RSA-2048 with
SHA256withRSA as the card uses.  Private keys are reached only through a
``KeyStore`` so that the CA logic never knows whether a key sits in a file or
in an HSM.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from kofu.core.clock import JST
from kofu.core.keys import PublicKey, Signable
from kofu.jpki.domain.profiles import BasicFacts, CertKind, policy_of

__all__ = ["Authority", "CaKeys", "KeyStore", "Urls", "build_hierarchy", "end_of_day"]

RSA_BITS = 2048


T = TypeVar("T")


class KeyStore(Protocol):
    """Where CA private keys live: they sign there and never come out (kofu.core.keys)."""

    def public_key(self, name: str) -> PublicKey: ...

    def sign_with(self, name: str, builder: Signable[T]) -> T: ...


@dataclass(frozen=True)
class Urls:
    """The authority's published URLs, written into every certificate."""

    base: str

    def crl(self, kind: CertKind) -> str:
        return f"{self.base}/crl/{kind.value}.crl"

    def ocsp(self, kind: CertKind) -> str:
        return f"{self.base}/ocsp/{kind.value}"

    def ca_cert(self, kind: CertKind) -> str:
        return f"{self.base}/ca/{kind.value}.der"


@dataclass(frozen=True)
class CaKeys:
    """The CA certificates of the hierarchy."""

    root: x509.Certificate
    issuing: dict[CertKind, x509.Certificate]


def _name(cn: str, ou: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "JPKI"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def end_of_day(day: date) -> datetime:
    """23:59:59 JST of ``day``, in UTC, as certificate validity is written."""
    return datetime.combine(day, time(23, 59, 59), JST).astimezone(UTC)


def _ca_cert(
    keys: KeyStore,
    subject: tuple[x509.Name, str],
    issuer: tuple[x509.Name, str],
    now: datetime,
    years: int,
    path_length: int,
) -> x509.Certificate:
    """A CA certificate for the key named ``subject[1]``, signed by the key ``issuer[1]``."""
    public = keys.public_key(subject[1])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject[0])
        .issuer_name(issuer[0])
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(keys.public_key(issuer[1])),
            critical=False,
        )
    )
    return keys.sign_with(issuer[1], builder)


def build_hierarchy(keys: KeyStore, now: datetime) -> CaKeys:
    """Certificates for the root and both issuing CAs from the keys in ``keys``."""
    root = (_name("JPKI Root CA", "Japan Agency for Local Authority Information Systems"), "root")
    root_cert = _ca_cert(keys, root, root, now, 20, 1)
    issuing = {}
    for kind, label in (
        (CertKind.SIGN, "JPKI for digital signature"),
        (CertKind.AUTH, "JPKI for user authentication"),
    ):
        subject = (_name(f"{label} CA", label), kind.value)
        issuing[kind] = _ca_cert(keys, subject, root, now, 12, 0)
    return CaKeys(root=root_cert, issuing=issuing)


@dataclass
class Authority:
    """Signs end-entity certificates and CRLs for both kinds."""

    keys: KeyStore
    cas: CaKeys
    urls: Urls

    def issue(
        self,
        kind: CertKind,
        public_key: rsa.RSAPublicKey,
        *,
        serial: int,
        not_before: datetime,
        not_after: datetime,
        subject_cn: str,
        facts: BasicFacts | None,
    ) -> x509.Certificate:
        """An end-entity certificate of ``kind``; facts only on the signature certificate."""
        if kind is CertKind.AUTH and facts is not None:
            raise ValueError("the user-authentication certificate carries no basic facts")
        if kind is CertKind.SIGN and facts is None:
            raise ValueError("the signature certificate carries the four basic facts")
        if public_key.key_size != RSA_BITS:
            raise ValueError(f"the card's key must be RSA-{RSA_BITS}")
        ca_cert = self.cas.issuing[kind]
        builder = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                        x509.NameAttribute(NameOID.COMMON_NAME, subject_cn),
                    ]
                )
            )
            .issuer_name(ca_cert.subject)
            .public_key(public_key)
            .serial_number(serial)
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(kind), critical=True)
            .add_extension(
                x509.CertificatePolicies([x509.PolicyInformation(policy_of(kind), None)]),
                critical=False,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    self.keys.public_key(kind.value)
                ),
                critical=False,
            )
            .add_extension(
                x509.CRLDistributionPoints(
                    [
                        x509.DistributionPoint(
                            [x509.UniformResourceIdentifier(self.urls.crl(kind))], None, None, None
                        )
                    ]
                ),
                critical=False,
            )
            .add_extension(
                x509.AuthorityInformationAccess(
                    [
                        x509.AccessDescription(
                            AuthorityInformationAccessOID.OCSP,
                            x509.UniformResourceIdentifier(self.urls.ocsp(kind)),
                        ),
                        x509.AccessDescription(
                            AuthorityInformationAccessOID.CA_ISSUERS,
                            x509.UniformResourceIdentifier(self.urls.ca_cert(kind)),
                        ),
                    ]
                ),
                critical=False,
            )
        )
        if kind is CertKind.AUTH:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
            )
        for ext in facts.extensions() if facts else []:
            builder = builder.add_extension(ext, critical=False)
        return self.keys.sign_with(kind.value, builder)

    def crl(
        self,
        kind: CertKind,
        revoked: Iterable[tuple[int, datetime, x509.ReasonFlags]],
        now: datetime,
        next_update: datetime,
        number: int,
    ) -> x509.CertificateRevocationList:
        """The CRL of one issuing CA (RFC 5280 §5), signed now, valid until ``next_update``.

        ``number`` is the CRL number, which must grow with every CRL the CA signs
        (§5.2.3): a counter in the store, never the clock (a demo clock stands still).
        """
        ca_cert = self.cas.issuing[kind]
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(ca_cert.subject)
            .last_update(now)
            .next_update(next_update)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    self.keys.public_key(kind.value)
                ),
                critical=False,
            )
            .add_extension(x509.CRLNumber(number), critical=False)
        )
        for serial, when, reason in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(serial)
                .revocation_date(when)
                .add_extension(x509.CRLReason(reason), critical=False)
                .build()
            )
        return self.keys.sign_with(kind.value, builder)


def _key_usage(kind: CertKind) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=kind is CertKind.SIGN,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
