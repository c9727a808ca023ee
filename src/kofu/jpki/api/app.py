"""The authority over HTTP: CA certificates, CRLs, OCSP (RFC 6960 §A.1), issuance and revocation.

CRLs and OCSP are plain HTTP as relying parties expect; issuance and
revocation are the cities' calls.
"""

from __future__ import annotations

import base64
from datetime import date

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Request, Response
from pydantic import BaseModel, Field

from kofu.core.errors import InvalidInput
from kofu.core.holder import holder_digest
from kofu.core.http import binary, party_app
from kofu.jpki.domain.profiles import BasicFacts, CertKind
from kofu.jpki.domain.revocation import RevocationCause
from kofu.jpki.services.authority import JpkiService

__all__ = ["create_app"]

OCSP = "application/ocsp-response"


class FactsIn(BaseModel):
    name: str
    sex: str
    birth_date: str
    address: str


class IssueIn(BaseModel):
    # at most the widths of the authority's register (a longer value is a 422, not a DB error)
    city: str = Field(max_length=6)
    resident_code: str = Field(max_length=11)
    card_id: str = Field(max_length=32)
    birth_date: str
    card_expiry: str
    auth_public_key_pem: str
    sign_public_key_pem: str | None = None
    facts: FactsIn | None = None


class IssueOut(BaseModel):
    auth_pem: str
    auth_serial: str
    sign_pem: str | None
    sign_serial: str | None


class RevokeIn(BaseModel):
    card_id: str
    cause: RevocationCause


def _public_key(pem: str) -> rsa.RSAPublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except ValueError as exc:
        raise InvalidInput("not a PEM public key", field="public_key") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise InvalidInput("the card's keys are RSA", field="public_key")
    return key


def _date(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(f"{field} must be a date like 2026-11-23", field=field) from exc


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
    def issue(body: IssueIn) -> IssueOut:
        facts = None
        if body.facts is not None:
            f = body.facts
            facts = BasicFacts(f.name, f.sex, _date(f.birth_date, "facts.birth_date"), f.address)
        pair = service.issue_pair(
            city=body.city,
            resident_code=body.resident_code,
            card_id=body.card_id,
            birth_date=_date(body.birth_date, "birth_date"),
            card_expiry=_date(body.card_expiry, "card_expiry"),
            facts=facts,
            auth_key=_public_key(body.auth_public_key_pem),
            sign_key=_public_key(body.sign_public_key_pem) if body.sign_public_key_pem else None,
        )
        pem = serialization.Encoding.PEM
        return IssueOut(
            auth_pem=pair.auth.public_bytes(pem).decode(),
            auth_serial=f"{pair.auth.serial_number:x}",
            sign_pem=pair.sign.public_bytes(pem).decode() if pair.sign else None,
            sign_serial=f"{pair.sign.serial_number:x}" if pair.sign else None,
        )

    @app.post("/revocations")
    def revoke(body: RevokeIn) -> dict[str, list[str]]:
        return {"revoked": [f"{s:x}" for s in service.revoke_card(body.card_id, body.cause)]}

    @app.get("/status/{serial}")
    def status(serial: str) -> dict[str, str | None]:
        try:
            number = int(serial, 16)
        except ValueError as exc:
            raise InvalidInput("serial is hexadecimal", field="serial") from exc
        record = service.status(number)
        if record is None:
            return {
                "serial": serial,
                "status": "unknown",
                "cause": None,
                "city": None,
                "kind": None,
                "holder_digest": None,
                "resident_code": None,
            }
        return {
            "serial": serial,
            "status": record.status,
            "cause": record.cause,
            "city": record.city,
            "kind": record.kind,
            "holder_digest": holder_digest(record.city, record.resident_code),
            "resident_code": record.resident_code,  # for juki: where the record is now
        }

    return app
