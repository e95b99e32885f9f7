"""Where the manager window opens: never over the till.

A manager reviewing sales at the counter must not hide the cashier's basket, payment
state or pay button (a customer may be paying at that moment). In order of preference:

1. a monitor of its own: one that neither shows the till nor the customer display
   (the customer must not read the manager's evidence);
2. the free part of the till's monitor beside (or above/below) the till window, when
   it is large enough to work in;
3. otherwise the till's monitor is shared: the till keeps the right part (at least
   its minimum width, so its basket, state panel and pay controls stay whole) and the
   manager window takes the left (its pages scroll when that is narrower than they
   like); the till gets its old size (or full screen) back when the manager leaves.

The plan is pure geometry (``plan``) so it is tested without a window system;
``place_beside`` applies it to real windows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QMargins, QRect, QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget
from shiboken6 import isValid

WANTED = QSize(1280, 800)
MIN_SIZE = QSize(720, 480)  # below this the queue's columns no longer fit
TILL_SHARE = 0.55  # of a shared monitor's width, for the till


@dataclass(frozen=True, slots=True)
class Monitor:
    geometry: QRect  # the whole monitor
    available: QRect  # without panels and docks


@dataclass(frozen=True, slots=True)
class Placement:
    manager: QRect  # frame geometry for the manager window
    till: QRect | None = None  # new frame geometry for the till when the monitor is shared


def plan(
    monitors: Sequence[Monitor],
    *,
    till: QRect,
    customer: QRect | None = None,
    till_min_width: int = 0,
    manager_min_width: int = MIN_SIZE.width(),
    wanted: QSize = WANTED,
) -> Placement:
    """The manager window's frame geometry (and the till's, when they share a monitor)."""
    for monitor in monitors:
        busy = monitor.geometry.intersects(till) or (
            customer is not None and monitor.geometry.intersects(customer)
        )
        if not busy:
            return Placement(_fit(monitor.available, wanted))
    home = _monitor_of(monitors, till)
    free = _largest_free_strip(home.available, till)
    if free.width() >= MIN_SIZE.width() and free.height() >= MIN_SIZE.height():
        return Placement(_fit(free, wanted))
    area = home.available
    share = min(round(area.width() * TILL_SHARE), area.width() - manager_min_width)
    till_width = min(area.width(), max(till_min_width, share))
    manager_width = area.width() - till_width
    return Placement(
        QRect(area.left(), area.top(), manager_width, area.height()),
        till=QRect(area.left() + manager_width, area.top(), till_width, area.height()),
    )


def _monitor_of(monitors: Sequence[Monitor], rect: QRect) -> Monitor:
    def overlap(m: Monitor) -> int:
        common = m.geometry.intersected(rect)
        return common.width() * common.height() if not common.isEmpty() else 0

    return max(monitors, key=overlap)


def _largest_free_strip(area: QRect, till: QRect) -> QRect:
    """The largest of the four strips of ``area`` left, right, above and below the till."""
    strips = (
        QRect(area.left(), area.top(), till.left() - area.left(), area.height()),
        QRect(till.right() + 1, area.top(), area.right() - till.right(), area.height()),
        QRect(area.left(), area.top(), area.width(), till.top() - area.top()),
        QRect(area.left(), till.bottom() + 1, area.width(), area.bottom() - till.bottom()),
    )
    usable = [s for s in strips if s.width() > 0 and s.height() > 0]
    return max(usable, key=lambda s: s.width() * s.height(), default=QRect())


def _fit(area: QRect, wanted: QSize) -> QRect:
    size = wanted.boundedTo(area.size())
    rect = QRect(0, 0, size.width(), size.height())
    rect.moveCenter(area.center())
    return rect


# applying it ------------------------------------------------------------------------------


def monitors() -> list[Monitor]:
    return [Monitor(s.geometry(), s.availableGeometry()) for s in QGuiApplication.screens()]


def place_beside(manager: QWidget, till: QWidget, *, customer: QWidget | None = None) -> Placement:
    """Move (and size) ``manager`` so it covers neither the till nor the customer display;
    shrink the till onto part of its monitor only when nothing else is free."""
    shown = customer if customer is not None and customer.isVisible() else None
    placement = plan(
        monitors(),
        till=till.frameGeometry(),
        customer=shown.frameGeometry() if shown is not None else None,
        till_min_width=till.minimumSizeHint().width(),
    )
    frame = _frame_margins(till)
    if placement.till is not None:
        _share(till, placement.till.marginsRemoved(frame), manager)
    manager.setGeometry(placement.manager.marginsRemoved(frame))
    return placement


def _frame_margins(window: QWidget) -> QMargins:
    """The window manager's decorations (the same for both windows): title bar and borders."""
    outer, inner = window.frameGeometry(), window.geometry()
    return QMargins(
        inner.left() - outer.left(),
        inner.top() - outer.top(),
        outer.right() - inner.right(),
        outer.bottom() - inner.bottom(),
    )


def _share(till: QWidget, rect: QRect, manager: QWidget) -> None:
    """The till moves aside while the manager works; it gets its place back afterwards."""
    full, maximized, before = till.isFullScreen(), till.isMaximized(), till.geometry()
    if full or maximized:
        till.showNormal()
    till.setGeometry(rect)

    def restore() -> None:
        if not isValid(till):  # the till closed first (the end of the day)
            return
        if full:
            till.showFullScreen()
        elif maximized:
            till.showMaximized()
        else:
            till.setGeometry(before)

    manager.destroyed.connect(lambda *_: restore())
