"""The kiosk's side of the center: sign in with the card, ask, confirm or void.

One flow for the page and the command line: the PIN is checked by the card
(its device writes the counted try before it answers, and a restored older copy
of the card file is refused as ``card_rolled_back``), the card signs the
center's one-time challenge, and the center's refusals come back as
``Refused`` with the words a resident reads.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

from kofu.card.device import insert_card
from kofu.card.ledger import CardLedger
from kofu.card.reader import CardReader, JpkiCard
from kofu.core.certkinds import CertKind
from kofu.core.errors import Refused
from kofu.core.http import ask
from kofu.core.link import Link
from kofu.core.settings import Settings

__all__ = ["SETTLE_PAUSES", "KioskClient"]

SETTLE_PAUSES = (0.2, 0.5, 1.0, 2.0, 4.0)  # seconds between tries of a print's confirmation


def _center_unavailable() -> Refused:
    return Refused(
        "center_unavailable",
        "the issuance center could not answer just now",
        message_ja="証明書交付センターに接続できません。しばらくしてからお試しください。",
    )


class KioskClient:
    """Calls to the issuance center over the kiosk's mTLS client."""

    def __init__(self, center_url: str, http: Link, ledger: CardLedger | None = None) -> None:
        """``ledger`` defaults to the one under KOFU_HOME, where the card master key lives."""
        self.url = center_url.rstrip("/")
        self.http = http
        self.ledger = ledger if ledger is not None else CardLedger.under(Settings.from_env().home)

    def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = ask(
            self.http, "POST", f"{self.url}{path}", _center_unavailable(), json=body
        )
        return answer

    def sign_in(self, card_path: Path, master_key: bytes, pin: str) -> str:
        """The card file in a reader (its device's, or this process's); returns the session."""
        with insert_card(card_path, master_key, self.ledger) as reader:
            return self.sign_in_with(reader, pin)

    def sign_in_with(self, reader: CardReader, pin: str) -> str:
        """The card in ``reader`` checks the PIN and signs the center's challenge."""
        card = JpkiCard(reader)
        card.select_jpki()
        card.verify_pin(CertKind.AUTH, pin)
        return self.authenticate(card)

    def authenticate(self, reader: JpkiCard) -> str:
        """A card whose PIN is verified signs a fresh challenge; returns the session."""
        opened = self.call("/sessions", {})
        signature = reader.sign(CertKind.AUTH, base64.b64decode(opened["challenge_b64"]))
        certificate = reader.read_certificate(CertKind.AUTH)
        self.call(
            f"/sessions/{opened['session']}/authenticate",
            {
                "certificate_b64": base64.b64encode(certificate).decode(),
                "signature_b64": base64.b64encode(signature).decode(),
            },
        )
        return str(opened["session"])

    def request(
        self,
        session: str,
        request_id: str,
        certificate: str,
        options: dict[str, Any],
        copies: int,
        store: str,
        chain: str,
        domicile_city: str | None = None,
    ) -> dict[str, Any]:
        """Ask for a print job; ``domicile_city`` routes a family-register document there."""
        body = {
            "session": session,
            "request_id": request_id,
            "certificate": certificate,
            "options": options,
            "copies": copies,
            "store": store,
            "chain": chain,
        }
        if domicile_city:
            body["domicile_city"] = domicile_city
        return self.call("/issuances", body)

    def cities(self) -> list[dict[str, str]]:
        """The cities the center connects, code and name."""
        cities: list[dict[str, str]] = ask(
            self.http, "GET", f"{self.url}/cities", _center_unavailable(), list
        )
        return cities

    def register_domicile(
        self, session: str, city: str, domicile: str, head_name: str
    ) -> dict[str, Any]:
        """本籍地利用登録: the domicile city reviews the application; the answer says pending."""
        return self.call(
            "/domicile-registrations",
            {"session": session, "city": city, "domicile": domicile, "head_name": head_name},
        )

    def printed(self, request_id: str) -> None:
        """Confirm the print; said again while the center cannot answer (it is idempotent)."""
        self._settle(f"/issuances/{request_id}/printed", {})

    def voided(self, request_id: str, reason: str) -> None:
        """Void the job; said again while the center cannot answer (it is idempotent)."""
        self._settle(f"/issuances/{request_id}/voided", {"reason": reason})

    def _settle(self, path: str, body: dict[str, Any]) -> None:
        """A confirmation the center took but whose answer was lost must not read as a failure.

        The center moves a job once and answers a repeat with the same outcome,
        so the kiosk asks again, a bounded number of times, before it reports
        the center unavailable (the issue's chaos run found a print charged
        whose kiosk had given up on the first lost answer).
        """
        for pause in (*SETTLE_PAUSES, None):
            try:
                self.call(path, body)
                return
            except Refused as refusal:
                if refusal.reason != "center_unavailable" or pause is None:
                    raise
            time.sleep(pause)
