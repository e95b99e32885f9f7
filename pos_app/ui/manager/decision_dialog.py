"""Asks for the note every review decision needs; the button stays off until there is one."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from pos_app.terminal.reviews.queue import MIN_NOTE_CHARS, ReviewChoice
from pos_app.ui.manager.texts import t


class DecisionDialog(QDialog):
    def __init__(
        self, decision: ReviewChoice, sale_id: str, *, lang: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._lang = lang
        self.decision = decision
        self.setWindowTitle(
            t("decision_title", lang, decision=t(decision.value, lang), sale=sale_id)
        )
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        heading = QLabel(f"<h3>{t(decision.value, lang)}</h3>")
        layout.addWidget(heading)
        if decision is ReviewChoice.CONFIRMED_FRAUD:
            warning = QLabel(t("fraud_warning", lang))
            warning.setWordWrap(True)
            warning.setStyleSheet("color: #b00020; font-weight: bold;")
            layout.addWidget(warning)
        layout.addWidget(QLabel(t("note", lang)))
        self.note = QPlainTextEdit()
        self.note.setFixedHeight(90)
        self.note.setTabChangesFocus(True)  # Tab reaches the buttons; a note needs no tabs
        layout.addWidget(self.note)
        self.hint = QLabel(t("note_too_short", lang, n=MIN_NOTE_CHARS))
        self.hint.setStyleSheet("color: #6b6b6b;")
        layout.addWidget(self.hint)
        self.buttons = QDialogButtonBox()
        self.ok_button = self.buttons.addButton(
            t("ok", lang), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.addButton(t("cancel", lang), QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.note.textChanged.connect(self._check)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self.record)
        self.ok_button.setToolTip(t("record_hint", lang))
        self._check()

    def record(self) -> None:
        """Ctrl+Enter: record the decision once the note is long enough."""
        if self.ok_button.isEnabled():
            self.accept()

    def note_text(self) -> str:
        return self.note.toPlainText().strip()

    def _check(self) -> None:
        enough = len(self.note_text()) >= MIN_NOTE_CHARS
        self.ok_button.setEnabled(enough)
        self.hint.setVisible(not enough)
