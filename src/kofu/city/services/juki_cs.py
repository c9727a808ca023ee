"""The city's communication server (CS): notices to the prefecture's server, in order, exactly
once in effect; staff's view of them (j1090); the city's unused resident codes; the
consistency check with what the prefecture and the national server hold (j1100).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any, TypeVar

from kofu.city.domain.activity import ActivityKind, at_noon
from kofu.city.domain.juki_report import LINK_MODES, OUTBOX_STATES, identity_report
from kofu.city.domain.ports import CityUnitOfWork, CityUnits
from kofu.city.services.activity import record_activity
from kofu.contracts.juki import HeldRecords, IdentityReport
from kofu.core.errors import InvalidInput, KofuError, NotFound
from kofu.core.jukilink import JukiLink
from kofu.core.sequenced import Unsent, drain, send_one

__all__ = [
    "CODE_BLOCK",
    "CityOutbox",
    "check_consistency",
    "cs_turn",
    "link_state",
    "list_outbox",
    "resend",
    "set_link_mode",
    "stock_codes",
]

T = TypeVar("T")
CODE_BLOCK = 200  # codes a city asks its prefecture for at once
LOW_WATER = 50  # ask for a new block when fewer are left


class CityOutbox:
    """The city's outbox as kofu.core.sequenced drains it: one committed transaction a call."""

    def __init__(self, units: CityUnits, today: date | None = None) -> None:
        self.units, self.today = units, today

    def run(self, work: Callable[[CityUnitOfWork], T]) -> T:
        with self.units(today=self.today) as uow:
            out = work(uow)
            uow.commit()
            return out

    def unsent(self, limit: int) -> list[Unsent]:
        return self.run(lambda uow: uow.cs.unsent(limit))

    def one(self, seq: int) -> Unsent | None:
        return self.run(lambda uow: uow.cs.one(seq))

    def mark_sent(self, first: int, through: int) -> None:
        self.run(lambda uow: uow.cs.mark_sent(first, through))

    def rewind(self, to: int) -> None:
        self.run(lambda uow: uow.cs.rewind(to))

    def mark_failed(self, seq: int, reason: str) -> None:
        self.run(lambda uow: uow.cs.mark_failed(seq, reason))


def cs_turn(units: CityUnits, link: JukiLink, today: date, batches: int = 50) -> dict[str, Any]:
    """One turn of the CS: due changes and the first load queued, codes stocked, notices sent.

    In manual linkage (手動連携) nothing is sent: notices wait until a clerk
    resends them or switches back.  A failure is kept on the message for
    the clerk and the turn goes on with the rest of its work.
    """
    outbox = CityOutbox(units, today)
    queued = outbox.run(lambda uow: uow.cs.apply_due() + uow.cs.initial_load())
    out: dict[str, Any] = {"queued": queued}
    try:
        out["codes"] = stock_codes(units, link, today)
    except KofuError as exc:
        out["codes_error"] = exc.message
    if outbox.run(lambda uow: uow.cs.link()["mode"]) == "manual":
        return out | {"sent": 0, "mode": "manual"}
    return out | drain(outbox, link, batches=batches) | {"mode": "auto"}


def stock_codes(units: CityUnits, link: JukiLink, today: date, force: bool = False) -> int:
    """Ask the prefecture for a block of unused codes when few are left; codes now left.

    The request's id is stored (committed) before it is sent: after a crash
    the same id is asked again and the prefecture answers the same block,
    so no code is ever given twice nor lost.
    """
    outbox = CityOutbox(units, today)
    left = outbox.run(lambda uow: uow.cs.codes_left())
    if left >= LOW_WATER and not force:
        return left
    request_id, count = outbox.run(lambda uow: uow.cs.code_request(CODE_BLOCK))
    block = link.block(request_id, count)
    outbox.run(lambda uow: uow.cs.add_block(request_id, block))
    return outbox.run(lambda uow: uow.cs.codes_left())


def list_outbox(
    units: CityUnits, state: str | None, limit: int = 100, after: int = 0
) -> dict[str, Any]:
    """The sent and unsent notices, oldest first, with their state and any error."""
    if state is not None and state not in OUTBOX_STATES:
        raise InvalidInput(
            f"the state is one of {', '.join(OUTBOX_STATES)}, not {state!r}", field="state"
        )
    with units() as uow:
        return {
            "city": uow.city().code,
            "link": uow.cs.link(),
            "counts": uow.cs.counts(),
            "messages": uow.cs.messages(state, limit, after),
        }


def resend(units: CityUnits, link: JukiLink, seq: int) -> dict[str, Any]:
    """A clerk's resend of one notice (再送); the receiver's order rules still hold."""
    return send_one(CityOutbox(units), link, seq)


def add_by_hand(units: CityUnits, resident_code: str, today: date) -> dict[str, Any]:
    """A clerk's notice of a record as it stands (手動追加): queued like any other."""
    outbox = CityOutbox(units, today)
    seq = outbox.run(lambda uow: uow.cs.add_by_hand(resident_code, "manual_entry"))
    if seq is None:
        raise NotFound(f"resident {resident_code} has no record in this city", field="resident")
    return {"seq": seq, "resident_code": resident_code, "state": "pending"}


def set_link_mode(units: CityUnits, mode: str, note: str | None = None) -> dict[str, Any]:
    """Switch the link between automatic and manual (一時的な手動連携への切替, j1090)."""
    if mode not in LINK_MODES:
        raise InvalidInput(f"the mode is auto or manual, not {mode!r}", field="mode")
    outbox = CityOutbox(units)
    outbox.run(lambda uow: uow.cs.set_mode(mode, note))
    return link_state(units)


def link_state(units: CityUnits) -> dict[str, Any]:
    with units() as uow:
        return {"city": uow.city().code, **uow.cs.link(), "counts": uow.cs.counts()}


# --- consistency check (整合性確認, j1100) -----------------------------------------------------

_FACTS = ("individual_number", "name", "birth_date", "sex", "address", "state", "since")


def _register(units: CityUnits, today: date) -> tuple[str, dict[str, IdentityReport], set[str]]:
    """The city's register as Juki-net should hold it, and the codes it retired."""
    city, expected, after = "", {}, ""
    with units(today=today) as uow:
        city = uow.city().code
        while page := uow.cs.records_after(after, 2000):
            for person in page:
                expected[person.resident_code] = identity_report(person, city, 1)
            after = page[-1].resident_code
        retired = set(uow.cs.retired_codes())
    return city, expected, retired


def _pages(link: JukiLink, city: str) -> Iterator[HeldRecords]:
    after = ""
    while True:
        page = link.held(city, after)
        yield page
        if page.next_after is None:
            return
        after = page.next_after


def check_consistency(
    units: CityUnits,
    servers: dict[str, JukiLink],
    today: date,
    repair: bool = False,
) -> dict[str, Any]:
    """Compare the register with what each server holds of the city; list every difference.

    A difference whose person has a notice still unsent is explained by it
    (``cause: pending``), not a drift.  ``repair`` queues a fresh notice of
    the record as it stands for each drifted person (再送), which the CS
    then sends in order like any other.
    """
    city, expected, retired_here = _register(units, today)
    differences: list[dict[str, Any]] = []
    for name, link in servers.items():
        held: dict[str, IdentityReport] = {}
        retired_there: set[str] = set()
        for page in _pages(link, city):
            held.update({r.resident_code: r for r in page.records})
            retired_there |= set(page.retired)
        differences += _compare(name, expected, held, retired_here, retired_there)
    with units(today=today) as uow:
        for diff in differences:
            pending = uow.cs.pending_for(diff["resident_code"])
            if pending:
                diff["cause"] = "pending"
                diff["explained_by"] = pending
        drifted = sum(d["cause"] != "pending" for d in differences)
        record_activity(  # 既存住基との通信確認: one run, its mismatches (OPT-07)
            uow, ActivityKind.LINK_CHECK, at_noon(today), count=1, copies=drifted
        )
        uow.commit()
    drifts = [d for d in differences if d["cause"] != "pending"]
    repaired: list[int] = []
    if repair:
        repaired = _repair(units, today, drifts, expected)
    return {
        "city": city,
        "records": len(expected),
        "servers": list(servers),
        "consistent": not drifts,
        "differences": differences,
        "repaired": repaired,
    }


def _repair(
    units: CityUnits, today: date, drifts: list[dict[str, Any]], expected: dict[str, IdentityReport]
) -> list[int]:
    """Queue the record as it stands for each drifted person (a retired code: its change again)."""
    todo: dict[str, str | None] = {}
    with units(today=today) as uow:
        for diff in drifts:
            code = diff["resident_code"]
            if code in expected:
                todo.setdefault(code, None)
            elif diff["kind"] == "retirement_missing" and (new := uow.cs.retired_as(code)):
                todo[new] = code
    outbox, seqs = CityOutbox(units, today), []
    for code, old in sorted(todo.items()):
        seq = outbox.run(
            lambda uow, c=code, o=old: uow.cs.add_by_hand(c, "consistency_repair", retires=o)  # type: ignore[misc]
        )
        if seq is not None:
            seqs.append(seq)
    return seqs


def _compare(
    server: str,
    expected: dict[str, IdentityReport],
    held: dict[str, IdentityReport],
    retired_here: set[str],
    retired_there: set[str],
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for code, mine in expected.items():
        theirs = held.get(code)
        if theirs is None:
            out.append(_diff(server, code, "missing", "a notice never arrived (lost message)"))
            continue
        fields = [f for f in _FACTS if getattr(mine, f) != getattr(theirs, f)]
        if fields:
            words = ", ".join(
                f"{f}: register {getattr(mine, f)} ≠ {getattr(theirs, f)}" for f in fields
            )
            out.append(_diff(server, code, "differs", words, fields))
    for code in sorted(set(held) - set(expected)):
        why = "the register has no such person (a row added or kept by hand upstream)"
        out.append(_diff(server, code, "unknown_here", why))
    for code in sorted(retired_here - retired_there):
        out.append(_diff(server, code, "retirement_missing", "a code change never arrived"))
    return out


def _diff(
    server: str, code: str, kind: str, detail: str, fields: list[str] | None = None
) -> dict[str, Any]:
    cause = {"missing": "lost", "differs": "drift", "unknown_here": "extra"}.get(kind, "lost")
    return {
        "server": server,
        "resident_code": code,
        "kind": kind,
        "cause": cause,
        "fields": fields or [],
        "detail": detail,
    }
