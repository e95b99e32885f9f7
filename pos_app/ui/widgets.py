"""Small typed constructors for the widgets every page uses (object names drive the theme)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton


def label(name: str = "", *, align: Qt.AlignmentFlag | None = None, wrap: bool = False) -> QLabel:
    widget = QLabel()
    if name:
        widget.setObjectName(name)
    if align is not None:
        widget.setAlignment(align)
    widget.setWordWrap(wrap)
    return widget


def button(name: str = "", on_click: Callable[[], object] | None = None) -> QPushButton:
    widget = QPushButton()
    if name:
        widget.setObjectName(name)
    if on_click is not None:
        widget.clicked.connect(on_click)
    return widget


def password_edit() -> QLineEdit:
    widget = QLineEdit()
    widget.setEchoMode(QLineEdit.EchoMode.Password)
    return widget
