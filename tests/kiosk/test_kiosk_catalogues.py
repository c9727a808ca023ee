"""Every reason code the center, a city, the card or jpki can answer to a kiosk has words in
every language's catalogue, and the catalogues hold the same entries."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from kofu.city.domain.card_desk import CardState
from kofu.kiosk.i18n import LANGUAGES, LOCALE_DIR, reason_key, words
from kofu.kiosk.web import RESIDENCE_TYPES, STEPS

SRC = Path(__file__).resolve().parents[2] / "src" / "kofu"
# Where a refusal a kiosk can meet is raised: the center, the city's rules and domain,
# the card, jpki, juki (the center asks it where the card's holder lives), and the kiosk's
# own client and the shared HTTP reader.
ANSWERING = [
    *("center", "city/domain", "city/services", "city/adapters"),
    *("card", "jpki", "juki", "kiosk", "core"),
]
CODE = re.compile(r"[a-z][a-z0-9_]+")
# Refusals only staff meet, never a kiosk: the office's sign-in and audit, and the counter's
# Juki-net services (wide-area, special move-in, 継続利用), which no store request reaches.
STAFF_ONLY = {
    "city/services/office.py",
    "city/services/special_move.py",
    "city/domain/special_move.py",
    "city/services/special_move_in.py",
    "city/services/wide_area.py",
    "city/adapters/citylink.py",
}
# Reasons raised in a file kiosks also reach, met only by staff or other servers: the
# operator page's form, juki's answers to agencies and to cities reporting.
STAFF_ONLY_REASONS = {"cross_site_form", "purpose_not_allowed", "report_through_notices"}


@functools.cache
def _raised_reasons() -> frozenset[str]:
    """First string argument of every Refused(...) / _refuse(...) / PinError-style call."""
    found: set[str] = set()
    for part in ANSWERING:
        for path in (SRC / part).rglob("*.py"):
            if path.relative_to(SRC).as_posix() in STAFF_ONLY:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (isinstance(node, ast.Call) and node.args):
                    continue
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                first = node.args[0]
                refusing = "efus" in name or name == "__init__"
                literal = isinstance(first, ast.Constant) and isinstance(first.value, str)
                if refusing and literal and CODE.fullmatch(first.value):
                    found.add(first.value)
    # check_card names the state in an f-string
    refused_states = {f"card_{s.value}" for s in CardState if s is not CardState.ACTIVE}
    return frozenset((found - STAFF_ONLY_REASONS) | refused_states)


def test_the_scan_finds_the_reasons_it_should() -> None:
    reasons = _raised_reasons()
    assert {"wrong_pin", "pin_locked", "issuance_blocked", "session_used", "under_age"} <= reasons
    assert {"center_unavailable", "card_suspended", "no_tax_record"} <= reasons
    assert len(reasons) > 50


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_reason_has_words_in_every_language(language: str) -> None:
    say = words(language)
    missing = sorted(r for r in _raised_reasons() if not say.has(f"reason.{r}"))
    assert missing == []
    for reason in _raised_reasons():
        text = say(f"reason.{reason}", tries=2)
        assert text and not text.startswith("reason."), reason


def test_the_catalogues_hold_the_same_entries_all_filled() -> None:
    entries = {}
    for language in LANGUAGES:
        with (LOCALE_DIR / language / "LC_MESSAGES" / "kiosk.po").open("rb") as po:
            catalogue = read_po(po)
        entries[language] = {m.id: m.string for m in catalogue if m.id}
        assert all(entries[language].values()), language
    ids = {language: set(found) for language, found in entries.items()}
    assert all(found == ids["ja"] for found in ids.values())
    needed = {f"type.{t}" for t in RESIDENCE_TYPES} | {f"steps.{s}" for s in STEPS}
    assert needed <= ids["ja"]
    placeholders = re.compile(r"\{[a-z]+\}")
    for key, text in entries["ja"].items():  # the same {names} in every translation
        for language in LANGUAGES:
            same = sorted(placeholders.findall(entries[language][key]))
            assert same == sorted(placeholders.findall(text)), (language, key)


def test_an_unknown_reason_is_said_in_general_words_not_raw_text() -> None:
    from kofu.core.errors import Conflict, InvalidInput, Refused

    assert reason_key(Refused("made_up_reason", "raw English")) == "reason.refused"
    assert reason_key(InvalidInput("raw")) == "reason.invalid_input"
    assert reason_key(Conflict("raw")) == "reason.conflict"
    assert "raw" not in words("vi")(reason_key(Refused("made_up_reason", "raw English")))
