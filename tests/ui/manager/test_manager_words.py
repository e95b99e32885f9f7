"""The manager window in a manager's words: keyboard-only decisions, Japanese labels,
dates instead of Unix seconds."""

from __future__ import annotations

from datetime import UTC

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from pos_app.terminal.reviews.queue import ReviewChoice
from pos_app.ui.manager.decision_dialog import DecisionDialog
from pos_app.ui.manager.detail import _token
from pos_app.ui.manager.texts import reason_label


def test_tab_leaves_the_note_and_ctrl_enter_records(qtbot: QtBot) -> None:
    dialog = DecisionDialog(ReviewChoice.REJECT, "S001-T01-0042", lang="en")
    qtbot.addWidget(dialog)
    with qtbot.waitActive(dialog):
        dialog.show()
        dialog.activateWindow()
    dialog.note.setFocus()
    QTest.keyClick(dialog.note, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is not dialog.note
    assert "\t" not in dialog.note.toPlainText()
    dialog.note.setFocus()
    QTest.keyClick(dialog.note, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert dialog.isVisible()  # no note yet: nothing recorded
    dialog.note.setPlainText("Customer showed ID; the phone was their own.")
    dialog.note.setFocus()
    QTest.keyClick(dialog.note, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert dialog.result() == DecisionDialog.DialogCode.Accepted
    assert "S001-T01-0042" in dialog.windowTitle()


def test_decline_codes_read_as_japanese_words() -> None:
    for code in ("bad_signature", "expired", "unknown_kid", "wrong_audience"):
        label = reason_label(code, "ja")
        assert "_" not in label and label != code
        assert any(ord(ch) > 0x3000 for ch in label), label


def test_token_times_are_local_dates_not_unix_seconds() -> None:
    from types import SimpleNamespace

    from pos_app.terminal.reviews.detail import TokenView

    token = TokenView(
        wallet_masked="w-0b6…a93e",
        flags=(),
        age_s=12,
        offline=False,
        other=(
            ("cti", "ab" * 16),
            ("exp", "1795000120"),
            ("iat", "1795000000"),
            ("limit", "50000"),
        ),
    )
    html = _token(SimpleNamespace(token=token, item=SimpleNamespace(currency="JPY")), "en", UTC)  # type: ignore[arg-type]
    assert "1795000120" not in html and "2026-11-18" in html
    assert "¥50,000" in html
    assert "abab" not in html  # the token id is a technical detail
