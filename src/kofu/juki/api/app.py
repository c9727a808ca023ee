"""juki over HTTP (LGWAN, mutual TLS): cities report, the issuance center asks.

The center's question (which city holds this person) is one indexed read,
answered on the event loop (``async``) rather than after a trip to the
thread pool, which cost more than the read.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from pydantic import BaseModel, Field

from kofu.core.guard import MiB
from kofu.core.http import check_caller, party_app
from kofu.juki.services.directory import MAX_BATCH, JukiDirectory

__all__ = ["create_app"]


class ReportIn(BaseModel):
    city: str = Field(max_length=6, description="the reporting municipality")
    # each record is checked by the service, so an error names the record by its place
    records: list[dict[str, Any]] = Field(max_length=MAX_BATCH)


def create_app(directory: JukiDirectory) -> FastAPI:
    app = party_app(
        "kofu juki",
        "The national directory of identity records (本人確認情報): cities report "
        "changes, the issuance center asks which city holds a person's record.",
        larger_bodies={"/identities": 8 * MiB},  # a report of MAX_BATCH records
    )

    @app.post("/identities")
    def report(body: ReportIn, request: Request) -> dict[str, int]:
        """A city's changed records; resending a batch changes nothing (idempotent).

        Only the city itself may report its records: its network certificate
        must be ``city-CODE`` for the ``city`` the body names.
        """
        check_caller(request, f"city-{body.city}", f"report the records of city {body.city}")
        return directory.receive(body.city, body.records)

    @app.get("/residents/{resident_code}")
    async def whereabouts(resident_code: str) -> dict[str, Any]:
        """The record of the city that holds the person now (404 if no city reported one)."""
        return directory.whereabouts(resident_code)

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"service": "juki", "records": directory.count()}

    @app.get("/store")
    def store() -> dict[str, str]:
        """This store's identity, asked by every city at every report turn (so no counting)."""
        return {"store_id": directory.store_id()}

    return app
