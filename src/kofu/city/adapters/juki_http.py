"""juki reached over LGWAN with the city's network certificate."""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from kofu.contracts.juki import IdentityReport, IdentityReports, JukiStore, ReportCounts
from kofu.core.errors import Refused
from kofu.core.http import ask

__all__ = ["HttpJuki"]


class HttpJuki:
    def __init__(self, base_url: str, client: httpx.Client) -> None:
        self.base = base_url.rstrip("/")
        self.client = client

    def report(self, city: str, records: Sequence[IdentityReport]) -> ReportCounts:
        unavailable = Refused("juki_unavailable", "juki could not take the report just now")
        body = IdentityReports(city=city, records=tuple(records)).model_dump(mode="json")
        answer = ask(self.client, "POST", f"{self.base}/identities", unavailable, json=body)
        return ReportCounts.read(answer, unavailable)

    def store_id(self) -> str:
        unavailable = Refused("juki_unavailable", "juki could not answer just now")
        answer = ask(self.client, "GET", f"{self.base}/store", unavailable)
        return JukiStore.read(answer, unavailable).store_id
