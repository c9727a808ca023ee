"""The authority over HTTP: CA certificates, CRLs, OCSP (RFC 6960 §A.1), issuance and revocation.

The same app answers on two listeners (``kofu serve jpki``).  CA
certificates, CRLs and OCSP are public, in plain HTTP as relying parties
expect and as the AIA and CRL distribution point of every certificate say.
Issuance, revocation and the status register are private: they answer only
over mutual TLS on LGWAN, issuance and revocation only to a city
(``city-CODE``, for its own residents' cards), status to the cities and the
center.  A request without a network certificate (the plain listener) or
with anyone else's gets 403 ``caller_not_allowed`` and changes nothing.
"""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Depends, FastAPI, Request, Response

from kofu.contracts.jpki import (
    CertificateRequest,
    CertificatesIssued,
    CertificateStatus,
    RevocationRequest,
    Revoked,
)
from kofu.core.errors import InvalidInput, Refused
from kofu.core.holder import holder_digest
from kofu.core.http import binary, caller, party_app
from kofu.jpki.domain.profiles import BasicFacts, CertKind
from kofu.jpki.domain.revocation import RevocationCause
from kofu.jpki.services.authority import JpkiService

__all__ = ["create_app"]

OCSP = "application/ocsp-response"


def _public_key(pem: str) -> rsa.RSAPublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except ValueError as exc:
        raise InvalidInput("not a PEM public key", field="public_key") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise InvalidInput("the card's keys are RSA", field="public_key")
    return key


def _city_of(name: str) -> str | None:
    """The city code of a city's LGWAN name (``city-112186``); None for any other name."""
    code = name.removeprefix("city-")
    return code if name.startswith("city-") and len(code) == 6 and code.isdigit() else None


def _refuse(who: str | None, whom: str, doing: str) -> Refused:
    holder = f"this network certificate is {who}'s" if who else "this request came without any"
    return Refused(
        "caller_not_allowed",
        f"only {whom} may {doing}, over mutual TLS on LGWAN; {holder}",
        message_ja="システムの接続設定に誤りがあるため、現在処理できません。係員にお知らせください。",
    )


async def _a_city(request: Request) -> str:
    """The calling city's code; anyone else (or no certificate at all) is refused."""
    who = caller(request)
    code = _city_of(who) if who else None
    if code is None:
        raise _refuse(who, "a city", "ask for or revoke card certificates")
    return code


async def _city_or_center(request: Request) -> str:
    """The caller's network name, when it is a city or the center."""
    who = caller(request)
    if who is None or (who != "center" and _city_of(who) is None):
        raise _refuse(who, "the cities and the center", "read a certificate's status")
    return who


def create_app(service: JpkiService) -> FastAPI:
    app = party_app("kofu jpki", "The JPKI authority: CAs, CRLs, OCSP, issuance.")

    @app.get("/ca/{name}.der", **binary("application/pkix-cert", "the CA certificate, DER"))
    def ca(name: str) -> Response:
        return Response(service.ca_der(name), media_type="application/pkix-cert")

    @app.get("/crl/{kind}.crl", **binary("application/pkix-crl", "the current CRL, DER"))
    def crl(kind: CertKind) -> Response:
        return Response(service.crl_der(kind), media_type="application/pkix-crl")

    @app.post("/ocsp/{kind}", **binary(OCSP, "an OCSP response (RFC 6960)"))
    async def ocsp_post(kind: CertKind, request: Request) -> Response:
        body = await request.body()
        return Response(service.ocsp_response(kind, body), media_type="application/ocsp-response")

    @app.get("/ocsp/{kind}/{encoded:path}", **binary(OCSP, "an OCSP response (RFC 6960)"))
    def ocsp_get(kind: CertKind, encoded: str) -> Response:
        try:
            body = base64.b64decode(encoded.replace("%2B", "+").replace("%2F", "/"), validate=False)
        except ValueError:  # binascii.Error, or a character no base64 has
            body = b""
        return Response(service.ocsp_response(kind, body), media_type="application/ocsp-response")

    @app.post("/certificates")
    def issue(body: CertificateRequest, city: str = Depends(_a_city)) -> CertificatesIssued:
        if body.city != city:
            raise _refuse(
                f"city-{city}", f"city {body.city}", "ask for its residents' certificates"
            )
        facts = None
        if body.facts is not None:
            f = body.facts
            facts = BasicFacts(f.name, f.sex, f.birth_date, f.address)
        pair = service.issue_pair(
            city=body.city,
            resident_code=body.resident_code,
            card_id=body.card_id,
            birth_date=body.birth_date,
            card_expiry=body.card_expiry,
            facts=facts,
            auth_key=_public_key(body.auth_public_key_pem),
            sign_key=_public_key(body.sign_public_key_pem) if body.sign_public_key_pem else None,
        )
        pem = serialization.Encoding.PEM
        return CertificatesIssued(
            auth_pem=pair.auth.public_bytes(pem).decode(),
            auth_serial=f"{pair.auth.serial_number:x}",
            sign_pem=pair.sign.public_bytes(pem).decode() if pair.sign else None,
            sign_serial=f"{pair.sign.serial_number:x}" if pair.sign else None,
        )

    @app.post("/revocations")
    def revoke(body: RevocationRequest, city: str = Depends(_a_city)) -> Revoked:
        revoked = service.revoke_card(body.card_id, RevocationCause(body.cause), city=city)
        return Revoked(revoked=tuple(f"{s:x}" for s in revoked))

    @app.get("/status/{serial}", dependencies=[Depends(_city_or_center)])
    def status(serial: str) -> CertificateStatus:
        try:
            number = int(serial, 16)
        except ValueError as exc:
            raise InvalidInput("serial is hexadecimal", field="serial") from exc
        if len(serial) > 40:
            raise InvalidInput("a serial is at most 40 hexadecimal digits", field="serial")
        record = service.status(number)
        if record is None:
            return CertificateStatus(serial=serial, status="unknown")
        return CertificateStatus.model_validate(
            {
                "serial": serial,
                "status": record.status,
                "cause": record.cause,
                "city": record.city,
                "kind": record.kind,
                "holder_digest": holder_digest(record.city, record.resident_code),
                "resident_code": record.resident_code,
            }
        )

    return app
