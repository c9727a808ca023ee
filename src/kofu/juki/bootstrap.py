"""Wiring juki from settings: its store, its LGWAN certificate, its clock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine

from kofu.core.clock import Clock, clock_from_env
from kofu.core.db import make_engine, migrate
from kofu.core.network import NetworkIdentity, network_identity
from kofu.core.settings import Settings
from kofu.juki.adapters.uow import juki_units
from kofu.juki.api.app import create_app
from kofu.juki.services.directory import JukiDirectory

__all__ = ["Juki", "prepare_juki"]


@dataclass
class Juki:
    """What juki's workers share, made once; ``app()`` builds one worker."""

    engine: Engine
    clock: Clock
    identity: NetworkIdentity

    def app(self) -> FastAPI:
        self.engine.dispose(close=False)  # a worker opens its own connections, never the parent's
        return create_app(JukiDirectory(juki_units(self.engine), self.clock))

    def ready(self, port: int) -> dict[str, Any]:
        """The one JSON line ``kofu serve juki`` prints once listening."""
        base = f"https://127.0.0.1:{port}"
        return {
            "service": "juki",
            "url": base,
            "residents": f"{base}/residents/{{resident_code}}",
            "docs": f"{base}/docs",
            "tls": {"ca": str(self.identity.ca)},
        }


def prepare_juki(settings: Settings) -> Juki:
    """juki over its own database or schema, on its LGWAN certificate ``juki``."""
    engine = make_engine(*settings.database_for("juki"))
    migrate(engine, "juki")
    identity = network_identity(settings.home, "juki", "lgwan")
    return Juki(engine, clock_from_env(running=True), identity)
