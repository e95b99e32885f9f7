"""Small typed constructors for the widgets every page uses (object names drive the theme)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget


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


def centred_column(page: QWidget, *, max_width: int) -> QVBoxLayout:
    """The layout of a column at most ``max_width`` wide, centred across ``page`` and a
    third of the way down it (a sign-in form)."""
    box = QWidget()
    box.setMaximumWidth(max_width)
    outer = QVBoxLayout(page)
    outer.addStretch(1)
    outer.addWidget(box, 0, Qt.AlignmentFlag.AlignHCenter)
    outer.addStretch(2)
    return QVBoxLayout(box)
