"""Wiring the authority from settings: its store, its keys, its URLs, its clock.

``LocalAuthority`` is the same service called in-process, answering in the
contracts its private link answers in: a demo or a test on one machine can
run a city's card desk without starting the authority.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from sqlalchemy import Engine

from kofu.contracts.jpki import CertificatesIssued
from kofu.core.clock import Clock, clock_from_env
from kofu.core.db import make_engine, migrate, single_statements
from kofu.core.errors import InvalidInput
from kofu.core.keys import KeyStore
from kofu.core.network import NetworkIdentity, network_identity
from kofu.core.settings import Settings
from kofu.jpki.adapters.keys import FileKeyStore, load_or_create_hierarchy
from kofu.jpki.adapters.uow import jpki_units
from kofu.jpki.api.app import create_app
from kofu.jpki.domain.ca import Authority, Urls
from kofu.jpki.domain.profiles import BasicFacts
from kofu.jpki.domain.revocation import RevocationCause
from kofu.jpki.services.authority import JpkiService

__all__ = ["LocalAuthority", "build_jpki", "jpki_ready", "jpki_service", "jpki_workers"]


def _store(settings: Settings) -> Engine:
    engine = make_engine(*settings.database_for("jpki"))
    migrate(engine, "jpki")
    return engine


def jpki_service(engine: Engine, keys: KeyStore, urls: Urls, clock: Clock) -> JpkiService:
    """The authority's service over ``engine``, its CA hierarchy made once beside its keys."""
    authority = Authority(keys, load_or_create_hierarchy(keys, clock.now()), urls)
    reads = jpki_units(single_statements(engine))  # status and OCSP: one SELECT, no BEGIN
    return JpkiService(jpki_units(engine), authority, clock, reads)


def build_jpki(settings: Settings, base_url: str, clock: Clock) -> JpkiService:
    """The authority over KOFU_HOME/jpki (keys) and its own database or schema."""
    keys = FileKeyStore(settings.home / "jpki")
    return jpki_service(_store(settings), keys, Urls(base_url.rstrip("/")), clock)


def jpki_ready(base: str, private: str, identity: NetworkIdentity) -> dict[str, Any]:
    """The one JSON line ``kofu serve jpki`` prints once listening."""
    return {
        "service": "jpki",
        "url": base,
        "crl": {k: f"{base}/crl/{k}.crl" for k in ("sign", "auth")},
        "ocsp": {k: f"{base}/ocsp/{k}" for k in ("sign", "auth")},
        "ca": {k: f"{base}/ca/{k}.der" for k in ("root", "sign", "auth")},
        "docs": f"{base}/docs",
        "private": private,  # cities (issuance, revocation) and the center (status)
        "tls": {"ca": str(identity.ca)},
    }


def jpki_workers(settings: Settings, base_url: str, clock: Clock) -> tuple[NetworkIdentity, Any]:
    """Keys and store made once here; the identity of its private listener; a worker's app."""
    engine = _store(settings)  # keys and store ready before any worker forks
    jpki_service(engine, FileKeyStore(settings.home / "jpki"), Urls(base_url.rstrip("/")), clock)
    engine.dispose()

    def app() -> FastAPI:
        return create_app(build_jpki(settings, base_url, clock))

    return network_identity(settings.home, "jpki", "lgwan"), app


class LocalAuthority:
    """The authority's service called in-process, answering as its private link does."""

    def __init__(self, settings: Settings, base_url: str, clock: Clock | None = None) -> None:
        self.engine = _store(settings)  # its own store, disposed of by whoever made it
        keys, urls = FileKeyStore(settings.home / "jpki"), Urls(base_url.rstrip("/"))
        self.service = jpki_service(self.engine, keys, urls, clock or clock_from_env())

    def issue_pair(
        self,
        *,
        city: str,
        resident_code: str,
        card_id: str,
        birth_date: date,
        card_expiry: date,
        facts: dict[str, str] | None,
        auth_public_key_pem: str,
        sign_public_key_pem: str | None,
    ) -> CertificatesIssued:
        basic = (
            BasicFacts(
                facts["name"],
                facts["sex"],
                date.fromisoformat(facts["birth_date"]),
                facts["address"],
            )
            if facts
            else None
        )
        pair = self.service.issue_pair(
            city=city,
            resident_code=resident_code,
            card_id=card_id,
            birth_date=birth_date,
            card_expiry=card_expiry,
            facts=basic,
            auth_key=_rsa(auth_public_key_pem),
            sign_key=_rsa(sign_public_key_pem) if sign_public_key_pem else None,
        )
        pem = serialization.Encoding.PEM
        return CertificatesIssued(
            auth_pem=pair.auth.public_bytes(pem).decode(),
            auth_serial=f"{pair.auth.serial_number:x}",
            sign_pem=pair.sign.public_bytes(pem).decode() if pair.sign else None,
            sign_serial=f"{pair.sign.serial_number:x}" if pair.sign else None,
        )

    def revoke_card(self, card_id: str, cause: str) -> list[str]:
        try:
            reason = RevocationCause(cause)
        except ValueError as exc:
            raise InvalidInput(f"unknown revocation cause {cause!r}", field="cause") from exc
        return [f"{s:x}" for s in self.service.revoke_card(card_id, reason)]


def _rsa(pem: str) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, rsa.RSAPublicKey):
        raise InvalidInput("the card's keys are RSA", field="public_key")
    return key
