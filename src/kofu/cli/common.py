"""What every command shares: settings, the clock, JSON output and error reporting."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from kofu.core.clock import Clock, clock_from_env
from kofu.core.errors import InvalidInput, KofuError
from kofu.core.settings import Settings

if TYPE_CHECKING:
    from kofu.city.adapters.uow import CityUnitOfWork

__all__ = ["city_uow", "clock", "emit", "fail", "guarded", "parse_date", "settings"]


def settings() -> Settings:
    return Settings.from_env()


def clock() -> Clock:
    return clock_from_env()


def city_uow(code: str) -> CityUnitOfWork:
    """A unit of work on city ``code``'s store, dated today by the clock (KOFU_NOW)."""
    from kofu.city.adapters.uow import CityUnitOfWork
    from kofu.city.store import city_engine

    return CityUnitOfWork(city_engine(settings(), code), today=clock().today())


def emit(obj: Any) -> None:
    """One JSON object on one line, UTF-8, as scripts expect."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")


def fail(error: KofuError, as_json: bool = False) -> NoReturn:
    """Report an error in words (and as JSON when asked) and exit non-zero."""
    if as_json:
        emit(error.to_dict())
    typer.echo(f"error: {error.message}", err=True)
    raise typer.Exit(2 if isinstance(error, InvalidInput) else 1)


@contextmanager
def guarded(as_json: bool = False) -> Iterator[None]:
    """Turn kofu's errors into a clear message and a non-zero exit, never a traceback."""
    try:
        yield
    except KofuError as exc:
        fail(exc, as_json)


def parse_date(text: str | None, field: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(
            f"{field} must be a date like 2026-11-23, got {text!r}", field=field
        ) from exc
