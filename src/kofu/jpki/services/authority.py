"""The authority's use cases: issue a card's certificate pair, revoke, publish CRLs, answer OCSP.

CRLs and OCSP answers are signed ahead and cached until their next update or
until a revocation bumps the store's revision, as production responders do;
a status lookup is one indexed read, whatever the number of revoked serials.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509 import ocsp

from kofu.core.clock import Clock
from kofu.core.errors import Conflict, InvalidInput, NotFound, Refused
from kofu.jpki.domain.ca import RSA_BITS, Authority, end_of_day
from kofu.jpki.domain.ports import CertificateRecord, JpkiUnits
from kofu.jpki.domain.profiles import BasicFacts, CertKind, certificate_validity_end
from kofu.jpki.domain.revocation import RevocationCause, crl_reason, kinds_revoked

__all__ = ["IssuedPair", "JpkiService"]

CRL_LIFETIME = timedelta(hours=24)
OCSP_LIFETIME = timedelta(hours=1)
REVISION_TTL = 1.0  # seconds another worker's revocation may take to reach this worker's cache


@dataclass(frozen=True)
class IssuedPair:
    """The two certificates written onto one card."""

    sign: x509.Certificate | None  # none for a child under 15 who did not ask for it
    auth: x509.Certificate


class JpkiService:
    """One authority over one store; safe to share between request threads."""

    def __init__(
        self, units: JpkiUnits, authority: Authority, clock: Clock, reads: JpkiUnits | None = None
    ) -> None:
        self.units = units  # a unit of work per step (SQL in service, in memory in fast tests)
        # one-statement reads (status, OCSP, revision): on PostgreSQL sent without BEGIN/COMMIT
        self.reads = reads or units
        self.clock = clock
        self.authority = authority
        self._lock = threading.Lock()
        self._crl: dict[CertKind, tuple[int, datetime, bytes]] = {}
        self._ocsp: dict[tuple[CertKind, bytes], tuple[int, datetime, bytes]] = {}
        self._revision = (0, -REVISION_TTL)  # (value, monotonic time read)

    # --- issuing --------------------------------------------------------------------------

    def issue_pair(
        self,
        *,
        city: str,
        resident_code: str,
        card_id: str,
        birth_date: date,
        card_expiry: date,
        facts: BasicFacts | None,
        auth_key: rsa.RSAPublicKey,
        sign_key: rsa.RSAPublicKey | None,
    ) -> IssuedPair:
        """Certify the card's keys: validity to the fifth birthday after issue or the card's end.

        A card holds one valid pair: certificates it held before are revoked as
        superseded (更新), in the same transaction.
        """
        now = self.clock.now()
        for key in (auth_key, sign_key):
            if key is not None and key.key_size != RSA_BITS:
                raise InvalidInput(
                    f"the card's keys are RSA-{RSA_BITS}, not RSA-{key.key_size}",
                    field="public_key",
                )
        if sign_key is not None and facts is None:
            raise InvalidInput(
                "the signature certificate needs the four basic facts", field="facts"
            )
        if card_expiry < now.date():
            raise InvalidInput(f"the card expired on {card_expiry}", field="card_expiry")
        end = end_of_day(certificate_validity_end(birth_date, now.date(), card_expiry))
        certs: dict[CertKind, x509.Certificate] = {}
        with self.units() as uow:
            repo = uow.certificates
            for old in repo.for_card(card_id):
                _check_owner(old, city)
                if old.status == "good":
                    repo.revoke(old.serial, now, RevocationCause.RENEWAL.value)
            for kind, key in ((CertKind.AUTH, auth_key), (CertKind.SIGN, sign_key)):
                if key is None:
                    continue
                serial = x509.random_serial_number()
                cert = self.authority.issue(
                    kind,
                    key,
                    serial=serial,
                    not_before=now.astimezone(UTC) - timedelta(minutes=1),
                    not_after=end,
                    subject_cn=f"{serial:x}"[:20],
                    facts=facts if kind is CertKind.SIGN else None,
                )
                repo.add(_record_of(cert, kind, city, resident_code, card_id))
                certs[kind] = cert
            uow.commit()
        self._revision = (0, -REVISION_TTL)
        return IssuedPair(sign=certs.get(CertKind.SIGN), auth=certs[CertKind.AUTH])

    # --- revoking -------------------------------------------------------------------------

    def revoke_card(
        self, card_id: str, cause: RevocationCause, *, city: str | None = None
    ) -> list[int]:
        """Revoke the card's certificates that ``cause`` reaches; returns the serials revoked.

        With ``city`` (the caller on the private link), only a card that city's desk had certified.
        """
        now = self.clock.now()
        reach = {k.value for k in kinds_revoked(cause)}
        with self.units() as uow:
            repo = uow.certificates
            records = repo.for_card(card_id)
            if not records:
                raise NotFound(f"no certificates for card {card_id}", field="card_id")
            done = []
            for rec in records:
                if city is not None:
                    _check_owner(rec, city)
                if rec.kind in reach and rec.status == "good":
                    repo.revoke(rec.serial, now, cause.value)
                    done.append(rec.serial)
            uow.commit()
        self._revision = (0, -REVISION_TTL)  # this worker sees its own revocation at once
        return done

    def revoke_serial(self, serial: int, cause: RevocationCause) -> None:
        with self.units() as uow:
            repo = uow.certificates
            record = repo.get(serial)
            if record is None:
                raise NotFound(f"no certificate with serial {serial:x}", field="serial")
            if record.status == "revoked":
                raise Conflict(f"certificate {serial:x} is already revoked", field="serial")
            repo.revoke(serial, self.clock.now(), cause.value)
            uow.commit()
        self._revision = (0, -REVISION_TTL)

    def status(self, serial: int) -> CertificateRecord | None:
        with self.reads() as uow:
            return uow.certificates.get(serial)

    # --- publishing -----------------------------------------------------------------------

    def ca_der(self, name: str) -> bytes:
        cas = self.authority.cas
        cert = cas.root if name == "root" else cas.issuing.get(_kind(name))
        assert cert is not None
        return cert.public_bytes(serialization.Encoding.DER)

    def crl_der(self, kind: CertKind) -> bytes:
        """The current CRL, re-signed only after a revocation or when its next update nears."""
        now = self.clock.now()
        with self.units() as uow:
            repo = uow.certificates
            rev = repo.revision()
            cached = self._crl.get(kind)
            if cached and cached[0] == rev and now < cached[1] - CRL_LIFETIME / 2:
                return cached[2]
            revoked = [
                (s, _utc(at), crl_reason(RevocationCause(c)))
                for s, at, c in repo.revoked(kind.value)
            ]
        next_update = now + CRL_LIFETIME
        number = self._next_crl_number(kind)
        crl = self.authority.crl(
            kind, revoked, now.astimezone(UTC), next_update.astimezone(UTC), number
        )
        der = crl.public_bytes(serialization.Encoding.DER)
        with self._lock:
            self._crl[kind] = (rev, next_update, der)
        return der

    def _next_crl_number(self, kind: CertKind) -> int:
        """The next CRL number of ``kind``'s CA, shared by every worker through the store."""
        for attempt in range(2):
            try:
                with self.units() as uow:
                    value = uow.certificates.next_value(f"crl-{kind.value}")
                    uow.commit()
                    return value
            except Conflict:  # another worker made the counter at the same moment
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _current_revision(self) -> int:
        """The store's revocation counter, re-read at most every REVISION_TTL seconds."""
        value, read_at = self._revision
        if time.monotonic() - read_at < REVISION_TTL:
            return value
        with self.reads() as uow:
            value = uow.certificates.revision()
        self._revision = (value, time.monotonic())
        return value

    def ocsp_response(self, kind: CertKind, request_der: bytes) -> bytes:
        """An RFC 6960 response for the one certificate the request asks about.

        A pre-signed answer is reused while it is fresh and no revocation has
        happened since it was signed; the lookup is a dictionary hit.
        """
        now = self.clock.now()
        key = (kind, request_der)
        rev = self._current_revision()
        cached = self._ocsp.get(key)
        if cached and cached[0] == rev and now < cached[1] - OCSP_LIFETIME / 2:
            return cached[2]
        request = _parse_ocsp_request(request_der)
        if request is None:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.MALFORMED_REQUEST
            ).public_bytes(serialization.Encoding.DER)
        with self.reads() as uow:
            record = uow.certificates.get(request.serial_number)
        der = self._sign_ocsp(kind, request, record, now)
        with self._lock:
            if len(self._ocsp) > 200_000:
                self._ocsp.clear()
            self._ocsp[key] = (rev, now + OCSP_LIFETIME, der)
        return der

    def forget_cached_answers(self) -> None:
        """Drop pre-signed OCSP answers (the benchmark's signed-every-time case)."""
        with self._lock:
            self._ocsp.clear()

    def _sign_ocsp(
        self,
        kind: CertKind,
        request: ocsp.OCSPRequest,
        record: CertificateRecord | None,
        now: datetime,
    ) -> bytes:
        issuer = self.authority.cas.issuing[kind]
        if record is None or record.kind != kind.value or not _names_issuer(request, issuer):
            status, rev_time, reason = ocsp.OCSPCertStatus.UNKNOWN, None, None
        elif record.status == "revoked":
            assert record.revoked_at is not None and record.cause is not None
            status = ocsp.OCSPCertStatus.REVOKED
            rev_time, reason = _utc(record.revoked_at), crl_reason(RevocationCause(record.cause))
        else:
            status, rev_time, reason = ocsp.OCSPCertStatus.GOOD, None, None
        this_update = now.astimezone(UTC)
        builder = (
            ocsp.OCSPResponseBuilder()
            .add_response_by_hash(
                request.issuer_name_hash,
                request.issuer_key_hash,
                request.serial_number,
                request.hash_algorithm,
                status,
                this_update,
                this_update + OCSP_LIFETIME,
                rev_time,
                reason,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, issuer)
            .certificates([issuer])
        )
        response = self.authority.keys.sign_with(kind.value, builder)
        return response.public_bytes(serialization.Encoding.DER)


def _check_owner(record: CertificateRecord, city: str) -> None:
    """A card's certificates are renewed and revoked only by the city whose desk issued them."""
    if record.city != city:
        raise Refused(
            "card_of_another_city",
            f"card {record.card_id} was certified for city {record.city}, not city {city}",
            message_ja="他の市区町村で交付されたカードです。",
        )


def _parse_ocsp_request(der: bytes) -> ocsp.OCSPRequest | None:
    """The request, or None when this responder cannot read it (answered malformedRequest).

    Besides garbage, that is a request for more than one certificate or one whose
    CertID uses a hash other than SHA-1/SHA-2: cryptography reads neither.
    """
    try:
        request = ocsp.load_der_ocsp_request(der)
        request.hash_algorithm  # noqa: B018 — raises UnsupportedAlgorithm for e.g. MD5
    except (ValueError, NotImplementedError, UnsupportedAlgorithm):
        return None
    return request


def _names_issuer(request: ocsp.OCSPRequest, issuer: x509.Certificate) -> bool:
    """Whether the request's CertID names ``issuer`` (RFC 6960 §4.1.1: name and key hashes)."""
    key = issuer.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    name_hash = hashes.Hash(request.hash_algorithm)
    name_hash.update(issuer.subject.public_bytes())
    key_hash = hashes.Hash(request.hash_algorithm)
    key_hash.update(key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1))
    return (
        name_hash.finalize() == request.issuer_name_hash
        and key_hash.finalize() == request.issuer_key_hash
    )


def _kind(name: str) -> CertKind:
    try:
        return CertKind(name)
    except ValueError as exc:
        raise InvalidInput(f"unknown CA {name!r}; one of root, sign, auth", field="ca") from exc


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _record_of(
    cert: x509.Certificate, kind: CertKind, city: str, resident_code: str, card_id: str
) -> CertificateRecord:
    return CertificateRecord(
        serial=cert.serial_number,
        kind=kind.value,
        city=city,
        resident_code=resident_code,
        card_id=card_id,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        status="good",
        revoked_at=None,
        cause=None,
        der=cert.public_bytes(serialization.Encoding.DER),
    )
