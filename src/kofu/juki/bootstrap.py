"""Wiring a Juki-net server from settings: its role, its store, its LGWAN certificate, its clock.

The same code runs every server of the network (住基ネット): a prefecture's
(都道府県サーバ), fed by its cities and forwarding to the national server, or
the national one (全国サーバ).  ``prepare_juki`` does once, in the parent
process, what every worker shares; ``Juki.app`` builds one worker after the fork.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine

from kofu.core.clock import Clock, clock_from_env
from kofu.core.db import make_engine, migrate, single_statements
from kofu.core.errors import InvalidInput, NotFound
from kofu.core.jukilink import JukiLink
from kofu.core.network import NetworkIdentity, network_identity
from kofu.core.settings import Settings
from kofu.juki.adapters.network import network_runs
from kofu.juki.adapters.uow import juki_units
from kofu.juki.api.app import create_app
from kofu.juki.domain.network import Role
from kofu.juki.services.network import JukiNode

__all__ = ["UPSTREAM_EVERY", "Juki", "juki_node", "juki_url", "prepare_juki"]

UPSTREAM_EVERY = 1.0  # seconds between two turns of a prefecture's server towards the national one


@dataclass
class Juki:
    """What a Juki-net server's workers share, made once; ``app()`` builds one worker."""

    settings: Settings
    engine: Engine
    clock: Clock
    role: Role
    identity: NetworkIdentity
    upstream: Callable[[], object] | None  # a prefecture's turn: codes and notices upward
    national_url: str | None = None  # a prefecture's: the national server it forwards to

    def app(self) -> FastAPI:
        self.engine.dispose(close=False)  # a worker opens its own connections, never the parent's
        background = (UPSTREAM_EVERY, self.upstream) if self.upstream else None
        node = juki_node(self.engine, self.clock, self.role)
        if self.national_url is not None:
            national = _national_link(self.settings, self.role, self.national_url, timeout=10)
            node.ask_upstream = national.whereabouts
        return create_app(node, background)

    def ready(self, port: int) -> dict[str, Any]:
        """The JSON line ``kofu serve juki`` prints once listening, kept where the CLI finds it."""
        base = f"https://127.0.0.1:{port}"
        ready: dict[str, Any] = {
            "service": "juki",
            "role": self.role.name,
            "url": base,
            "residents": f"{base}/residents/{{resident_code}}",
            "docs": f"{base}/docs",
            "tls": {"ca": str(self.identity.ca)},
        }
        folder = self.settings.home / "juki-net"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{self.role.name}.json").write_text(json.dumps(ready, ensure_ascii=False) + "\n")
        return ready


def prepare_juki(
    settings: Settings,
    *,
    prefecture: str | None = None,
    national: bool = False,
    upstream: str | None = None,
) -> Juki:
    """A prefecture's server (``prefecture``), or the national one.

    With neither option it is the national server that cities may also
    report to directly, as before prefecture servers existed.
    """
    if prefecture is not None and (national or not _is_prefecture(prefecture)):
        raise InvalidInput(
            "--prefecture takes a prefecture's two digits (01 to 47), without --national",
            field="prefecture",
        )
    role = Role("prefecture", prefecture) if prefecture else Role("national", direct=not national)
    store = "juki" if role.kind == "national" else f"juki_pref_{prefecture}"
    engine = make_engine(*settings.database_for(store))
    migrate(engine, "juki")
    name = role.network_name if national or prefecture else "juki"
    identity = network_identity(settings.home, name, "lgwan")
    clock = clock_from_env(running=True)
    juki_node(engine, clock, role)  # refuses a store made for another role, before serving
    if role.kind != "prefecture":
        return Juki(settings, engine, clock, role, identity, None)
    forward_to = upstream or juki_url(settings, "national")
    turn = _upstream_turn(settings, role, forward_to)
    return Juki(settings, engine, clock, role, identity, turn, forward_to)


def juki_url(settings: Settings, name: str) -> str:
    """The URL of a running Juki-net server: ``national`` or ``pref-11`` (from its ready file)."""
    path = settings.home / "juki-net" / f"{name}.json"
    try:
        return str(json.loads(path.read_text())["url"])
    except (OSError, ValueError, KeyError) as exc:
        raise NotFound(
            f"no Juki-net server {name} has been started under this KOFU_HOME "
            f"(start it with kofu up, or kofu serve juki); or give its URL",
            field="juki",
        ) from exc


def _is_prefecture(text: str) -> bool:
    return len(text) == 2 and text.isdigit() and 1 <= int(text) <= 47


def _national_link(settings: Settings, role: Role, url: str, timeout: float) -> JukiLink:
    """The national server, reached with this prefecture server's LGWAN certificate."""
    from kofu.core.link import Link
    from kofu.core.network import client_context

    lgwan = network_identity(settings.home, role.network_name, "lgwan")
    return JukiLink(url, Link(client_context(lgwan), timeout=timeout), role.name)


def _upstream_turn(settings: Settings, role: Role, url: str) -> Callable[[], object]:
    """A prefecture's server's turn: stock codes and forward notices to the national server."""
    from kofu.juki.services.network import upstream_turn

    links: list[JukiLink] = []  # made in the worker, after the fork
    nodes: list[JukiNode] = []

    def turn() -> object:
        if not links:
            links.append(_national_link(settings, role, url, timeout=30))
            engine = make_engine(*settings.database_for(f"juki_pref_{role.prefecture}"))
            nodes.append(juki_node(engine, clock_from_env(running=True), role))
        return upstream_turn(nodes[0], links[0])

    return turn


def juki_node(engine: Engine, clock: Clock, role: Role) -> JukiNode:
    """A Juki-net server's service on its SQL store (refuses a store made for another role)."""
    units, reads = juki_units(engine), juki_units(single_statements(engine))
    return JukiNode(units, clock, role, reads=reads, runs=network_runs(engine))
