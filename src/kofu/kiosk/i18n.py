"""The kiosk's words: one gettext catalogue per language, compiled by babel when first loaded.

The catalogues are the ``.po`` files under ``kofu/kiosk/locale``; message ids
are symbolic (``pin.heading``, ``reason.wrong_pin``) so that every language,
Japanese included, is a translation and a missing one is visible.  A refusal
is shown by its reason code (``reason.CODE``); an error without a code falls
back to its kind (``reason.invalid_input``…), never to the raw English text.
"""

from __future__ import annotations

import functools
import gettext
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from kofu.core.errors import Conflict, InvalidInput, KofuError, NotFound, Refused

__all__ = ["DEFAULT", "LANGUAGES", "LOCALE_DIR", "Words", "reason_key", "words"]

LANGUAGES = ("ja", "en", "zh", "ko", "pt", "vi")  # Japan's largest foreign-resident groups
DEFAULT = "ja"
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "kiosk"


class Words:
    """One language's catalogue: ``words("key", name=value)`` formats the entry."""

    def __init__(self, language: str, translations: gettext.GNUTranslations) -> None:
        self.language = language
        self.translations = translations
        self.ids = frozenset(k for k in translations._catalog if isinstance(k, str) and k)  # type: ignore[attr-defined]

    def __call__(self, key: str, **values: object) -> str:
        text = self.translations.gettext(key)
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in self.ids


def _compile(po_path: Path, language: str) -> gettext.GNUTranslations:
    """The .po file compiled to a .mo image in memory (babel), read by the standard gettext."""
    with po_path.open("rb") as source:
        catalogue = read_po(source, locale=language.replace("zh", "zh_Hans_CN"), domain=DOMAIN)
    image = io.BytesIO()
    write_mo(image, catalogue)
    image.seek(0)
    return gettext.GNUTranslations(image)


@functools.cache
def words(language: str) -> Words:
    """The catalogue of ``language`` (one of LANGUAGES; anything else reads Japanese)."""
    if language not in LANGUAGES:
        language = DEFAULT
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    return Words(language, _compile(path, language))


def reason_key(exc: KofuError) -> str:
    """The catalogue entry that says ``exc`` to a resident."""
    if isinstance(exc, Refused):
        key = f"reason.{exc.reason}"
        return key if words(DEFAULT).has(key) else "reason.refused"
    if isinstance(exc, InvalidInput):
        return "reason.invalid_input"
    if isinstance(exc, NotFound):
        return "reason.not_found"
    if isinstance(exc, Conflict):
        return "reason.conflict"
    return "reason.refused"
