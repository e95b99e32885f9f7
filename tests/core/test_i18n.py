"""The gettext catalogues: every message the code marks is translated, with the same
placeholder names; the committed .mo is the compiled .po; the lookup falls back to English."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from pos_app.core import i18n
from pos_app.core.i18n import (
    LANGUAGES,
    LOCALE_DIR,
    N_,
    SOURCE_LANGUAGE,
    Messages,
    placeholders,
    translate,
)
from pos_app.core.reasons import ALL_CODES
from pos_app.paytoken.reasons import cashier_text
from pos_app.ui.customer_display.texts import CustomerTexts
from pos_app.ui.i18n import Texts
from pos_app.ui.manager.texts import t as manager_text

REPO = Path(__file__).resolve().parents[2]
TRANSLATED = [lang for lang in LANGUAGES if lang != SOURCE_LANGUAGE]


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"


def read_catalogue(lang: str) -> Catalog:
    with po_path(lang).open("rb") as f:
        return read_po(f, locale=lang)


def marked_in_code() -> set[tuple[str, str]]:
    """(key, English) of every ``N_(key, english)`` in pos_app, as ``pybabel extract`` sees
    them with ``babel.cfg``."""
    found = extract_from_dir(
        str(REPO / "pos_app"),
        method_map=[("**.py", "python")],
        keywords={"N_": ((1, "c"), 2)},
    )
    marked: set[tuple[str, str]] = set()
    for file, line, message, _comments, context in found:
        assert isinstance(message, str) and context is not None, (file, line)
        marked.add((context, message))
    return marked


def test_the_code_marks_every_table_of_texts() -> None:
    marked = marked_in_code()
    assert len(marked) > 400
    contexts = {context for context, _ in marked}
    for key in ("signin.wrong", "age.yes", "tab_queue", "receipt.total", "too_long"):
        assert key in contexts


@pytest.mark.parametrize("lang", TRANSLATED)
def test_no_message_is_missing_in_the_catalogue(lang: str) -> None:
    catalogue = read_catalogue(lang)
    translated = {(m.context, m.id) for m in catalogue if m.id and m.string and not m.fuzzy}
    missing = sorted(marked_in_code() - translated)
    assert missing == [], f"run scripts/translations.sh update, then translate: {missing[:5]}"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_translation_has_the_english_placeholders(lang: str) -> None:
    wrong = [
        (m.context, m.id, m.string)
        for m in read_catalogue(lang)
        if m.id and placeholders(str(m.id)) != placeholders(str(m.string))
    ]
    assert wrong == []


def test_the_placeholder_check_catches_a_renamed_or_lost_name() -> None:
    assert placeholders("あと{left}回") == {"left"}
    assert placeholders("{cash_convertible:,} 円 {{not}}") == {"cash_convertible"}
    assert placeholders("Wrong PIN. {left} tries") != placeholders("あと{remaining}回")


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_committed_mo_is_the_compiled_po(lang: str) -> None:
    compiled = io.BytesIO()
    write_mo(compiled, read_catalogue(lang))
    committed = po_path(lang).with_suffix(".mo").read_bytes()
    assert committed == compiled.getvalue(), "run scripts/translations.sh compile"


def test_the_lookup_in_english_and_japanese() -> None:
    assert Texts("en").t("signin.wrong", left=2) == "Wrong PIN. 2 tries left before sign-in locks."
    assert Texts("ja").t("signin.wrong", left=2) == (
        "暗証番号が違います。あと2回間違えるとロックされます。"
    )
    assert CustomerTexts("ja").t("age.yes") == "20歳以上です"
    assert CustomerTexts("en").t("age.yes") == "I am 20 or older"
    assert manager_text("tab_queue", "ja") != manager_text("tab_queue", "en")
    assert cashier_text("expired", "ja").startswith("コードの有効期限")


def test_every_reason_code_reads_in_both_languages() -> None:
    for code in ALL_CODES:
        en, ja = cashier_text(code, "en"), cashier_text(code, "ja")
        assert en and ja and en != ja, code
        assert not en.startswith("Payment not accepted (")  # not the generic sentence


def test_a_message_without_a_translation_shows_in_english() -> None:
    table = Messages(N_("test.not_in_catalogue", "Only in English, {name}"))
    assert table.text("test.not_in_catalogue", "ja", name="Sato") == "Only in English, Sato"
    assert translate("fr", "signin.wrong", "Wrong PIN.") == "Wrong PIN."  # no French catalogue
    assert Texts("fr").t("signin.title") == "Sign in"
    assert table.text("no.such.key", "ja") == "no.such.key"  # never an exception


def test_a_key_listed_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        Messages(N_("a", "A"), N_("a", "B"))
