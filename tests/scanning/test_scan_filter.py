"""The scan filter's timing rules, with injected times (no sleeping)."""

from __future__ import annotations

import math

from pos_app.scanning.config import FilterConfig
from pos_app.scanning.filter import TWO_PAYMENT_CODES, ScanAction, ScanFilter
from pos_app.scanning.symbols import Symbol, SymbolKind, Symbology
from tests.scanning.scan_testkit import EAN13_A, EAN13_B, payment_text

CORNERS = ((10.0, 10.0), (50.0, 10.0), (50.0, 50.0), (10.0, 50.0))
TOKEN_A = payment_text(1)
TOKEN_B = payment_text(2)


def pay(text: str) -> Symbol:
    return Symbol(SymbolKind.PAYMENT_TOKEN, Symbology.QR, text, text.encode(), CORNERS, "zxing")


def product(text: str) -> Symbol:
    return Symbol(SymbolKind.GTIN, Symbology.EAN13, text, text.encode(), CORNERS, "zxing")


def other(text: str) -> Symbol:
    return Symbol(SymbolKind.QR_TEXT, Symbology.QR, text, text.encode(), CORNERS, "zxing")


def run(filt: ScanFilter, frames: list[tuple[float, list[Symbol]]]) -> list[tuple[float, str, str]]:
    out = []
    for at, symbols in frames:
        for event in filt.feed(symbols, at=at):
            out.append((at, event.action.value, event.text or event.reason))
    return out


def test_payment_needs_two_identical_reads_within_500_ms() -> None:
    filt = ScanFilter()
    assert filt.feed([pay(TOKEN_A)], at=10.0) == []
    events = filt.feed([pay(TOKEN_A)], at=10.033)
    assert [(e.action, e.kind, e.text) for e in events] == [
        (ScanAction.ACCEPTED, SymbolKind.PAYMENT_TOKEN, TOKEN_A)
    ]
    assert events[0].corners == CORNERS


def test_payment_reads_further_apart_than_the_window_do_not_agree() -> None:
    filt = ScanFilter(FilterConfig(left_view_s=10.0))
    frames = [(10.0, [pay(TOKEN_A)]), (10.501, [pay(TOKEN_A)]), (10.9, [pay(TOKEN_A)])]
    # 10.0 and 10.501 are 501 ms apart; 10.501 and 10.9 agree.
    assert run(filt, frames) == [(10.9, "accepted", TOKEN_A)]


def test_exactly_500_ms_apart_still_agrees() -> None:
    filt = ScanFilter()
    assert run(filt, [(1.0, [pay(TOKEN_A)]), (1.5, [pay(TOKEN_A)])]) == [(1.5, "accepted", TOKEN_A)]


def test_one_misread_frame_never_pays() -> None:
    filt = ScanFilter()
    frames = [(0.0, [pay(TOKEN_A)]), (0.03, [pay(TOKEN_B)]), (0.06, [])]
    assert run(filt, frames) == []


def test_same_frame_twice_does_not_count_as_two_frames() -> None:
    filt = ScanFilter()
    assert run(filt, [(5.0, [pay(TOKEN_A)]), (5.0, [pay(TOKEN_A)])]) == []


def test_accepted_token_is_not_accepted_again_while_in_view_and_is_after_leaving() -> None:
    filt = ScanFilter()
    held = [(i * 0.033, [pay(TOKEN_A)]) for i in range(60)]  # 2 s in front of the camera
    assert run(filt, held) == [(0.033, "accepted", TOKEN_A)]
    # Gone for 1 s (longer than left_view_s), then shown again: a new presentation.
    again = [(3.0, [pay(TOKEN_A)]), (3.033, [pay(TOKEN_A)])]
    assert run(filt, again) == [(3.033, "accepted", TOKEN_A)]


def test_missed_frames_do_not_count_as_leaving_the_view() -> None:
    filt = ScanFilter()
    frames = [
        (0.0, [pay(TOKEN_A)]),
        (0.03, [pay(TOKEN_A)]),
        (0.06, []),
        (0.3, []),
        (0.4, [pay(TOKEN_A)]),
    ]
    assert run(filt, frames) == [(0.03, "accepted", TOKEN_A)]


def test_two_payment_codes_in_one_frame_are_rejected_once_with_a_message() -> None:
    filt = ScanFilter()
    first = filt.feed([pay(TOKEN_A), pay(TOKEN_B)], at=1.0)
    assert [(e.action, e.reason) for e in first] == [(ScanAction.REJECTED, TWO_PAYMENT_CODES)]
    assert "only one" in first[0].message
    assert filt.feed([pay(TOKEN_A), pay(TOKEN_B)], at=1.03) == []  # not repeated every frame
    # The conflict frames counted for nothing: one clean frame is not enough.
    assert filt.feed([pay(TOKEN_A)], at=1.06) == []
    assert filt.feed([pay(TOKEN_A)], at=1.09) == []  # the other phone was in view 60 ms ago
    assert filt.feed([pay(TOKEN_A)], at=1.5) == []  # gone 0.47 s: agreement starts afresh
    assert [e.text for e in filt.feed([pay(TOKEN_A)], at=1.53)] == [TOKEN_A]


def test_conflict_frame_breaks_agreement() -> None:
    filt = ScanFilter()
    frames = [(0.0, [pay(TOKEN_A)]), (0.03, [pay(TOKEN_A), pay(TOKEN_B)]), (0.06, [pay(TOKEN_A)])]
    assert [a for _, a, _ in run(filt, frames)] == ["rejected"]


def test_same_payment_code_twice_in_a_frame_is_one_code() -> None:
    filt = ScanFilter()
    frames = [(0.0, [pay(TOKEN_A), pay(TOKEN_A)]), (0.03, [pay(TOKEN_A)])]
    assert run(filt, frames) == [(0.03, "accepted", TOKEN_A)]


def test_product_added_once_while_held_within_the_cooldown() -> None:
    filt = ScanFilter()
    held = [(i * 0.033, [product(EAN13_A)]) for i in range(40)]  # 1.3 s, cooldown 1.5 s
    assert run(filt, held) == [(0.033, "accepted", EAN13_A)]  # the second agreeing frame


def test_one_frame_never_adds_a_product() -> None:
    # A misread line of a partly seen EAN-13 is one frame: it must not reach the basket.
    filt = ScanFilter()
    frames = [(0.0, [product(EAN13_B)]), (0.033, [product(EAN13_A)]), (0.066, [product(EAN13_A)])]
    assert run(filt, frames) == [(0.066, "accepted", EAN13_A)]
    assert run(filt, [(1.0, [product(EAN13_B)]), (1.6, [product(EAN13_B)])]) == []  # too far apart


def test_no_payment_while_a_second_phone_was_just_seen() -> None:
    # The decoder reads the second phone only in some frames; it is still in view.
    filt = ScanFilter()
    frames = [(0.0, [pay(TOKEN_A), pay(TOKEN_B)])]
    frames += [(0.033 * i, [pay(TOKEN_A)]) for i in range(1, 12)]  # B last seen at 0.0
    frames += [(0.4, [pay(TOKEN_A), pay(TOKEN_B)])]  # there it is again
    frames += [(0.4 + 0.033 * i, [pay(TOKEN_A)]) for i in range(1, 16)]
    events = run(filt, frames)
    assert [a for _, a, _ in events][:1] == ["rejected"]
    accepted = [at for at, action, _ in events if action == "accepted"]
    assert len(accepted) == 1
    assert accepted[0] > 0.8  # only after B has been gone for left_view_s (0.4 s)


def test_same_product_again_after_it_left_the_view_even_within_the_cooldown() -> None:
    filt = ScanFilter()
    frames = [
        (0.0, [product(EAN13_A)]),
        (0.1, [product(EAN13_A)]),
        (0.2, []),
        (0.6, []),  # 0.5 s without a read: it left
        (0.7, [product(EAN13_A)]),  # second can of the same drink
        (0.8, [product(EAN13_A)]),
    ]
    assert run(filt, frames) == [(0.1, "accepted", EAN13_A), (0.8, "accepted", EAN13_A)]


def test_same_product_again_after_the_cooldown_while_still_in_view() -> None:
    filt = ScanFilter()
    held = [(round(i * 0.1, 3), [product(EAN13_A)]) for i in range(18)]
    # Added at 0.1; the cooldown ends at 1.6, and two more agreeing frames add it again.
    assert run(filt, held) == [(0.1, "accepted", EAN13_A), (1.7, "accepted", EAN13_A)]


def test_infinite_cooldown_means_only_leaving_the_view_rearms() -> None:
    filt = ScanFilter(FilterConfig(product_cooldown_s=math.inf))
    held = [(i * 0.1, [product(EAN13_A)]) for i in range(50)]
    assert len(run(filt, held)) == 1
    again = [(6.0, [product(EAN13_A)]), (6.1, [product(EAN13_A)])]
    assert run(filt, again) == [(6.1, "accepted", EAN13_A)]


def test_different_products_are_independent() -> None:
    filt = ScanFilter()
    frames = [(0.1 * i, [product(EAN13_A if i % 2 == 0 else EAN13_B)]) for i in range(4)]
    assert run(filt, frames) == [
        (0.2, "accepted", EAN13_A),
        (0.30000000000000004, "accepted", EAN13_B),
    ]


def test_other_qr_text_is_reported_once_per_appearance_as_ignored() -> None:
    filt = ScanFilter()
    frames = [(0.0, [other("https://example.jp")]), (0.1, [other("https://example.jp")])]
    events = run(filt, frames)
    assert events == [(0.0, "ignored", "https://example.jp")]
    assert run(filt, [(2.0, [other("https://example.jp")])]) == [
        (2.0, "ignored", "https://example.jp")
    ]


def test_reset_forgets_recent_scans() -> None:
    filt = ScanFilter()
    run(filt, [(0.0, [product(EAN13_A)]), (0.05, [product(EAN13_A)])])
    filt.reset()
    frames = [(0.1, [product(EAN13_A)]), (0.15, [product(EAN13_A)])]
    assert run(filt, frames) == [(0.15, "accepted", EAN13_A)]


def moving(text: str) -> Symbol:
    """A payment code read only by undoing a motion smear."""
    return Symbol(
        SymbolKind.PAYMENT_TOKEN, Symbology.QR, text, text.encode(), CORNERS, "zxing", moving=True
    )


def test_reads_through_motion_deblur_alone_never_pay() -> None:
    """Two phones entering together: one is read through the deblur while the
    other is still unreadable. Those reads do not agree; once the phones are
    held still both are read, and the frame is refused."""
    filt = ScanFilter()
    entering = [(10.0 + i / 30, [moving(TOKEN_A)]) for i in range(6)]
    held = [(10.2, [pay(TOKEN_A), pay(TOKEN_B)]), (10.233, [pay(TOKEN_A), pay(TOKEN_B)])]
    assert run(filt, entering + held) == [(10.2, "rejected", TWO_PAYMENT_CODES)]


def test_a_moving_read_still_holds_another_payment_back() -> None:
    filt = ScanFilter()
    frames = [(1.0, [moving(TOKEN_B)]), (1.033, [pay(TOKEN_A)]), (1.066, [pay(TOKEN_A)])]
    assert run(filt, frames) == []
    # Once the phone that moved has not been read for 0.4 s, the other pays.
    later = [(1.5, [pay(TOKEN_A)]), (1.533, [pay(TOKEN_A)])]
    assert run(filt, later) == [(1.533, "accepted", TOKEN_A)]


def test_a_still_read_after_moving_ones_agrees_with_the_next() -> None:
    filt = ScanFilter()
    frames = [(1.0, [moving(TOKEN_A)]), (1.033, [pay(TOKEN_A)]), (1.066, [pay(TOKEN_A)])]
    assert run(filt, frames) == [(1.066, "accepted", TOKEN_A)]


# A frame the decoder reports *clear*: nothing code-like in it went unread.


def test_a_clear_frame_pays_a_payment_code_at_once() -> None:
    filt = ScanFilter()
    events = filt.feed([pay(TOKEN_A)], at=10.0, clear=True)
    assert [(e.action, e.text) for e in events] == [(ScanAction.ACCEPTED, TOKEN_A)]
    # Once per presentation, as with agreeing frames.
    assert filt.feed([pay(TOKEN_A)], at=10.033, clear=True) == []


def test_a_frame_that_is_not_clear_still_needs_a_second_frame() -> None:
    filt = ScanFilter()
    assert filt.feed([pay(TOKEN_A)], at=10.0, clear=False) == []
    assert [e.text for e in filt.feed([pay(TOKEN_A)], at=10.033)] == [TOKEN_A]


def test_a_clear_frame_never_adds_a_product_alone() -> None:
    filt = ScanFilter()
    assert filt.feed([product(EAN13_A)], at=10.0, clear=True) == []
    assert [e.text for e in filt.feed([product(EAN13_A)], at=10.033, clear=True)] == [EAN13_A]


def test_a_clear_frame_does_not_pay_a_read_through_motion_deblur() -> None:
    filt = ScanFilter()
    assert filt.feed([moving(TOKEN_A)], at=10.0, clear=True) == []


def test_a_clear_frame_does_not_pay_while_a_second_phone_was_just_seen() -> None:
    filt = ScanFilter()
    assert filt.feed([pay(TOKEN_B)], at=10.0) == []
    assert filt.feed([pay(TOKEN_A)], at=10.1, clear=True) == []
    # Phone B gone for more than left_view_s: a clear frame of A pays.
    assert [e.text for e in filt.feed([pay(TOKEN_A)], at=10.6, clear=True)] == [TOKEN_A]


def test_two_payment_codes_in_a_clear_frame_are_refused() -> None:
    filt = ScanFilter()
    events = filt.feed([pay(TOKEN_A), pay(TOKEN_B)], at=10.0, clear=True)
    assert [(e.action, e.reason) for e in events] == [(ScanAction.REJECTED, TWO_PAYMENT_CODES)]


def test_single_clear_reads_can_be_switched_off() -> None:
    filt = ScanFilter(FilterConfig(payment_single_clear_read=False))
    assert filt.feed([pay(TOKEN_A)], at=10.0, clear=True) == []
    assert [e.text for e in filt.feed([pay(TOKEN_A)], at=10.033, clear=True)] == [TOKEN_A]
