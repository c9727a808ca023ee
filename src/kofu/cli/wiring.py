"""How commands reach other parties: over HTTP when a URL is configured, otherwise in-process.

A demo or a test on one machine can run the card desk without starting the
authority: the command then opens the authority's own store under KOFU_HOME,
exactly as ``kofu serve jpki`` would, and speaks to it through the same port.
"""

from __future__ import annotations

import os
from datetime import date
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from kofu.city.adapters.jpki_http import HttpAuthority, Issued
from kofu.city.adapters.juki_watch import wait_for_juki
from kofu.city.domain.ports import CertificateAuthority
from kofu.core.cardkey import card_master_key
from kofu.core.clock import Clock, clock_from_env
from kofu.core.errors import InvalidInput
from kofu.core.settings import Settings

__all__ = ["DEFAULT_JPKI_URL", "authority", "card_master_key", "wait_for_juki"]

DEFAULT_JPKI_URL = "http://127.0.0.1:8801"


class LocalAuthority:
    """The authority's service called in-process, behind the city's port."""

    def __init__(self, settings: Settings, base_url: str, clock: Clock | None = None) -> None:
        from kofu.jpki.bootstrap import build_jpki

        self.service = build_jpki(settings, base_url, clock or clock_from_env())

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
    ) -> Issued:
        from kofu.jpki.domain.profiles import BasicFacts

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
        return Issued(
            auth_pem=pair.auth.public_bytes(pem).decode(),
            auth_serial=f"{pair.auth.serial_number:x}",
            sign_pem=pair.sign.public_bytes(pem).decode() if pair.sign else None,
            sign_serial=f"{pair.sign.serial_number:x}" if pair.sign else None,
        )

    def revoke_card(self, card_id: str, cause: str) -> list[str]:
        from kofu.jpki.domain.revocation import RevocationCause

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


def authority(settings: Settings, city: str) -> CertificateAuthority:
    """KOFU_JPKI_URL when set (a running authority's private https URL), else in-process.

    Over the network the desk speaks as the city: its LGWAN certificate ``city-CODE``.
    """
    url = os.environ.get("KOFU_JPKI_URL")
    if url:
        return _remote(url, settings.home, city)
    return _local(settings, DEFAULT_JPKI_URL)


@cache
def _remote(url: str, home: Path, city: str) -> HttpAuthority:
    """One client (and its connections) per authority and city for the whole process."""
    from kofu.core.network import network_identity

    return HttpAuthority(url, network_identity(home, f"city-{city}", "lgwan"))


@cache
def _local(settings: Settings, base_url: str) -> LocalAuthority:
    return LocalAuthority(settings, base_url)


def juki_url(settings: Settings, name: str) -> str:
    """The URL of a running Juki-net server: ``national`` or ``pref-11`` (from its ready file)."""
    import json

    from kofu.core.errors import NotFound

    path = settings.home / "juki-net" / f"{name}.json"
    try:
        return str(json.loads(path.read_text())["url"])
    except (OSError, ValueError, KeyError) as exc:
        raise NotFound(
            f"no Juki-net server {name} has been started under this KOFU_HOME "
            f"(start it with kofu up, or kofu serve juki); or give its URL",
            field="juki",
        ) from exc
