"""juki over HTTP (LGWAN, mutual TLS): cities report, the issuance center asks.

The center's question (which city holds this person) is one indexed read,
answered on the event loop (``async``) rather than after a trip to the
thread pool, which cost more than the read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool

from kofu.contracts.juki import (
    CodeBlock,
    CodeBlockRequest,
    Disclosure,
    HeldRecords,
    IdentityNotices,
    IdentityReport,
    IdentityReports,
    JukiStore,
    NoticeReceipt,
    ProvidedIdentity,
    ReportCounts,
)
from kofu.core.errors import Refused
from kofu.core.guard import MiB
from kofu.core.http import caller, check_caller, every, party_app
from kofu.core.identifiers import LocalGovernmentCode, ResidentCode
from kofu.juki.domain.network import DISCLOSURE_DESK
from kofu.juki.services.directory import JukiDirectory
from kofu.juki.services.network import JukiNode

__all__ = ["create_app"]


def create_app(
    directory: JukiDirectory, background: tuple[float, Callable[[], object]] | None = None
) -> FastAPI:
    """juki's app; a ``JukiNode`` adds Juki-net's routes for its role (prefecture or national)."""
    app = party_app(
        "kofu juki",
        "The national directory of identity records (本人確認情報): cities report "
        "changes, the issuance center asks which city holds a person's record.",
        larger_bodies={"/identities": 8 * MiB, "/notices": 8 * MiB},  # a report of MAX_BATCH
        lifespan=every(*background) if background else None,
    )

    @app.post("/identities")
    def report(body: IdentityReports, request: Request) -> ReportCounts:
        """A city's changed records; resending a batch changes nothing (idempotent).

        Only the city itself may report its records: its network certificate
        must be ``city-CODE`` for the ``city`` the body names.
        """
        check_caller(request, f"city-{body.city}", f"report the records of city {body.city}")
        if isinstance(directory, JukiNode) and not directory.role.direct:
            raise Refused(
                "report_through_notices",
                f"juki {directory.role.name} takes numbered notices (POST /notices) only; "
                "unordered reports go to a national server without prefecture servers",
            )
        records = [record.model_dump(mode="json", exclude={"v"}) for record in body.records]
        return ReportCounts.model_validate(directory.receive(body.city, records))

    if isinstance(directory, JukiNode):
        _network_routes(app, directory)

    @app.get("/residents/{resident_code}")
    async def whereabouts(resident_code: str, request: Request) -> IdentityReport:
        """The record of the city that holds the person now (404 if no city reported one).

        Asked by the issuance center (routing a store request) and by the cities
        (a wide-area certificate or a special move finds the home city this way);
        no one else, not a city's staff terminals either.  A prefecture's server
        asks the national one about a person of another prefecture (住基ネット's
        route: CS → 都道府県サーバ → 全国サーバ), so a city needs only its own.
        """
        who = caller(request)
        if who is not None and not _may_ask_whereabouts(directory, who):
            check_caller(request, "center", "ask where a person's record is held")
        if isinstance(directory, JukiNode) and directory.ask_upstream is not None:
            # a miss is asked of the national server: a network call, kept off the event loop
            found = await run_in_threadpool(directory.whereabouts, resident_code)
        else:
            found = directory.whereabouts(resident_code)
        return IdentityReport.model_validate(found)

    @app.get("/health")
    def health() -> dict[str, Any]:
        out: dict[str, Any] = {"service": "juki", "records": directory.count()}
        if isinstance(directory, JukiNode):
            out["role"] = directory.role.name
            out["forward"] = directory.forward_counts()
        return out

    @app.get("/store")
    def store() -> JukiStore:
        """This store's identity, asked by every city at every report turn (so no counting)."""
        return JukiStore(store_id=directory.store_id())

    return app


def _may_ask_whereabouts(directory: JukiDirectory, who: str) -> bool:
    """The center, every city, and (of the national server) the prefecture servers."""
    if who == "center" or _is_city(who):
        return True
    return isinstance(directory, JukiNode) and directory.role.may_ask_whereabouts(who)


def _network_routes(app: FastAPI, node: JukiNode) -> None:
    """Juki-net's routes; each answers only the callers the node's role names."""
    role = node.role

    @app.post("/notices")
    def notices(body: IdentityNotices, request: Request) -> NoticeReceipt:
        """A sender's numbered notices, applied in order (409 ``sequence_gap`` names the next)."""
        _sender_check(request, body.sender, "send notices")
        return node.receive_notices(body)

    @app.post("/code-blocks")
    def code_blocks(body: CodeBlockRequest, request: Request) -> CodeBlock:
        """Unused resident codes (未使用住民票コード) for a city or a prefecture's server."""
        _sender_check(request, body.holder, "ask for resident codes")
        return node.issue_block(body)

    @app.get("/cities/{city}/records")
    def held(city: str, request: Request, after: str = "") -> HeldRecords:
        """What this server holds of a city, a page at a time (整合性確認)."""
        code = str(LocalGovernmentCode(city))
        if after:
            after = str(ResidentCode(after))
        if not role.may_read_city(caller(request), code):
            raise Refused(
                "caller_not_allowed",
                f"juki {role.name} shows the records of city {code} only to that city "
                f"and its prefecture's server; this certificate is {caller(request)}'s",
            )
        return node.held(code, after)

    def _sender_check(request: Request, sender: str, doing: str) -> None:
        if not role.may_send(caller(request), sender):
            raise Refused(
                "caller_not_allowed",
                f"juki {role.name} lets no one {doing} as {sender} with the network "
                f"certificate of {caller(request)}",
            )

    if role.kind != "national":
        return

    @app.get("/identity/{resident_code}")
    def provide(
        resident_code: str,
        request: Request,
        purpose: str = Query(min_length=1, max_length=48, pattern=r"^[a-z0-9-]+$"),
    ) -> ProvidedIdentity:
        """本人確認情報 for an authorised agency (network name ``agency-…``) and purpose; logged."""
        return node.provide(resident_code, caller(request) or "", purpose)

    @app.get("/disclosures/{resident_code}")
    def disclose(resident_code: str, request: Request) -> Disclosure:
        """What is held of a person and to whom it was provided (本人確認情報の開示)."""
        check_caller(request, DISCLOSURE_DESK, "answer a disclosure request")
        return node.disclose(resident_code)


def _is_city(name: str) -> bool:
    """A city's own network name, ``city-`` and its six-digit code (not its staff's)."""
    code = name.removeprefix("city-")
    return name.startswith("city-") and len(code) == 6 and code.isdigit()
