"""Juki-net's hierarchy: who may send what to whom, and who may be given a person's facts.

Cities report to the server of their prefecture (the first two digits of
the local government code); each prefecture's server keeps its
prefecture's records and forwards every notice, in its own order, to the
national server, which answers questions about one person.  A national
server started alone (``direct``) also takes cities' notices itself: a
network without prefecture servers, as on one machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["AGENCIES", "DISCLOSURE_DESK", "Role", "agency_purposes"]

DISCLOSURE_DESK = "juki-disclosure"  # the network name of the desk that answers 開示請求


@dataclass(frozen=True)
class Role:
    """What one juki process is: ``national``, or the server of prefecture ``prefecture``."""

    kind: Literal["national", "prefecture"]
    prefecture: str | None = None  # "11" for Saitama
    direct: bool = False  # national only: cities may report to it without a prefecture server

    @property
    def name(self) -> str:
        """The role's name in the store and on the ready line: ``national``, ``pref-11``."""
        return "national" if self.kind == "national" else f"pref-{self.prefecture}"

    @property
    def network_name(self) -> str:
        """The process's network certificate name: ``juki-national``, ``juki-pref-11``."""
        return f"juki-{self.name}"

    def may_send(self, caller: str | None, sender: str) -> bool:
        """Whether the network certificate ``caller`` may send notices (or ask codes) as ``sender``.

        No caller (a server started without TLS, for one machine's own use)
        is not checked, as everywhere in kofu.
        """
        if caller is None:
            return self._in_scope(sender)
        if sender.startswith("city-"):
            return caller == sender and self._in_scope(sender)
        return self.kind == "national" and caller == f"juki-{sender}"

    def _in_scope(self, sender: str) -> bool:
        if sender.startswith("pref-"):
            return self.kind == "national"
        if self.kind == "prefecture":
            return sender[5:7] == self.prefecture
        return self.direct

    def may_ask_whereabouts(self, caller: str) -> bool:
        """Besides the center and the cities: the national server answers prefecture servers,
        which ask it about a person their own prefecture's cities have not reported."""
        return self.kind == "national" and caller.startswith("juki-pref-")

    def holds_city(self, city: str) -> bool:
        """Whether this server keeps the records of ``city`` (its prefecture's, or all)."""
        return self.kind == "national" or city[:2] == self.prefecture

    def may_read_city(self, caller: str | None, city: str) -> bool:
        """Who may read what is held of a city (整合性確認): the city and its prefecture."""
        if not self.holds_city(city):
            return False
        return caller is None or caller == f"city-{city}" or caller == f"juki-pref-{city[:2]}"


# 本人確認情報の提供 (住基法30条の9, 別表第一): the agencies on the network and the purposes
# each may ask for.  The purpose codes are kofu's; each stands for one row of the law's table.
AGENCIES: dict[str, dict[str, str]] = {
    "japan-pension-service": {
        "pension-benefit": "年金給付の支給に関する事務",
        "pension-status": "被保険者の資格の確認に関する事務",
    },
    "passport-office": {"passport-issue": "旅券の発給に関する事務"},
    "national-tax-agency": {"tax-identity": "国税の賦課徴収に関する事務 (番号の確認)"},
    "election-commission": {"voter-register": "選挙人名簿の登録に関する事務"},
}


def agency_purposes(network_name: str | None) -> dict[str, str] | None:
    """The purposes an agency's network certificate (``agency-NAME``) may ask for; None if none."""
    if network_name is None or not network_name.startswith("agency-"):
        return None
    return AGENCIES.get(network_name.removeprefix("agency-"))
