"""juki reached over LGWAN with the city's network certificate."""

from __future__ import annotations

from typing import Any

import httpx

from kofu.core.errors import Refused
from kofu.core.http import ask

__all__ = ["HttpJuki"]


class HttpJuki:
    def __init__(self, base_url: str, client: httpx.Client) -> None:
        self.base = base_url.rstrip("/")
        self.client = client

    def report(self, city: str, records: list[dict[str, Any]]) -> dict[str, int]:
        unavailable = Refused("juki_unavailable", "juki could not take the report just now")
        body = {"city": city, "records": records}
        answer: dict[str, int] = ask(
            self.client, "POST", f"{self.base}/identities", unavailable, json=body
        )
        return answer

    def store_id(self) -> str:
        unavailable = Refused("juki_unavailable", "juki could not answer just now")
        answer: dict[str, Any] = ask(self.client, "GET", f"{self.base}/store", unavailable)
        return str(answer["store_id"])
