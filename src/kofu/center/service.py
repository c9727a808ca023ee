"""The issuance center's use cases: sessions, issuance with its log, print confirmation, settlement.

Every issuance is one row keyed by the kiosk's request id, so a retried
request never issues twice or charges twice; only a confirmed print is
charged.  Before a print job leaves, the holder digest the city returned
must equal the one the authority gives for the authenticated certificate:
a mismatch stops issuance for that city, raises an alarm and is counted
(the failure at Yokohama, Kawasaki and Takamatsu, made impossible).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from cryptography import x509
from sqlalchemy import Engine, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from kofu.center import tables as t
from kofu.center.anti_forgery import protect
from kofu.center.auth import CLOCK_SKEW, Authenticated, other_kiosk
from kofu.center.sessions import SessionDesk, SqlSessions
from kofu.center.signing import Signer
from kofu.core.clock import Clock
from kofu.core.errors import Conflict, InvalidInput, NotFound, Refused
from kofu.core.holder import holder_digest, identity_digest

__all__ = ["CenterService", "CityLink", "Directory", "Whereabouts", "settlement"]

PRINT_TIMEOUT = timedelta(minutes=5)  # a print job not confirmed by then is voided whole


class CityLink(Protocol):
    """The LGWAN link to a city's certificate server."""

    def issue(self, city: str, body: dict[str, Any]) -> dict[str, Any]: ...

    def identity(self, city: str, auth_serial: str) -> dict[str, Any]: ...

    def register_domicile(self, city: str, body: dict[str, Any]) -> dict[str, Any]: ...

    def connected(self) -> list[dict[str, str]]: ...


class Directory(Protocol):
    """What the authority knows of a certificate: status, issuing city, holder digest."""

    def lookup(self, serial: str) -> dict[str, Any]: ...

    def status_of(self, cert: x509.Certificate, fresh: bool = False) -> str:
        """OCSP; ``fresh`` asks the authority now, past any answer kept for a few seconds."""
        ...


class Whereabouts(Protocol):
    """juki: the record of the city that holds a person's resident record now."""

    def whereabouts(self, resident_code: str) -> dict[str, Any]: ...


_REMOVED = {  # juki's state of the holding record → what the kiosk says
    "moved_out": "転出により住民登録がありません。転入先の市区町村で手続きをしてください。",
    "deceased": "この住民票は消除されています。市区町村の窓口にお問い合わせください。",
}


# The statements of every issuance, built once: SQLAlchemy then reuses each
# compiled form instead of building and caching the statement anew every time.
_i = t.issuances
_ROW = select(_i).where(_i.c.request_id == bindparam("b_request_id"))
_INSERT = insert(_i)
_FINISH = update(_i).where(_i.c.request_id == bindparam("b_request_id"))  # SET: the keys given
_SETTLE = update(_i).where(
    _i.c.request_id == bindparam("b_request_id"),
    _i.c.state == "rendered",
    _i.c.updated_at >= bindparam("b_fresh_since"),
    _i.c.kiosk == bindparam("b_kiosk"),
)
_ALARMS = select(func.count()).select_from(t.alarms).where(t.alarms.c.city == bindparam("b_city"))


@dataclass(frozen=True)
class PrintJob:
    request_id: str
    certificate: str
    city: str
    copies: int
    fee: int
    pdf: bytes
    state: str
    holder_digest: str = ""


class CenterService:
    """One center worker; every state it keeps is in the store, so workers can be many."""

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        signer: Signer,
        issuer: x509.Certificate,
        directory: Directory,
        cities: CityLink,
        print_timeout: timedelta = PRINT_TIMEOUT,
        juki: Whereabouts | None = None,
        clock_skew: timedelta = CLOCK_SKEW,
    ) -> None:
        self.engine, self.clock, self.signer, self.issuer = engine, clock, signer, issuer
        self.directory, self.cities, self.juki = directory, cities, juki
        self.print_timeout = print_timeout
        self.sessions = SqlSessions(engine)
        self.desk = SessionDesk(self.sessions, clock, issuer, directory.status_of, clock_skew)

    # --- sessions: ``kiosk`` is the caller's network name, "" without mutual TLS ------------

    def open_session(self, kiosk: str = "") -> tuple[str, bytes]:
        return self.desk.open(kiosk)

    def authenticate(
        self, session: str, certificate_der: bytes, signature: bytes, kiosk: str = ""
    ) -> Authenticated:
        return self.desk.authenticate(session, certificate_der, signature, kiosk)

    def _subject(self, session: str, kiosk: str, spent_on: str) -> Authenticated:
        """The session's card; the session is spent on ``spent_on`` and on nothing else."""
        return self.desk.spend(session, kiosk, spent_on)

    # --- issuance --------------------------------------------------------------------------

    def _row(self, request_id: str) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(_ROW, {"b_request_id": request_id}).first()

    def request(
        self,
        *,
        session: str,
        request_id: str,
        certificate: str,
        options: dict[str, Any],
        copies: int,
        store: str,
        chain: str,
        domicile_city: str | None = None,
        kiosk: str = "",
    ) -> PrintJob:
        """Issue once per request id; a retry returns the same print job, never a second one.

        With ``domicile_city`` the request goes to the city that keeps the
        person's family register (本籍地), which issues only under an approved
        本籍地利用登録 of this certificate.
        """
        if not 1 <= copies <= 10:
            raise InvalidInput("copies is 1 to 10", field="copies")
        who = self._subject(session, kiosk, request_id)
        existing = self._row(request_id)
        if existing is not None:
            return self._replay(existing, who, kiosk)
        city, expected, route = self._route(who.serial, domicile_city)
        self._check_city_open(city)
        now = self.clock.now()
        try:
            self._insert(
                request_id, who.serial, city, certificate, copies, store, chain, now, kiosk
            )
        except IntegrityError:  # the same request id twice at once: the first one issues
            return self._replay(self._row(request_id), who, kiosk)
        with self._voided_on_failure(request_id):
            answer = self.cities.issue(
                city,
                {
                    **options,
                    "request_id": request_id,
                    "auth_serial": who.serial,
                    "type": certificate,
                    "route": route,
                },
            )
        if answer.get("request_id") != request_id or answer.get("holder_digest") != expected:
            self._mis_issuance(city, request_id, answer)
        with self._voided_on_failure(request_id):
            job = self._stamped_job(request_id, certificate, city, copies, now, answer)
        self._finish(
            request_id,
            "rendered",
            fee=job.fee,
            holder_digest=job.holder_digest,
            content_digest=str(answer["content_digest"]),
            print_job=job.pdf,
        )
        return job

    @contextmanager
    def _voided_on_failure(self, request_id: str) -> Iterator[None]:
        """Whatever fails inside voids the issuance (a refusal keeps its reason) and is raised."""
        try:
            yield
        except Refused as refusal:
            self._finish(request_id, "voided", reason=refusal.reason)
            raise
        except Exception:
            self._finish(request_id, "voided", reason="center_error")
            raise

    def _stamped_job(
        self,
        request_id: str,
        certificate: str,
        city: str,
        copies: int,
        now: datetime,
        answer: dict[str, Any],
    ) -> PrintJob:
        """The city's PDF with the anti-forgery layer, as the print job the kiosk receives."""
        stamped = protect(
            base64.b64decode(answer["pdf_base64"]),
            document_id=request_id,
            city=city,
            type=certificate,
            issued_at=now,
            holder_digest=str(answer["holder_digest"]),
            holder_name=str(answer.get("holder_name", "")),
            issue_number=int(answer["issue_number"]),
            signer=self.signer,
        )
        return PrintJob(
            request_id,
            certificate,
            city,
            copies,
            int(answer["fee"]) * copies,
            stamped,
            "rendered",
            str(answer["holder_digest"]),
        )

    def _route(self, serial: str, domicile_city: str | None) -> tuple[str, str, str]:
        """The city to ask, the holder digest its answer must carry, and the route.

        The authority names the residence city; for the domicile city the
        residence city vouches for the person (本人確認情報), and the domicile
        city's answer must be about the same name, birth date and sex.
        """
        if domicile_city is None:
            city, digest = self._residence(serial)
            return city, digest, "residence"
        person = self._identity(serial)
        expected = identity_digest(
            str(person["name"]), str(person["birth_date"]), str(person["sex"])
        )
        return domicile_city, expected, "domicile"

    def register_domicile(
        self, *, session: str, city: str, domicile: str, head_name: str, kiosk: str = ""
    ) -> dict[str, Any]:
        """本籍地利用登録 at a kiosk: the domicile city reviews it; the answer says pending."""
        who = self._subject(session, kiosk, "domicile-registration")
        self._check_city_open(city)
        person = self._identity(who.serial)
        return self.cities.register_domicile(
            city,
            {
                "auth_serial": who.serial,
                "domicile": domicile,
                "head_name": head_name,
                "name": person["name"],
                "birth_date": person["birth_date"],
                "sex": person["sex"],
            },
        )

    def _identity(self, serial: str) -> dict[str, Any]:
        """本人確認情報 of the certificate's holder, from the city that holds the record."""
        return self.cities.identity(self._residence(serial)[0], serial)

    def _residence(self, serial: str) -> tuple[str, str]:
        """The city holding the holder's record now, and the holder digest its answer must carry.

        The authority maps the certificate to the person; juki says which
        city keeps the person's record today (it moves with the person).
        Without juki, the city that had the card issued is asked.
        """
        facts = self.directory.lookup(serial)
        if self.juki is None:
            return str(facts["city"]), str(facts["holder_digest"])
        code = str(facts["resident_code"])
        try:
            held = self.juki.whereabouts(code)
        except NotFound as exc:
            raise Refused(
                "record_unknown",
                "no city has reported the holder's resident record to juki",
                message_ja="住民登録の確認ができません。市区町村の窓口にお問い合わせください。",
            ) from exc
        if held["state"] != "resident":
            raise Refused(
                f"record_{held['state']}",
                f"the holder's last resident record (city {held['city']}) is removed: "
                f"{held['state']} since {held['since']}",
                message_ja=_REMOVED.get(str(held["state"]), _REMOVED["deceased"]),
            )
        return str(held["city"]), holder_digest(str(held["city"]), code)

    def _replay(self, row: Any, who: Authenticated, kiosk: str = "") -> PrintJob:
        if row.auth_serial != who.serial:
            raise Conflict("this request id belongs to another card", field="request_id")
        if row.kiosk != kiosk:
            raise other_kiosk()
        if row.state != "rendered":
            raise Conflict(f"request {row.request_id} is already {row.state}", field="request_id")
        return PrintJob(
            row.request_id,
            row.certificate,
            row.city,
            row.copies,
            row.fee,
            bytes(row.print_job),
            row.state,
        )

    def _insert(
        self,
        request_id: str,
        serial: str,
        city: str,
        certificate: str,
        copies: int,
        store: str,
        chain: str,
        now: datetime,
        kiosk: str = "",
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                _INSERT,
                {
                    "request_id": request_id,
                    "state": "requested",
                    "auth_serial": serial,
                    "city": city,
                    "certificate": certificate,
                    "copies": copies,
                    "fee": 0,
                    "store": store,
                    "chain": chain,
                    "created_at": now,
                    "updated_at": now,
                    "kiosk": kiosk,
                },
            )

    def _finish(self, request_id: str, state: str, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                _FINISH,
                {"b_request_id": request_id, "state": state, "updated_at": self.clock.now()}
                | values,
            )

    def _mis_issuance(self, city: str, request_id: str, answer: dict[str, Any]) -> None:
        """Another person's certificate came back: void, alarm, and stop that city."""
        self._finish(request_id, "voided", reason="holder_mismatch")
        with self.engine.begin() as conn:
            conn.execute(
                insert(t.alarms).values(
                    at=self.clock.now(),
                    city=city,
                    kind="holder_mismatch",
                    detail=f"request {request_id}: returned {answer.get('request_id')}",
                )
            )
        raise Refused(
            "service_stopped",
            "the city's answer was for someone else; issuance stopped",
            message_ja="システムの異常を検知したため、交付を停止しました。",
        )

    def _check_city_open(self, city: str) -> None:
        with self.engine.connect() as conn:
            stopped = conn.execute(_ALARMS, {"b_city": city}).scalar_one()
        if stopped:
            raise Refused(
                "service_stopped",
                f"issuance for {city} is stopped after an alarm",
                message_ja="この市区町村の証明書は、現在交付を停止しています。",
            )

    def printed(self, request_id: str, kiosk: str = "") -> None:
        """The kiosk printed every copy: charge it, drop the print job. Idempotent."""
        self._settle_state(request_id, "printed", kiosk)

    def voided(self, request_id: str, reason: str, kiosk: str = "") -> None:
        """A print failure or timeout voids the whole issuance; nothing is charged. Idempotent."""
        self._settle_state(request_id, "voided", kiosk, reason=reason[:200], fee=0)

    def void_unconfirmed(self, request_id: str | None = None) -> int:
        """Void every print job (or this one) unconfirmed past the print timeout: whole, uncharged.

        A timeout must cancel the issuance for that applicant, never only a
        print queue (the Yokohama failure of March 2023).
        """
        limit = self.clock.now() - self.print_timeout
        i = t.issuances
        where = [i.c.state == "rendered", i.c.updated_at < limit]
        if request_id is not None:
            where.append(i.c.request_id == request_id)
        with self.engine.begin() as conn:
            done = conn.execute(
                update(i)
                .where(*where)
                .values(
                    state="voided",
                    reason="print timeout",
                    fee=0,
                    print_job=None,
                    updated_at=self.clock.now(),
                )
            )
        return int(done.rowcount or 0)

    def _settle_state(self, request_id: str, state: str, kiosk: str, **values: Any) -> None:
        """rendered → printed or voided, once: the state is checked in the same UPDATE.

        Two workers (a kiosk's confirmation and another's timeout sweep) can
        race for one issuance; only one of them moves it, the other sees the
        outcome, so a voided issuance can never be charged afterwards.  A
        confirmation after the timeout finds the job expired and voids it,
        whether or not the sweep has come by yet.  Only the kiosk that asked
        for the job may confirm or void it.
        """
        now = self.clock.now()
        changes = {"state": state, "print_job": None, "updated_at": now} | values
        with self.engine.begin() as conn:
            moved = conn.execute(
                _SETTLE,
                {
                    "b_request_id": request_id,
                    "b_fresh_since": now - self.print_timeout,
                    "b_kiosk": kiosk,
                }
                | changes,
            ).rowcount
        if moved:
            return
        self.void_unconfirmed(request_id)
        row = self._row(request_id)
        if row is None:
            raise NotFound(f"no issuance {request_id}", field="request_id")
        if row.kiosk != kiosk:
            raise other_kiosk()
        if row.state != state:
            why = f" ({row.reason})" if row.reason else ""
            raise Conflict(f"issuance {request_id} is {row.state}{why}", field="request_id")

    def settlement(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        return settlement(self.engine, start, end)

    def status(self) -> dict[str, Any]:
        """What the operator watches: alarms, stopped cities, the log's states, prints waiting."""
        i, a = t.issuances, t.alarms
        with self.engine.connect() as conn:
            alarms = conn.execute(select(a.c.city, a.c.kind, a.c.at, a.c.detail).order_by(a.c.id))
            alarm_rows = [
                {"city": r[0], "kind": r[1], "at": r[2].isoformat(), "detail": r[3]} for r in alarms
            ]
            states = {
                str(r[0]): int(r[1])
                for r in conn.execute(select(i.c.state, func.count()).group_by(i.c.state))
            }
            per_city = [
                {"city": r[0], "state": r[1], "count": int(r[2])}
                for r in conn.execute(
                    select(i.c.city, i.c.state, func.count())
                    .group_by(i.c.city, i.c.state)
                    .order_by(i.c.city, i.c.state)
                )
            ]
        return {
            "now": self.clock.now().isoformat(),
            "alarms": alarm_rows,
            "stopped_cities": sorted({r["city"] for r in alarm_rows if r["city"]}),
            "issuances": states,
            "per_city": per_city,
            "print_timeout_seconds": int(self.print_timeout.total_seconds()),
        }


def settlement(engine: Engine, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Printed issuances and fees per city and store chain in [start, end) (月次精算)."""
    i = t.issuances
    with engine.connect() as conn:
        rows = conn.execute(
            select(i.c.city, i.c.chain, func.count(), func.sum(i.c.copies), func.sum(i.c.fee))
            .where(i.c.state == "printed", i.c.created_at >= start, i.c.created_at < end)
            .group_by(i.c.city, i.c.chain)
            .order_by(i.c.city, i.c.chain)
        )
        return [
            {"city": r[0], "chain": r[1], "issuances": r[2], "copies": int(r[3]), "fees": int(r[4])}
            for r in rows
        ]
