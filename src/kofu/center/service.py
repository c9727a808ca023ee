"""The issuance center's use cases: sessions, issuance with its log, print confirmation, settlement.

Every issuance is one row keyed by the kiosk's request id, so a retried
request never issues twice or charges twice; only a confirmed print is
charged.  Before a print job leaves, the holder digest the city returned
must equal the one the authority gives for the authenticated certificate:
a mismatch stops issuance for that city, raises an alarm and is counted
(the failure at Yokohama, Kawasaki and Takamatsu, made impossible).  So
must the content digest the city declares equal the digest of the bytes
that came.

Every state leads somewhere.  An issuance whose city answer was lost (the
link failed, or the worker died) stays ``requested``; past a short lease,
a retry of the same request id sends it again, and the city, which keeps
its answer under every request id, answers the same document; the sweep
asks the city what it did under the id and completes or voids it.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from cryptography import x509
from sqlalchemy import Engine, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from kofu.center import tables as t
from kofu.center.anti_forgery import protect
from kofu.center.auth import CLOCK_SKEW, Authenticated, other_kiosk
from kofu.center.sessions import SessionDesk, SqlSessions
from kofu.center.signing import Signer
from kofu.contracts.identity import DomicileAnswer, DomicileApplication, Identity, IdentityRequest
from kofu.contracts.jpki import CertificateStatus
from kofu.contracts.juki import IdentityReport
from kofu.contracts.kiosk import ConnectedCity
from kofu.contracts.store import IssueOptions, StoreAnswer, StoreOutcome, StoreRequest
from kofu.core.clock import Clock
from kofu.core.db import single_statements
from kofu.core.errors import Conflict, InvalidInput, KofuError, NotFound, Refused
from kofu.core.holder import holder_digest, identity_digest

__all__ = ["CenterService", "CityLink", "Directory", "Whereabouts", "settlement"]

PRINT_TIMEOUT = timedelta(minutes=5)  # a print job not confirmed by then is voided whole
# A request still ``requested`` this long after its last step has lost its worker (longer
# than the link waits for a city); a retry or the sweep then recovers it from the city.
REQUEST_LEASE = timedelta(seconds=45)
UNANSWERED = "city_unanswered"  # reason kept on a requested issuance whose answer was lost

log = logging.getLogger("kofu")


class CityLink(Protocol):
    """The LGWAN link to a city's certificate server."""

    def issue(self, city: str, request: StoreRequest) -> StoreAnswer: ...

    def identity(self, city: str, request: IdentityRequest) -> Identity: ...

    def register_domicile(self, city: str, application: DomicileApplication) -> DomicileAnswer: ...

    def outcome(self, city: str, request_id: str) -> StoreOutcome: ...

    def abandon(self, city: str, request_id: str) -> StoreOutcome: ...

    def connected(self) -> list[ConnectedCity]: ...


class Directory(Protocol):
    """What the authority knows of a certificate: status, issuing city, holder digest."""

    def lookup(self, serial: str) -> CertificateStatus: ...

    def status_of(self, cert: x509.Certificate, fresh: bool = False) -> str:
        """OCSP; ``fresh`` asks the authority now, past any answer kept for a few seconds."""
        ...


class Whereabouts(Protocol):
    """juki: the record of the city that holds a person's resident record now."""

    def whereabouts(self, resident_code: str) -> IdentityReport: ...


_REMOVED = {  # juki's state of the holding record → what the kiosk says
    "moved_out": "転出により住民登録がありません。転入先の市区町村で手続きをしてください。",
    "deceased": "この住民票は消除されています。市区町村の窓口にお問い合わせください。",
}


# The statements of every issuance, built once: SQLAlchemy then reuses each
# compiled form instead of building and caching the statement anew every time.
_i = t.issuances
_ROW = select(_i).where(_i.c.request_id == bindparam("b_request_id"))
_INSERT = insert(_i)
_FINISH = update(_i).where(  # SET: the keys given; only a requested issuance moves on
    _i.c.request_id == bindparam("b_request_id"), _i.c.state == "requested"
)
_CLAIM = (  # a requested issuance whose worker is gone (or gave up waiting) is taken over
    update(_i)
    .where(
        _i.c.request_id == bindparam("b_request_id"),
        _i.c.state == "requested",
        or_(_i.c.reason == UNANSWERED, _i.c.updated_at < bindparam("b_lease_since")),
    )
    .values(updated_at=bindparam("b_now"), reason=None)
)
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


@dataclass(frozen=True)
class _Asked:
    """What the center asked a city under a request id, and what the answer must carry."""

    request_id: str
    city: str
    certificate: str
    copies: int
    expected: str | None  # the holder digest the answer must carry (None: a row from before)
    at: datetime

    @classmethod
    def of(cls, row: Any) -> _Asked:
        at = row.created_at  # an aware instant on every store (core.instant)
        return cls(row.request_id, row.city, row.certificate, row.copies, row.holder_digest, at)


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
        request_lease: timedelta = REQUEST_LEASE,
        clock_skew: timedelta = CLOCK_SKEW,
    ) -> None:
        # Every transaction of the center is one statement (a read, or one conditional
        # write): each is sent alone, without BEGIN and COMMIT (kofu.core.db.single_statements).
        engine = single_statements(engine)
        self.engine, self.clock, self.signer, self.issuer = engine, clock, signer, issuer
        self.directory, self.cities, self.juki = directory, cities, juki
        self.print_timeout, self.request_lease = print_timeout, request_lease
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
        options: IssueOptions,
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
        body = _store_request(request_id, who.serial, certificate, options, domicile_city)
        existing = self._row(request_id)
        if existing is not None:
            return self._again(existing, who, body, copies, domicile_city, kiosk)
        city, expected, _ = self._route(who.serial, domicile_city)
        self._check_city_open(city)
        asked = _Asked(request_id, city, certificate, copies, expected, self.clock.now())
        try:
            self._insert(asked, who.serial, store, chain, kiosk)
        except IntegrityError:  # the same request id twice at once: the first one issues
            return self._again(self._row(request_id), who, body, copies, domicile_city, kiosk)
        return self._ask_city(asked, body)

    def _ask_city(self, asked: _Asked, body: StoreRequest) -> PrintJob:
        """Send the request under its id and complete the issuance with the city's answer.

        A refusal voids it.  A lost answer (the city unavailable) may hide an
        issuance, so it stays requested and a retry of the same id asks again.
        """
        try:
            answer = self.cities.issue(asked.city, body)
        except Refused as refusal:
            if refusal.reason == "city_unavailable":
                self._finish(asked.request_id, "requested", reason=UNANSWERED)
            else:
                self._finish(asked.request_id, "voided", reason=refusal.reason)
            raise
        except Conflict:  # the city kept another request under this id: nothing moves here
            raise
        except Exception:
            self._finish(asked.request_id, "voided", reason="center_error")
            raise
        return self._complete(asked, answer)

    def _complete(self, asked: _Asked, answer: StoreAnswer) -> PrintJob:
        """The city's answer checked (holder, content), stamped and kept: requested → rendered."""
        request_id, city = asked.request_id, asked.city
        if answer.request_id != request_id or answer.holder_digest != asked.expected:
            detail = f"request {request_id}: returned {answer.request_id}"
            self._mis_issuance(city, request_id, "holder_mismatch", detail)
        with self._voided_on_failure(request_id):
            pdf = base64.b64decode(answer.pdf_base64, validate=True)
        if hashlib.sha256(pdf).hexdigest() != answer.content_digest:
            detail = f"request {request_id}: the document's bytes do not match its content digest"
            self._mis_issuance(city, request_id, "content_mismatch", detail)
        with self._voided_on_failure(request_id):
            job = self._stamped_job(asked, pdf, answer)
        done = self._finish(
            request_id,
            "rendered",
            fee=job.fee,
            holder_digest=job.holder_digest,
            content_digest=answer.content_digest,
            print_job=job.pdf,
        )
        if not done:  # a retry or the sweep settled it first: its outcome stands
            return self._job_of(self._row(request_id))
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

    def _stamped_job(self, asked: _Asked, pdf: bytes, answer: StoreAnswer) -> PrintJob:
        """The city's PDF with the anti-forgery layer, as the print job the kiosk receives."""
        stamped = protect(
            pdf,
            document_id=asked.request_id,
            city=asked.city,
            type=asked.certificate,
            issued_at=asked.at,
            holder_digest=answer.holder_digest,
            holder_name=answer.holder_name,
            issue_number=answer.issue_number,
            signer=self.signer,
        )
        return PrintJob(
            asked.request_id,
            asked.certificate,
            asked.city,
            asked.copies,
            answer.fee * asked.copies,
            stamped,
            "rendered",
            answer.holder_digest,
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
        expected = identity_digest(person.name, person.birth_date.isoformat(), person.sex)
        return domicile_city, expected, "domicile"

    def register_domicile(
        self, *, session: str, city: str, domicile: str, head_name: str, kiosk: str = ""
    ) -> DomicileAnswer:
        """本籍地利用登録 at a kiosk: the domicile city reviews it; the answer says pending."""
        who = self._subject(session, kiosk, "domicile-registration")
        self._check_city_open(city)
        person = self._identity(who.serial)
        application = DomicileApplication(
            auth_serial=who.serial,
            domicile=domicile,
            head_name=head_name,
            name=person.name,
            birth_date=person.birth_date,
            sex=person.sex,
        )
        return self.cities.register_domicile(city, application)

    def _identity(self, serial: str) -> Identity:
        """本人確認情報 of the certificate's holder, from the city that holds the record."""
        return self.cities.identity(self._residence(serial)[0], IdentityRequest(auth_serial=serial))

    def _residence(self, serial: str) -> tuple[str, str]:
        """The city holding the holder's record now, and the holder digest its answer must carry.

        The authority maps the certificate to the person; juki says which
        city keeps the person's record today (it moves with the person).
        Without juki, the city that had the card issued is asked.
        """
        facts = self.directory.lookup(serial)
        if self.juki is None:
            return str(facts.city), str(facts.holder_digest)
        code = str(facts.resident_code)
        try:
            held = self.juki.whereabouts(code)
        except NotFound as exc:
            raise Refused(
                "record_unknown",
                "no city has reported the holder's resident record to juki",
                message_ja="住民登録の確認ができません。市区町村の窓口にお問い合わせください。",
            ) from exc
        if held.state != "resident":
            raise Refused(
                f"record_{held.state}",
                f"the holder's last resident record (city {held.city}) is removed: "
                f"{held.state} since {held.since}",
                message_ja=_REMOVED.get(held.state, _REMOVED["deceased"]),
            )
        return held.city, holder_digest(held.city, code)

    def _again(
        self,
        row: Any,
        who: Authenticated,
        body: StoreRequest,
        copies: int,
        domicile_city: str | None,
        kiosk: str = "",
    ) -> PrintJob:
        """A retry of a request id: the same print job, or the lost answer asked for again.

        An issuance still requested past its lease (or whose answer was lost)
        is sent to the city again under the same id: the city answers what it
        kept, so the retry gets the same document and never a second one.
        """
        if row.auth_serial != who.serial:
            raise Conflict("this request id belongs to another card", field="request_id")
        if row.kiosk != kiosk:
            raise other_kiosk()
        if (
            row.certificate != body.certificate
            or row.copies != copies
            or (domicile_city is not None and domicile_city != row.city)
        ):
            raise Conflict(
                f"request id {row.request_id} was used for another request; "
                "a new request needs a new request id",
                field="request_id",
            )
        if row.state == "requested":
            self._check_city_open(row.city)
            if self._claim(row.request_id):
                return self._ask_city(_Asked.of(row), body)
        return self._job_of(row)

    def _job_of(self, row: Any) -> PrintJob:
        if row.state == "requested":
            raise Conflict(
                f"request {row.request_id} is in progress; ask again shortly", field="request_id"
            )
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
            row.holder_digest or "",
        )

    def _claim(self, request_id: str) -> bool:
        """Take over a requested issuance whose worker is gone; one taker wins."""
        now = self.clock.now()
        with self.engine.begin() as conn:
            moved = conn.execute(
                _CLAIM,
                {
                    "b_request_id": request_id,
                    "b_now": now,
                    "b_lease_since": now - self.request_lease,
                },
            ).rowcount
        return bool(moved)

    def recover_stuck(self) -> int:
        """Resolve every issuance requested past its lease by asking its city; how many moved.

        The city says what it did under the request id: issued (the answer is
        checked and the issuance completes, the print timeout then running
        from now), refused, or nothing — then the id is closed at the city
        first, so it can never issue under it, and the issuance is voided.
        A city that cannot answer is asked again at the next turn, and not
        again in this one: the print-timeout sweep waits for this turn.
        """
        limit = self.clock.now() - self.request_lease
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(_i).where(_i.c.state == "requested", _i.c.updated_at < limit).limit(100)
            ).all()
        moved, unreachable = 0, set()
        for row in rows:
            if row.city in unreachable or not self._claim(row.request_id):
                continue  # its city is down, or another worker took it
            try:
                self._recover(_Asked.of(row))
            except Refused as exc:
                if exc.reason in ("city_unavailable", "city_not_connected"):
                    unreachable.add(row.city)
                log.warning("recovering %s: %s", row.request_id, exc.message)
            except KofuError as exc:
                log.warning("recovering %s: %s", row.request_id, exc.message)
            final = self._row(row.request_id)
            moved += final is not None and final.state != "requested"
        return moved

    def _recover(self, asked: _Asked) -> None:
        told = self.cities.outcome(asked.city, asked.request_id)
        if told.state == "unknown":
            told = self.cities.abandon(asked.city, asked.request_id)
        state = told.state
        if self._stopped(asked.city):
            self._finish(asked.request_id, "voided", reason="service_stopped")
        elif state == "issued" and asked.expected is None:  # asked before digests were kept
            self._finish(asked.request_id, "voided", reason="holder_unverifiable")
        elif state == "issued" and told.answer is not None:
            self._complete(asked, told.answer)
        elif state == "refused":
            self._finish(asked.request_id, "voided", reason=str(told.reason))
        elif state == "abandoned":
            self._finish(asked.request_id, "voided", reason="city_never_issued")

    def sweep(self) -> None:
        """The background turn: void unconfirmed print jobs, recover stuck requests."""
        self.void_unconfirmed()
        self.recover_stuck()
        self.desk.forget_old()  # ended sessions, failed sign-ins past their window

    def _insert(self, asked: _Asked, serial: str, store: str, chain: str, kiosk: str = "") -> None:
        """The issuance, requested, with the holder digest the city's answer must carry."""
        with self.engine.begin() as conn:
            conn.execute(
                _INSERT,
                {
                    "request_id": asked.request_id,
                    "state": "requested",
                    "auth_serial": serial,
                    "city": asked.city,
                    "certificate": asked.certificate,
                    "copies": asked.copies,
                    "fee": 0,
                    "store": store,
                    "chain": chain,
                    "created_at": asked.at,
                    "updated_at": asked.at,
                    "holder_digest": asked.expected,
                    "kiosk": kiosk,
                },
            )

    def _finish(self, request_id: str, state: str, **values: Any) -> bool:
        """requested → ``state`` (or requested again, with new values); False if it had moved."""
        with self.engine.begin() as conn:
            moved = conn.execute(
                _FINISH,
                {"b_request_id": request_id, "state": state, "updated_at": self.clock.now()}
                | values,
            ).rowcount
        return bool(moved)

    def _mis_issuance(self, city: str, request_id: str, kind: str, detail: str) -> None:
        """Another person's certificate, or bytes not the city's: void, alarm, stop that city."""
        self._finish(request_id, "voided", reason=kind)
        with self.engine.begin() as conn:
            conn.execute(
                insert(t.alarms).values(at=self.clock.now(), city=city, kind=kind, detail=detail)
            )
        raise Refused(
            "service_stopped",
            f"the city's answer failed the center's check ({kind}); issuance stopped",
            message_ja="システムの異常を検知したため、交付を停止しました。",
        )

    def _stopped(self, city: str) -> bool:
        with self.engine.connect() as conn:
            return bool(conn.execute(_ALARMS, {"b_city": city}).scalar_one())

    def _check_city_open(self, city: str) -> None:
        if self._stopped(city):
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


def _store_request(
    request_id: str,
    serial: str,
    certificate: str,
    options: IssueOptions,
    domicile_city: str | None,
) -> StoreRequest:
    """What the city is asked: the card (never a person), the certificate, the options."""
    return StoreRequest.checked(  # an unknown certificate is 422 here, before any row
        {
            "request_id": request_id,
            "auth_serial": serial,
            "certificate": certificate,
            "options": options,
            "route": "residence" if domicile_city is None else "domicile",
        }
    )


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
