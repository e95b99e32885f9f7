"""The customer display on a real X server: a second monitor plugged, touched, unplugged
and plugged back (Xvfb + xrandr monitors), with real X events (xdotool).

The till runs in its own process (``xvfb_customer_display.py``) because this test process
already runs Qt headless (offscreen), which ignores "show without activating".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.customer_display, pytest.mark.age_check]

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = "tests.ui.xvfb_customer_display"


@pytest.fixture(scope="module")
def seen() -> dict[str, Any]:  # the child's JSON report
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb"}
    result = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 3840x800x24", sys.executable, "-m", SCRIPT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


def test_the_display_goes_on_the_second_monitor_without_taking_the_focus(
    seen: dict[str, Any],
) -> None:
    assert seen["screens"] == ["CASHIER", "CUSTOMER"]
    assert seen["attached"] is True
    assert seen["display_monitor"] == "CUSTOMER"
    assert seen["display_geometry"] == [1280, 0, 1280, 800]  # full screen, off the cashier's
    assert seen["cashier_active_after_display_shown"] is True
    assert seen["x_focus_on_cashier_at_start"] is True
    assert seen["display_rows_after_scans"] == 2  # scanner digits reached the till


def test_a_touch_on_the_display_answers_the_age_check_and_keys_stay_with_the_till(
    seen: dict[str, Any],
) -> None:
    assert seen["age_prompt"] is True and seen["age_buttons_visible"] is True
    assert seen["paid_after_touch"] is True
    assert seen["answered_by"][0] == ["age", "True", "customer_display", "True"]
    assert seen["x_focus_on_cashier_after_touch"] is True  # the X server's keyboard focus
    assert seen["cashier_active_after_touch"] is True
    assert seen["escape_reached_till"] is True  # the next key went to the cashier's window


def test_unplugging_the_customer_monitor_leaves_the_till_working(seen: dict[str, Any]) -> None:
    assert seen["detached"] is True and seen["display_hidden"] is True
    assert seen["cashier_message"] == "Customer display disconnected. The till goes on without it."
    assert seen["cashier_still_active"] is True
    assert seen["age_mode_without_display"] == "cashier"  # the store allows it (default)
    assert seen["cashier_confirmed"] is True
    assert seen["answered_by"][1] == ["age", "True", "cashier_visual", "False"]


def test_plugging_it_back_brings_the_display_back(seen: dict[str, Any]) -> None:
    assert seen["reattached"] is True
    assert seen["display_monitor_again"] == "CUSTOMER"
    assert seen["cashier_active_at_end"] is True and seen["x_focus_on_cashier_at_end"] is True


def test_the_manager_window_never_covers_the_till_nor_the_customer_display(
    seen: dict[str, Any],
) -> None:
    assert seen["manager_monitor"] == "CASHIER"  # the customer's monitor is not for it
    assert seen["manager_over_display"] is False
    assert seen["manager_over_till"] is False and seen["manager_over_till_signed_in"] is False
    x, _y, width, _h = seen["till_while_shared"]
    assert x > 0 and width >= 640 and seen["till_pay_visible"] is True
    assert seen["till_after_manager"] == [20, 20, 1220, 740]  # its place back
    assert seen["manager_monitor_with_spare"] == "SPARE"
    assert seen["till_with_spare"] == [20, 20, 1220, 740]  # untouched


def test_a_scan_while_the_manager_types_goes_to_the_basket(seen: dict[str, Any]) -> None:
    assert seen["scan_reached_basket"] is True
    assert seen["manager_id_after_scan"] == ""
    assert seen["manager_signed_in"] is True  # a person typing is not a scanner


def test_the_reasons_column_is_readable_in_the_real_window(seen: dict[str, Any]) -> None:
    assert seen["reason_width"] >= 240 and seen["reason_visible"] is True
    assert seen["reason_text"] and "_" not in seen["reason_text"]  # words, not codes
    assert seen["reason_tooltip"] and "_" not in seen["reason_tooltip"]
