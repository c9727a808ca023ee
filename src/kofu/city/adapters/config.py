"""A city's store rules and fees, read from the TOML file a clerk edits.

KOFU_HOME/cities/<code>.toml wins over the file shipped with kofu
(kofu/city/config/<code>.toml); a city with neither gets the defaults.
"""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from kofu.city.domain.certificates import Deputy, Item
from kofu.city.domain.store_rules import StoreRules
from kofu.core.errors import InvalidInput

__all__ = ["load_certificate_defaults", "load_deputy", "load_store_rules"]

_SHIPPED = Path(__file__).resolve().parent.parent / "config"


def _flatten(doc: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    out.update(doc.get("hours", {}))
    out.update(doc.get("items", {}))
    if "fees" in doc:
        out["fees"] = doc["fees"]
    if "maintenance" in doc:
        out["maintenance"] = doc["maintenance"]
    return out


def load_store_rules(home: Path, code: str) -> StoreRules:
    """The city's rules; an unreadable file is an error that names the file and the field."""
    for path in (home / "cities" / f"{code}.toml", _SHIPPED / f"{code}.toml"):
        if not path.exists():
            continue
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
            return StoreRules.model_validate(_flatten(doc))
        except tomllib.TOMLDecodeError as exc:
            raise InvalidInput(f"{path}: {exc}", field="config") from exc
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise InvalidInput(f"{path}: {where}: {first['msg']}", field="config") from exc
    return StoreRules()


def load_certificate_defaults(home: Path, code: str) -> frozenset[Item]:
    """The items the city prints on a residence certificate unless asked not to.

    ``[certificates] default_items`` in the city's file (jyuki-stnd 5.1: each
    omittable item defaults to printed or omitted as the city decides); none
    when the file says nothing.
    """
    for path in (home / "cities" / f"{code}.toml", _SHIPPED / f"{code}.toml"):
        if not path.exists():
            continue
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
            names = doc.get("certificates", {}).get("default_items", [])
            return frozenset(Item(name) for name in names)
        except tomllib.TOMLDecodeError as exc:
            raise InvalidInput(f"{path}: {exc}", field="config") from exc
        except (ValueError, TypeError) as exc:
            raise InvalidInput(
                f"{path}: certificates.default_items: one of {', '.join(i.value for i in Item)}",
                field="config",
            ) from exc
    return frozenset()


def load_deputy(home: Path, code: str) -> Deputy | None:
    """The 職務代理者 and the period they certify in: ``[certifier]`` in the city's file.

    ``deputy_title``, ``deputy_name``, ``deputy_from`` and ``deputy_until``
    (dates); none when the file names no deputy.
    """
    for path in (home / "cities" / f"{code}.toml", _SHIPPED / f"{code}.toml"):
        if not path.exists():
            continue
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise InvalidInput(f"{path}: {exc}", field="config") from exc
        section = doc.get("certifier", {})
        if "deputy_name" not in section:
            return None
        try:
            deputy = Deputy(
                title=str(section["deputy_title"]),
                name=str(section["deputy_name"]),
                start=section["deputy_from"],
                end=section["deputy_until"],
            )
        except KeyError as exc:
            raise InvalidInput(
                f"{path}: certifier.{exc.args[0]} is missing", field="config"
            ) from exc
        if not all(isinstance(d, date) for d in (deputy.start, deputy.end)):
            raise InvalidInput(f"{path}: certifier dates are TOML dates", field="config")
        return deputy
    return None
