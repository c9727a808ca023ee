"""juki over HTTP (LGWAN, mutual TLS): cities report, the issuance center asks.

The center's question (which city holds this person) is one indexed read,
answered on the event loop (``async``) rather than after a trip to the
thread pool, which cost more than the read.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request

from kofu.contracts.juki import IdentityReport, IdentityReports, JukiStore, ReportCounts
from kofu.core.guard import MiB
from kofu.core.http import check_caller, party_app
from kofu.juki.services.directory import JukiDirectory

__all__ = ["create_app"]


def create_app(directory: JukiDirectory) -> FastAPI:
    app = party_app(
        "kofu juki",
        "The national directory of identity records (本人確認情報): cities report "
        "changes, the issuance center asks which city holds a person's record.",
        larger_bodies={"/identities": 8 * MiB},  # a report of MAX_BATCH records
    )

    @app.post("/identities")
    def report(body: IdentityReports, request: Request) -> ReportCounts:
        """A city's changed records; resending a batch changes nothing (idempotent).

        Only the city itself may report its records: its network certificate
        must be ``city-CODE`` for the ``city`` the body names.
        """
        check_caller(request, f"city-{body.city}", f"report the records of city {body.city}")
        records = [record.model_dump(mode="json", exclude={"v"}) for record in body.records]
        return ReportCounts.model_validate(directory.receive(body.city, records))

    @app.get("/residents/{resident_code}")
    async def whereabouts(resident_code: str) -> IdentityReport:
        """The record of the city that holds the person now (404 if no city reported one)."""
        return IdentityReport.model_validate(directory.whereabouts(resident_code))

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"service": "juki", "records": directory.count()}

    @app.get("/store")
    def store() -> JukiStore:
        """This store's identity, asked by every city at every report turn (so no counting)."""
        return JukiStore(store_id=directory.store_id())

    return app
