"""Translations: English in the code, every other language in a gettext catalogue.

Each text table (cashier window, customer display, manager window, receipts,
reason codes, risk sentences) lists its messages as ``N_(key, english)``. The
key becomes the gettext context (``msgctxt``), the English the ``msgid``:
``pybabel extract`` (``babel.cfg``) finds them, a translator edits
``pos_app/locale/<lang>/LC_MESSAGES/pos_app.po`` (Poedit, Weblate ...), and
``pybabel compile`` writes the ``.mo`` the standard library's :mod:`gettext`
reads here, so neither ``core`` nor the installed till needs Babel or Qt
(``docs/TRANSLATIONS.md``). A message missing from a catalogue shows in English.

Placeholders are ``str.format`` names (``{left}``); the tests check that every
translation uses the same names as its English.
"""

from __future__ import annotations

import gettext
import string
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path

DOMAIN = "pos_app"
SOURCE_LANGUAGE = "en"
LANGUAGES = ("en", "ja")  # every language the till offers, the source first
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def N_(key: str, english: str) -> tuple[str, str]:
    """Mark a message for extraction (``babel.cfg`` keyword ``N_:1c,2``)."""
    return key, english


@cache
def catalogue(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``lang``; English (or an unknown language) has none."""
    if lang == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)


def translate(lang: str, key: str, english: str) -> str:
    """``english`` (the message known as ``key``) in ``lang``, or English."""
    return catalogue(lang).pgettext(key, english)


def placeholders(text: str) -> set[str]:
    """The ``str.format`` field names of a message (``{left}``, ``{total:,}`` -> total):
    a translation must use exactly those of its English."""
    names = set()
    for _literal, field, _spec, _conversion in string.Formatter().parse(text):
        if field is not None:
            names.add(field.split(".")[0].split("[")[0])
    return names


class Messages(Mapping[str, str]):
    """One table of English messages by key; ``text`` looks one up in a language.

    It reads like the ``dict`` of English it is (``table[key]``, ``key in table``),
    so code that only needs the keys or the source text stays simple.
    """

    def __init__(self, *entries: tuple[str, str]) -> None:
        self._english = dict(entries)
        if len(self._english) != len(entries):
            raise ValueError("a message key is listed twice")

    def __getitem__(self, key: str) -> str:
        return self._english[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._english)

    def __len__(self) -> int:
        return len(self._english)

    def text(self, key: str, lang: str, /, **values: object) -> str:
        """The message in ``lang``, formatted with ``values``; an unknown key shows as
        itself, never as an exception in front of a customer."""
        english = self._english.get(key)
        if english is None:
            return key
        message = translate(lang, key, english)
        return message.format(**values) if values else message
