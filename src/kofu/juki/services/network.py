"""One Juki-net server (a prefecture's or the national one): notices in order, code blocks,
the records it holds of a city, the whereabouts of a person, provisions and disclosures.

Stateless over its engine: any number of workers may serve one store.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from kofu.contracts.juki import (
    CodeBlock,
    CodeBlockRequest,
    Disclosure,
    HeldRecords,
    IdentityNotice,
    IdentityNotices,
    NoticeReceipt,
    ProvidedIdentity,
)
from kofu.core.clock import Clock
from kofu.core.errors import Conflict, InvalidInput, KofuError, NotFound, Refused, SequenceGap
from kofu.core.identifiers import ResidentCode
from kofu.core.sequenced import Unsent, drain
from kofu.juki.domain.identity import IdentityRecord, holding_record
from kofu.juki.domain.network import Role, agency_purposes
from kofu.juki.domain.ports import JukiUnits, NetworkBook, NetworkRuns, SameRowsAtOnce
from kofu.juki.services.directory import JukiDirectory

__all__ = ["PAGE", "JukiNode", "NodeOutbox", "Upstream", "upstream_turn"]

PAGE = 5000  # records in one page of HeldRecords
NATIONAL_BLOCK = 10_000  # codes a prefecture's server takes from the national server at once


def _digest(notice: IdentityNotice) -> str:
    return hashlib.sha256(notice.model_dump_json(exclude={"v"}).encode()).hexdigest()


class JukiNode(JukiDirectory):
    """The service of one juki process in its role (see kofu.juki.domain.network)."""

    def __init__(
        self, units: JukiUnits, clock: Clock, role: Role, *, reads: JukiUnits, runs: NetworkRuns
    ) -> None:
        """``units``/``reads`` for the directory, ``runs`` for the server's own books."""
        super().__init__(units, clock, reads)
        self.runs, self.role = runs, role
        # A prefecture's server asks the national one about a person it holds no record of
        # (a resident of another prefecture, asked by one of its cities); set by the bootstrap.
        self.ask_upstream: Callable[[str], dict[str, Any]] | None = None
        with runs() as repo:
            held = repo.role()
            if held is None:
                repo.set_role(role.name)
            elif held != role.name:
                raise InvalidInput(
                    f"this store belongs to juki {held}, not {role.name}; give each server its own",
                    field="role",
                )

    def _run(self, work: Callable[[NetworkBook], Any]) -> Any:
        with self.runs() as repo:
            return work(repo)

    # --- notices ----------------------------------------------------------------------------

    def receive_notices(self, batch: IdentityNotices) -> NoticeReceipt:
        """Apply a sender's batch in seq order, all or none; a resend changes nothing.

        Refused with ``SequenceGap`` (409, naming the seq expected) when the
        batch starts past the next seq, or repeats a seq with other content.
        """
        sender, notices = batch.sender, list(batch.notices)
        for a, b in itertools.pairwise(notices):
            if b.seq != a.seq + 1:
                raise InvalidInput(
                    f"notices must be consecutive: {b.seq} follows {a.seq}", field="seq"
                )
        for notice in notices:
            self._check_origin(sender, notice)
        try:
            return self._run(lambda repo: self._apply(repo, sender, notices))  # type: ignore[no-any-return]
        except SameRowsAtOnce as exc:  # the same batch from two workers at once
            raise Conflict(
                "another batch of this sender is being applied; send again", field="seq"
            ) from exc

    def _check_origin(self, sender: str, notice: IdentityNotice) -> None:
        city = notice.record.city
        ok = city == sender[5:] if sender.startswith("city-") else city[:2] == sender[5:]
        if not ok or not self.role.holds_city(city):
            raise InvalidInput(
                f"notice {notice.seq}: {sender} may not report the records of city {city}",
                field="record.city",
            )

    def _apply(
        self, repo: NetworkBook, sender: str, notices: list[IdentityNotice]
    ) -> NoticeReceipt:
        last = repo.cursor(sender)
        first = notices[0].seq
        if first > last + 1:
            raise SequenceGap(
                f"{sender}: the next notice applied here is seq {last + 1}, not {first}; "
                f"send from {last + 1}",
                expected=last + 1,
            )
        seen = repo.digests(sender, first, min(last, notices[-1].seq))
        already = [n for n in notices if n.seq <= last]
        for notice in already:
            if seen.get(notice.seq, _digest(notice)) != _digest(notice):
                raise SequenceGap(
                    f"{sender}: seq {notice.seq} was applied with other content; "
                    "a message is never changed once numbered",
                    expected=last + 1,
                    reason="sequence_conflict",
                )
        fresh = [n for n in notices if n.seq > last]
        self._apply_fresh(repo, sender, fresh)
        if fresh and not repo.set_cursor(sender, fresh[-1].seq, last):
            raise Conflict(
                "another batch of this sender was applied meanwhile; send again", field="seq"
            )
        return NoticeReceipt(
            sender=sender,
            applied_through=max(last, notices[-1].seq),
            applied=len(fresh),
            already=len(already),
        )

    def _apply_fresh(self, repo: NetworkBook, sender: str, fresh: list[IdentityNotice]) -> None:
        """Apply new notices in order, with a few statements for the whole batch.

        What the checks need (retired codes, who carries each individual
        number) is read once; writes are staged and flushed before a code
        is retired, so the order of the notices is the order of the effects.
        """
        if not fresh:
            return
        for notice in fresh:
            try:
                IdentityRecord.model_validate(notice.record.model_dump(mode="json", exclude={"v"}))
            except (ValueError, InvalidInput) as exc:
                raise InvalidInput(f"notice {notice.seq}: {exc}", field="record") from exc
        codes = {n.record.resident_code for n in fresh}
        numbers = {n.record.individual_number for n in fresh}
        holders = repo.number_holders(numbers)
        retired = repo.retired_among(codes | {c for cs in holders.values() for c in cs})
        staged = repo.staging({(n.record.resident_code, n.record.city) for n in fresh})
        for notice in fresh:
            record = notice.record
            if notice.retires is not None:
                staged.flush()
                repo.retire(notice.retires, record.resident_code, record.city, notice.effective)
                retired.add(notice.retires)
            if record.resident_code in retired:
                raise InvalidInput(
                    f"notice {notice.seq}: resident code {record.resident_code} was retired and "
                    "is never used again",
                    field="record.resident_code",
                )
            others = holders.get(record.individual_number, set()) - {record.resident_code} - retired
            if others:
                raise Conflict(
                    f"notice {notice.seq}: individual number {record.individual_number} belongs "
                    f"to resident {min(others)}; nothing of the batch was applied",
                    field="record.individual_number",
                )
            holders.setdefault(record.individual_number, set()).add(record.resident_code)
            staged.put(record)
            staged.received(
                sender, notice.seq, _digest(notice), record.resident_code, notice.recorded_at
            )
            if self.role.kind == "prefecture":  # on to the national server, in this server's order
                staged.forward(notice.model_dump(mode="json"), record.resident_code)
        staged.flush()

    def outbox(self) -> NodeOutbox:
        return NodeOutbox(self)

    def forward_counts(self) -> dict[str, int]:
        return self._run(lambda repo: repo.forward_counts())  # type: ignore[no-any-return]

    # --- unused resident codes (未使用住民票コード) ----------------------------------------------

    def issue_block(self, request: CodeBlockRequest) -> CodeBlock:
        """A block of codes for ``holder`` once per request id (asked again: the same block)."""

        def give(repo: NetworkBook) -> CodeBlock:
            known = repo.block_for(request.holder, request.request_id)
            if known is not None:
                return CodeBlock(holder=request.holder, **known)
            if self.role.kind == "national":
                first, count = repo.next_number("code_base", request.count), request.count
            else:
                taken = repo.take_stock(request.count)
                if taken is None:
                    raise Conflict(
                        f"juki {self.role.name} has no unused resident codes just now; it is "
                        "asking the national server — ask again shortly",
                        field="count",
                    )
                first, count = taken
            if first + count > 10**10:
                raise Conflict("the resident code space is exhausted", field="count")
            block_id = f"{self.role.name}-{secrets.token_hex(8)}"
            repo.give_block(block_id, request.holder, request.request_id, first, count)
            return CodeBlock(block_id=block_id, holder=request.holder, first=first, count=count)

        try:
            return self._run(give)  # type: ignore[no-any-return]
        except SameRowsAtOnce as exc:
            raise Conflict(
                "the same block request is being answered; ask again", field="request_id"
            ) from exc

    def stock_left(self) -> int:
        return self._run(lambda repo: repo.stock_left())  # type: ignore[no-any-return]

    def stock_request(self, count: int = NATIONAL_BLOCK) -> tuple[str, int]:
        """The request for more codes to make (kept first, so a retry asks with the same id)."""
        new_id = f"stk-{secrets.token_hex(12)}"
        return self._run(lambda repo: repo.stock_request(count, new_id))  # type: ignore[no-any-return]

    def add_stock(self, request_id: str, block: CodeBlock) -> None:
        self._run(lambda repo: repo.add_stock(request_id, block.block_id, block.first, block.count))

    # --- what is held (整合性確認) and where a person is ---------------------------------------

    def held(self, city: str, after: str, limit: int = PAGE) -> HeldRecords:
        def read(repo: NetworkBook) -> HeldRecords:
            records = repo.of_city(city, after, limit)
            more = records[-1].resident_code if len(records) == limit else None
            retired = tuple(repo.retired_of_city(city)) if not after else ()
            return HeldRecords(
                city=city,
                held_by=self.role.name,
                records=tuple(records),
                retired=retired,
                next_after=more,
            )

        return self._run(read)  # type: ignore[no-any-return]

    def whereabouts(self, resident_code: str) -> dict[str, Any]:
        """As the directory answers, but a retired code is refused with its reason."""
        code = str(ResidentCode(resident_code))
        retired = self._run(lambda repo: repo.retired(code))
        if retired is not None:
            raise Refused(
                "resident_code_retired",
                f"resident code {code} was changed on {retired[1]} (住民票コード変更) and is no "
                "longer valid; the card's record must be updated at the city's counter",
                message_ja="住民票コードが変更されています。市区町村の窓口にお問い合わせください。",
            )
        try:
            return super().whereabouts(code)
        except NotFound:
            if self.ask_upstream is None:
                raise
            return self.ask_upstream(code)

    # --- provision to agencies and disclosure to the person ---------------------------------

    def provide(self, resident_code: str, agency: str | None, purpose: str) -> ProvidedIdentity:
        """本人確認情報 for an authorised agency and purpose; every answer is logged."""
        allowed = agency_purposes(agency)
        if allowed is None or agency is None:
            raise Refused(
                "caller_not_allowed",
                "only an agency the law names may be given 本人確認情報; "
                f"this is {agency}'s certificate",
            )
        if purpose not in allowed:
            raise Refused(
                "purpose_not_allowed",
                f"{agency} may ask for {', '.join(sorted(allowed))}, not {purpose!r}",
            )
        code = str(ResidentCode(resident_code))
        record = self.whereabouts(code)
        agency = agency.removeprefix("agency-")  # the agency's name, as the disclosure shows it
        provision_id = f"prv-{secrets.token_hex(10)}"
        at = self.clock.now()
        self._run(lambda repo: repo.log_provision(provision_id, code, agency, purpose, at))
        return ProvidedIdentity.model_validate(
            {
                "provision_id": provision_id,
                "record": record,
                "agency": agency,
                "purpose": purpose,
                "provided_at": at,
            }
        )

    def disclose(self, resident_code: str) -> Disclosure:
        """What is held of the person and to whom it was provided (開示, 提供状況の開示)."""
        code = str(ResidentCode(resident_code))

        def read(repo: NetworkBook) -> Disclosure:
            records = repo.of_person(code)
            provisions = repo.provisions_of(code)
            if not records and not provisions:
                raise NotFound(f"no record of resident {code} is held here", field="resident_code")
            held = holding_record(
                [IdentityRecord.model_validate(r.model_dump(exclude={"v"})) for r in records]
            )
            ordered = sorted(records, key=lambda r: r.city != (held.city if held else ""))
            return Disclosure(
                resident_code=code, records=tuple(ordered), provisions=tuple(provisions)
            )

        return self._run(read)  # type: ignore[no-any-return]

    def lag_seconds(self, since: Any) -> list[float]:
        return self._run(lambda repo: repo.lag_seconds(since))  # type: ignore[no-any-return]


class NodeOutbox:
    """A prefecture's server's forward outbox as kofu.core.sequenced drains it."""

    def __init__(self, node: JukiNode) -> None:
        self.node = node

    def unsent(self, limit: int) -> list[Unsent]:
        return self.node._run(lambda repo: repo.unsent(limit))  # type: ignore[no-any-return]

    def one(self, seq: int) -> Unsent | None:
        return self.node._run(lambda repo: repo.one(seq))  # type: ignore[no-any-return]

    def mark_sent(self, first: int, through: int) -> None:
        self.node._run(lambda repo: repo.mark_sent(first, through))

    def rewind(self, to: int) -> None:
        self.node._run(lambda repo: repo.rewind(to))

    def mark_failed(self, seq: int, reason: str) -> None:
        self.node._run(lambda repo: repo.mark_failed(seq, reason))


class Upstream(Protocol):
    """The national server as a prefecture's server reaches it (kofu.core.jukilink.JukiLink)."""

    def send(self, notices: Sequence[dict[str, Any]]) -> int: ...
    def block(self, request_id: str, count: int) -> CodeBlock: ...


STOCK_LOW = 2_000  # a prefecture's server asks for another national block below this


def upstream_turn(node: JukiNode, national: Upstream) -> dict[str, Any]:
    """One turn of a prefecture's server: codes stocked, notices forwarded in order.

    The stock request's id is kept before it is sent, so a crash between
    the national server's answer and storing it asks again with the same id
    and gets the same block.
    """
    out: dict[str, Any] = {}
    try:
        if node.stock_left() < STOCK_LOW:
            request_id, count = node.stock_request()
            node.add_stock(request_id, national.block(request_id, count))
        out["stock"] = node.stock_left()
    except KofuError as exc:
        out["stock_error"] = exc.message
    return out | drain(node.outbox(), national)
