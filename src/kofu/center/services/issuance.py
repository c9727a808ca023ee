"""The issuance center's use cases: sessions, issuance with its log, print confirmation, the books.

The rules (states, the holder and content checks, retries) are the
domain's (``center.domain.issuance``); this layer runs them over a unit of
work and the links to the other parties, and never holds a connection
while it waits for another party.

Every state leads somewhere.  An issuance whose city answer was lost (the
link failed, or the worker died) stays ``requested``; past a short lease,
a retry of the same request id sends it again, and the city, which keeps
its answer under every request id, answers the same document; the sweep
asks the city what it did under the id and completes or voids it.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509

from kofu.center.domain.auth import CLOCK_SKEW, Authenticated, other_kiosk
from kofu.center.domain.issuance import (
    PRINT_TIMEOUT,
    PRINT_TIMEOUT_REASON,
    REQUEST_LEASE,
    REQUESTED,
    UNANSWERED,
    VOIDED,
    Alarm,
    Asked,
    Issuance,
    PrintJob,
    answer_mismatch,
    check_copies,
    check_retry,
    city_stopped,
    content_mismatch,
    job_of,
    record_removed,
    record_unknown,
    recovered_state,
    stopped_after_check,
    store_request,
)
from kofu.center.domain.log import LogQuery
from kofu.center.domain.ports import CityLink, Directory, SigningKey, UnitsOfWork, Whereabouts
from kofu.center.services.anti_forgery import protect
from kofu.center.services.operator import center_status, resume_city, settlement
from kofu.center.services.sessions import SessionDesk
from kofu.contracts.identity import DomicileAnswer, DomicileApplication, Identity, IdentityRequest
from kofu.contracts.store import (
    PRINTS_PER_NOTICE,
    IssueOptions,
    StoreAnswer,
    StorePrinted,
    StorePrints,
    StoreRequest,
)
from kofu.core.clock import Clock
from kofu.core.errors import Conflict, KofuError, NotFound, Refused
from kofu.core.holder import holder_digest, identity_digest

__all__ = ["CenterService", "Coalesced", "PrintJob", "in_background"]

log = logging.getLogger("kofu")


class Coalesced:
    """Runs a job a little after it is asked for, once however often it is asked meanwhile.

    A serving center passes one as ``later``: every confirmed print asks for
    the city to be told, and the prints confirmed within ``delay`` seconds
    go to their city together, in one exchange per city (``tell_cities``).
    A city that does not answer misses the count for now, never the print:
    the sweep tells it again.
    """

    def __init__(self, delay: float = 0.5) -> None:
        self.delay = delay
        self._lock = threading.Lock()
        self._due: set[Callable[[], object]] = set()

    def __call__(self, work: Callable[[], object]) -> None:
        with self._lock:
            if work in self._due:
                return
            self._due.add(work)
        timer = threading.Timer(self.delay, self._run, (work,))
        timer.daemon = True
        timer.start()

    def _run(self, work: Callable[[], object]) -> None:
        with self._lock:  # asked again from now on: another run, so no print waits unheard
            self._due.discard(work)
        try:
            work()
        except Exception:  # the sweep tells the cities again; a notice is never the print
            log.exception("telling the cities of prints")


in_background = Coalesced()  # what a serving center passes as ``later``


class CenterService:
    """One center worker; every state it keeps is in the store, so workers can be many.

    ``units`` makes a unit of work per step (SQL in service, in memory in
    fast tests); ``signer`` signs the anti-forgery layer.
    """

    def __init__(
        self,
        units: UnitsOfWork,
        clock: Clock,
        signer: SigningKey,
        issuer: x509.Certificate,
        directory: Directory,
        cities: CityLink,
        print_timeout: timedelta = PRINT_TIMEOUT,
        juki: Whereabouts | None = None,
        request_lease: timedelta = REQUEST_LEASE,
        clock_skew: timedelta = CLOCK_SKEW,
        later: Callable[[Callable[[], object]], object] | None = None,
    ) -> None:
        """``later`` tells the cities of prints off the kiosk's request (``in_background``
        when serving); without it they are told before ``printed`` returns, so an
        in-process caller never leaves work running on a store it is about to close."""
        self.units, self.clock, self.signer, self.issuer = units, clock, signer, issuer
        self.later = later or (lambda work: work())
        self.directory, self.cities, self.juki = directory, cities, juki
        self.print_timeout, self.request_lease = print_timeout, request_lease
        self.desk = SessionDesk(units, clock, issuer, directory.status_of, clock_skew)

    # --- sessions: ``kiosk`` is the caller's network name, "" without mutual TLS ------------

    def open_session(self, kiosk: str = "") -> tuple[str, bytes]:
        return self.desk.open(kiosk)

    def authenticate(
        self, session: str, certificate_der: bytes, signature: bytes, kiosk: str = ""
    ) -> Authenticated:
        return self.desk.authenticate(session, certificate_der, signature, kiosk)

    def end_session(self, session: str, kiosk: str = "") -> None:
        """The kiosk's resident left (中止, idle): the session is never used again."""
        self.desk.end(session, kiosk)

    def _subject(self, session: str, kiosk: str, spent_on: str) -> Authenticated:
        """The session's card; the session is spent on ``spent_on`` and on nothing else."""
        return self.desk.spend(session, kiosk, spent_on)

    # --- issuance --------------------------------------------------------------------------

    def _get(self, request_id: str) -> Issuance | None:
        with self.units() as uow:
            return uow.issuances.get(request_id)

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
        check_copies(copies)
        who = self._subject(session, kiosk, request_id)
        body = store_request(request_id, who.serial, certificate, options, domicile_city)
        existing = self._get(request_id)
        if existing is not None:
            return self._again(existing, who, body, copies, domicile_city, kiosk)
        city, expected, _ = self._route(who.serial, domicile_city)
        asked = Asked(request_id, city, certificate, copies, expected, self.clock.now())
        with self.units() as uow:  # a city an alarm stopped gets nothing more
            if uow.alarms.count_for(city):
                raise city_stopped(city)
            added = uow.issuances.add(asked.requested(who.serial, store, chain, kiosk))
            if added:
                uow.commit()
        if not added:  # the same request id twice at once: the first one issues
            again = self._get(request_id)
            assert again is not None
            return self._again(again, who, body, copies, domicile_city, kiosk)
        return self._ask_city(asked, body)

    def _ask_city(self, asked: Asked, body: StoreRequest) -> PrintJob:
        """Send the request under its id and complete the issuance with the city's answer.

        A refusal voids it.  A lost answer (the city unavailable) may hide an
        issuance, so it stays requested and a retry of the same id asks again.
        """
        try:
            answer = self.cities.issue(asked.city, body)
        except Refused as refusal:
            if refusal.reason == "city_unavailable":
                self._finish(asked.request_id, REQUESTED, reason=UNANSWERED)
            else:
                self._finish(asked.request_id, VOIDED, reason=refusal.reason)
            raise
        except Conflict:  # the city kept another request under this id: nothing moves here
            raise
        except Exception:
            self._finish(asked.request_id, VOIDED, reason="center_error")
            raise
        return self._complete(asked, answer)

    def _complete(self, asked: Asked, answer: StoreAnswer) -> PrintJob:
        """The city's answer checked (holder, content), stamped and kept: requested → rendered."""
        mismatch = answer_mismatch(asked, answer)
        if mismatch is not None:
            self._mis_issuance(asked, *mismatch)
        with self._voided_on_failure(asked.request_id):
            pdf = base64.b64decode(answer.pdf_base64, validate=True)
        mismatch = content_mismatch(asked, pdf, answer.content_digest)
        if mismatch is not None:
            self._mis_issuance(asked, *mismatch)
        with self._voided_on_failure(asked.request_id):
            job = self._stamped_job(asked, pdf, answer)
        done = self._finish(
            asked.request_id,
            "rendered",
            fee=job.fee,
            holder_digest=job.holder_digest,
            content_digest=answer.content_digest,
            print_job=job.pdf,
        )
        if not done:  # a retry or the sweep settled it first: its outcome stands
            settled = self._get(asked.request_id)
            assert settled is not None
            return job_of(settled)
        return job

    @contextmanager
    def _voided_on_failure(self, request_id: str) -> Iterator[None]:
        """Whatever fails inside voids the issuance (a refusal keeps its reason) and is raised."""
        try:
            yield
        except Refused as refusal:
            self._finish(request_id, VOIDED, reason=refusal.reason)
            raise
        except Exception:
            self._finish(request_id, VOIDED, reason="center_error")
            raise

    def _stamped_job(self, asked: Asked, pdf: bytes, answer: StoreAnswer) -> PrintJob:
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
            raise record_unknown() from exc
        if held.state != "resident":
            raise record_removed(held)
        return held.city, holder_digest(held.city, code)

    def _again(
        self,
        issuance: Issuance,
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
        check_retry(issuance, who.serial, kiosk, body.certificate, copies, domicile_city)
        if issuance.state == REQUESTED:
            self._check_city_open(issuance.city)
            if self._claim(issuance.request_id):
                return self._ask_city(Asked.of(issuance), body)
        return job_of(issuance)

    def _claim(self, request_id: str) -> bool:
        """Take over a requested issuance whose worker is gone; one taker wins."""
        now = self.clock.now()
        with self.units() as uow:
            moved = uow.issuances.claim(request_id, now, now - self.request_lease, UNANSWERED)
            uow.commit()
        return moved

    def recover_stuck(self) -> int:
        """Resolve every issuance requested past its lease by asking its city; how many moved.

        The city says what it did under the request id: issued (the answer is
        checked and the issuance completes, the print timeout then running
        from now), refused, or nothing — then the id is closed at the city
        first, so it can never issue under it, and the issuance is voided.
        A city that cannot answer is asked again at the next turn, and not
        again in this one: the print-timeout sweep waits for this turn.
        """
        with self.units() as uow:
            stuck = uow.issuances.stuck(self.clock.now() - self.request_lease, 100)
        moved, unreachable = 0, set()
        for issuance in stuck:
            if issuance.city in unreachable or not self._claim(issuance.request_id):
                continue  # its city is down, or another worker took it
            try:
                self._recover(Asked.of(issuance))
            except Refused as exc:
                if exc.reason in ("city_unavailable", "city_not_connected"):
                    unreachable.add(issuance.city)
                log.warning("recovering %s: %s", issuance.request_id, exc.message)
            except KofuError as exc:
                log.warning("recovering %s: %s", issuance.request_id, exc.message)
            final = self._get(issuance.request_id)
            moved += final is not None and final.state != REQUESTED
        return moved

    def _recover(self, asked: Asked) -> None:
        told = self.cities.outcome(asked.city, asked.request_id)
        if told.state == "unknown":
            told = self.cities.abandon(asked.city, asked.request_id)
        stopped = self._stopped(asked.city)
        move, reason = recovered_state(told.state, told.reason, asked.expected is not None, stopped)
        if move == VOIDED:
            self._finish(asked.request_id, VOIDED, reason=reason)
        elif move == "complete" and told.answer is not None:
            self._complete(asked, told.answer)

    def sweep(self) -> None:
        """The background turn: void unconfirmed print jobs, recover stuck requests, tell cities."""
        self.void_unconfirmed()
        self.recover_stuck()
        self.tell_cities()  # prints a city did not hear of at the time
        self.desk.forget_old()  # ended sessions, failed sign-ins past their window

    def _finish(self, request_id: str, state: str, **values: Any) -> bool:
        """requested → ``state`` (or requested again, with new values); False if it had moved."""
        with self.units() as uow:
            moved = uow.issuances.finish(request_id, state, self.clock.now(), **values)
            uow.commit()
        return moved

    def _mis_issuance(self, asked: Asked, kind: str, detail: str) -> None:
        """Another person's certificate, or bytes not the city's: void, alarm, stop that city."""
        self._finish(asked.request_id, VOIDED, reason=kind)
        with self.units() as uow:
            uow.alarms.raise_alarm(Alarm(self.clock.now(), asked.city, kind, detail))
            uow.commit()
        raise stopped_after_check(kind)

    def _stopped(self, city: str) -> bool:
        with self.units() as uow:
            return bool(uow.alarms.count_for(city))

    def _check_city_open(self, city: str) -> None:
        if self._stopped(city):
            raise city_stopped(city)

    def printed(self, request_id: str, kiosk: str = "") -> None:
        """The kiosk printed every copy: charge it, drop the job, tell the city. Idempotent.

        The print and the notice owed to the city are one move (``city_told``
        false): the city is told off the kiosk's request, together with the
        other prints of the moment, and the sweep tells it again until it has
        answered, so a city down at that moment still counts the print (its
        activity log), and counts it once.
        """
        self._settle_state(request_id, "printed", kiosk, city_told=False)
        self.later(self.tell_cities)

    def tell_cities(self, limit: int = PRINTS_PER_NOTICE * 5) -> int:
        """Tell the cities of prints they have not counted yet, a message per city; how many.

        Each city's prints go in messages of at most ``PRINTS_PER_NOTICE``; a
        city that does not answer is skipped until the next turn.
        """
        with self.units() as uow:
            untold = uow.issuances.untold(limit)
        by_city: dict[str, list[Issuance]] = {}
        for issuance in untold:
            by_city.setdefault(issuance.city, []).append(issuance)
        told = 0
        for city, prints in sorted(by_city.items()):
            for start in range(0, len(prints), PRINTS_PER_NOTICE):
                counted = self._tell_city(city, prints[start : start + PRINTS_PER_NOTICE])
                if counted is None:
                    break  # the city does not answer: its other prints wait for the next turn
                told += counted
        return told

    def _tell_city(self, city: str, prints: list[Issuance]) -> int | None:
        """One message of prints to their city; how many it counted, None if it did not answer."""
        notices = StorePrints(prints=[_notice(issuance) for issuance in prints])
        try:
            answer = self.cities.printed_many(city, notices)
        except Exception as exc:  # a notice not heard is sent again; the print stands
            log.warning("could not tell %s of %d prints: %s", city, len(prints), exc)
            return None
        sent = {issuance.request_id for issuance in prints}
        for refused in answer.refused:  # asking again cannot change the city's answer
            log.warning("%s cannot count print %s: %s", city, refused.request_id, refused.reason)
        heard = [done.request_id for done in answer.recorded if done.request_id in sent]
        heard += [refused.request_id for refused in answer.refused if refused.request_id in sent]
        with self.units() as uow:  # only what this message carried: the city's word on it
            told = uow.issuances.told_many(heard)
            uow.commit()
        return told

    def voided(self, request_id: str, reason: str, kiosk: str = "") -> None:
        """A print failure or timeout voids the whole issuance; nothing is charged. Idempotent."""
        self._settle_state(request_id, VOIDED, kiosk, reason=reason[:200], fee=0)

    def void_unconfirmed(self, request_id: str | None = None) -> int:
        """Void every print job (or this one) unconfirmed past the print timeout: whole, uncharged.

        A timeout must cancel the issuance for that applicant, never only a
        print queue (the Yokohama failure of March 2023).
        """
        now = self.clock.now()
        with self.units() as uow:
            done = uow.issuances.void_unconfirmed(
                now - self.print_timeout, now, PRINT_TIMEOUT_REASON, request_id
            )
            uow.commit()
        return done

    def _settle_state(self, request_id: str, state: str, kiosk: str, **values: Any) -> None:
        """rendered → printed or voided, once: the state is checked in the same move.

        Two workers (a kiosk's confirmation and another's timeout sweep) can
        race for one issuance; only one of them moves it, the other sees the
        outcome, so a voided issuance can never be charged afterwards.  A
        confirmation after the timeout finds the job expired and voids it,
        whether or not the sweep has come by yet.  Only the kiosk that asked
        for the job may confirm or void it.
        """
        now = self.clock.now()
        changes = {"state": state, "print_job": None, "updated_at": now} | values
        with self.units() as uow:
            moved = uow.issuances.settle(request_id, kiosk, now - self.print_timeout, changes)
            uow.commit()
        if moved:
            return
        self.void_unconfirmed(request_id)
        issuance = self._get(request_id)
        if issuance is None:
            raise NotFound(f"no issuance {request_id}", field="request_id")
        if issuance.kiosk != kiosk:
            raise other_kiosk()
        if issuance.state != state:
            why = f" ({issuance.reason})" if issuance.reason else ""
            raise Conflict(f"issuance {request_id} is {issuance.state}{why}", field="request_id")

    def settlement(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        return settlement(self.units, start, end)

    def log(self, query: LogQuery) -> list[Issuance]:
        """The issuance log as the operator searches it (交付記録), newest first."""
        with self.units() as uow:
            return uow.issuances.search(query)

    def status(self) -> dict[str, Any]:
        """What the operator watches: alarms, stopped cities, the log's states, prints waiting."""
        return center_status(self.units, self.clock, self.print_timeout)

    def resume(self, *, request_id: str, city: str, reason: str, operator: str) -> dict[str, Any]:
        """交付再開: a supervisor resumes a city an alarm stopped; kept, and once per request id."""

        def known() -> list[str]:
            return [c.code for c in self.cities.connected()]

        return resume_city(
            self.units,
            self.clock,
            request_id=request_id,
            city=city,
            reason=reason,
            operator=operator,
            known=known,
        )


def _notice(issuance: Issuance) -> StorePrinted:
    """What the city is told of one print: the id it answered, copies, fee, chain, when."""
    return StorePrinted(
        request_id=issuance.request_id,
        city=issuance.city,
        copies=issuance.copies,
        fee=issuance.fee,
        chain=issuance.chain[:32],
        printed_at=issuance.updated_at,
    )
