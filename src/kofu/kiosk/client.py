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
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from kofu.card.device import insert_card
from kofu.card.ledger import CardLedger
from kofu.card.reader import CardReader, JpkiCard
from kofu.contracts import Contract
from kofu.contracts.identity import DomicileAnswer
from kofu.contracts.kiosk import (
    ConnectedCity,
    DomicileRequest,
    IssuanceRequest,
    PrintJob,
    PrintSettled,
    SessionEnded,
    SessionOpened,
    SignedIn,
    SignIn,
    VoidRequest,
)
from kofu.contracts.store import IssueOptions
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


M = TypeVar("M", bound=Contract)


class KioskClient:
    """Calls to the issuance center over the kiosk's mTLS client, in kofu.contracts.kiosk."""

    def __init__(self, center_url: str, http: Link, ledger: CardLedger | None = None) -> None:
        """``ledger`` defaults to the one under KOFU_HOME, where the card master key lives."""
        self.url = center_url.rstrip("/")
        self.http = http
        self.ledger = ledger if ledger is not None else CardLedger.under(Settings.from_env().home)

    def call(self, path: str, body: Contract | None, shape: type[M]) -> M:
        """One POST whose answer must be ``shape``; anything else: the center is unavailable."""
        sent = {} if body is None else body.model_dump(mode="json")
        unavailable = _center_unavailable()
        answer = ask(self.http, "POST", f"{self.url}{path}", unavailable, json=sent)
        return shape.read(answer, unavailable)

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
        opened = self.call("/sessions", None, SessionOpened)
        signature = reader.sign(CertKind.AUTH, base64.b64decode(opened.challenge_b64))
        certificate = reader.read_certificate(CertKind.AUTH)
        signing_in = SignIn(
            certificate_b64=base64.b64encode(certificate).decode(),
            signature_b64=base64.b64encode(signature).decode(),
        )
        self.call(f"/sessions/{opened.session}/authenticate", signing_in, SignedIn)
        return opened.session

    def end(self, session: str) -> None:
        """The resident left before the session was spent: the center ends it for good."""
        self.call(f"/sessions/{session}/end", None, SessionEnded)

    def request(
        self,
        session: str,
        request_id: str,
        certificate: str,
        options: IssueOptions | Mapping[str, Any],
        copies: int,
        store: str,
        chain: str,
        domicile_city: str | None = None,
    ) -> PrintJob:
        """Ask for a print job; ``domicile_city`` routes a family-register document there.

        ``options`` as IssueOptions names them (``items``, ``fiscal_year``,
        ``household``, ``members``); a wrong one is refused here (422 naming
        it) before anything is sent.
        """
        asked = IssuanceRequest.checked(
            {
                "session": session,
                "request_id": request_id,
                "certificate": certificate,
                "options": options,
                "copies": copies,
                "store": store,
                "chain": chain,
                "domicile_city": domicile_city or None,
            }
        )
        return self.call("/issuances", asked, PrintJob)

    def cities(self) -> list[ConnectedCity]:
        """The cities the center connects, code and name."""
        unavailable = _center_unavailable()
        answer = ask(self.http, "GET", f"{self.url}/cities", unavailable, list)
        return [ConnectedCity.read(city, unavailable) for city in answer]

    def register_domicile(
        self, session: str, city: str, domicile: str, head_name: str
    ) -> DomicileAnswer:
        """本籍地利用登録: the domicile city reviews the application; the answer says pending."""
        asked = DomicileRequest.checked(
            {"session": session, "city": city, "domicile": domicile, "head_name": head_name}
        )
        return self.call("/domicile-registrations", asked, DomicileAnswer)

    def printed(self, request_id: str) -> None:
        """Confirm the print; said again while the center cannot answer (it is idempotent)."""
        self._settle(f"/issuances/{request_id}/printed", None)

    def voided(self, request_id: str, reason: str) -> None:
        """Void the job; said again while the center cannot answer (it is idempotent)."""
        self._settle(f"/issuances/{request_id}/voided", VoidRequest.checked({"reason": reason}))

    def _settle(self, path: str, body: Contract | None) -> None:
        """A confirmation the center took but whose answer was lost must not read as a failure.

        The center moves a job once and answers a repeat with the same outcome,
        so the kiosk asks again, a bounded number of times, before it reports
        the center unavailable (the issue's chaos run found a print charged
        whose kiosk had given up on the first lost answer).
        """
        for pause in (*SETTLE_PAUSES, None):
            try:
                self.call(path, body, PrintSettled)
                return
            except Refused as refusal:
                if refusal.reason != "center_unavailable" or pause is None:
                    raise
            time.sleep(pause)
