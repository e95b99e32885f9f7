"""Decoders, classification and the cascade, on rendered codes."""

from __future__ import annotations

from types import ModuleType

import cv2
import numpy as np
import pytest
from scan_testkit import EAN13_A, EAN13_B

from pos_app.core.gtin import make_gtin
from pos_app.scanning.cascade import DecodeCascade, to_gray
from pos_app.scanning.config import DecoderConfig
from pos_app.scanning.decoders import (
    OpenCVDecoder,
    PyzbarDecoder,
    ZxingDecoder,
    make_decoder,
)
from pos_app.scanning.errors import DecoderUnavailable
from pos_app.scanning.symbols import RawSymbol, SymbolKind, Symbology, classify
from pos_app.scanning.synthetic import SyntheticCode, compose, render_code


def frame_with(code: str, *, at: tuple[int, int], size=(640, 480), module_px=3) -> np.ndarray:
    frame = np.full((size[1], size[0]), 200, np.uint8)
    img = render_code(code, module_px=module_px)
    x, y = at
    frame[y : y + img.shape[0], x : x + img.shape[1]] = img
    return frame


@pytest.mark.parametrize("decoder", [ZxingDecoder(), PyzbarDecoder(), OpenCVDecoder()])
def test_each_decoder_reads_a_payment_qr_with_its_corners(decoder, token):
    frame = frame_with(token, at=(100, 80))
    found = decoder.decode(frame)
    assert [f.text for f in found] == [token]
    assert found[0].raw == token.encode("ascii")
    xs = [x for x, _ in found[0].corners]
    ys = [y for _, y in found[0].corners]
    # Symbol starts after the 4-module quiet zone (3 px per module).
    assert min(xs) == pytest.approx(112, abs=4)
    assert min(ys) == pytest.approx(92, abs=4)


@pytest.mark.parametrize("decoder", [ZxingDecoder(), PyzbarDecoder()])
def test_each_decoder_reads_an_ean13(decoder):
    found = decoder.decode(frame_with(EAN13_A, at=(100, 100), module_px=2))
    assert [(f.symbology, f.text) for f in found] == [(Symbology.EAN13, EAN13_A)]


def byte_mode_qr(payload: bytes) -> np.ndarray:
    import segno

    qr = segno.make_qr(payload, error="m", mode="byte")
    modules = np.pad(np.array(qr.matrix, np.uint8), 4)
    return np.kron(np.where(modules > 0, 0, 255).astype(np.uint8), np.ones((4, 4), np.uint8))


@pytest.mark.parametrize("decoder", [ZxingDecoder(), PyzbarDecoder()])
def test_decoders_keep_payload_bytes_that_are_not_text(decoder):
    # A byte-mode QR whose bytes are not UTF-8: the raw bytes survive untouched
    # (ZBar only in its binary mode; its default would re-encode a guessed charset).
    payload = b"PT1:\xff\xfe binary"
    found = decoder.decode(byte_mode_qr(payload))
    assert found[0].raw == payload
    symbol = classify(found[0], decoder=decoder.name)
    assert symbol.kind is SymbolKind.QR_TEXT  # not printable ASCII: never a payment token


def test_zbar_binary_mode_gives_shift_jis_text_back_correctly():
    decoder = PyzbarDecoder()
    assert decoder.binary
    found = decoder.decode(byte_mode_qr("テスト 123".encode("shift_jis")))
    assert found[0].raw == "テスト 123".encode("shift_jis")
    assert found[0].text == "テスト 123"


def test_pyzbar_reports_missing_libzbar_instead_of_crashing():
    def loader(name: str) -> ModuleType:
        raise ImportError("Unable to find zbar shared library")

    decoder = PyzbarDecoder(loader=loader)
    assert decoder.unavailable_reason is not None
    assert "libzbar0" in decoder.unavailable_reason
    with pytest.raises(DecoderUnavailable):
        decoder.decode(np.zeros((10, 10), np.uint8))
    cascade = DecodeCascade(decoders=[decoder, ZxingDecoder()])
    assert "pyzbar" in cascade.unavailable
    assert [d.name for d in cascade.decoders] == ["zxing"]


def test_make_decoder_rejects_unknown_names():
    with pytest.raises(ValueError, match="unknown decoder"):
        make_decoder("tesseract")
    with pytest.raises(ValueError):
        DecoderConfig(cascade=("zxing", "nope"))
    with pytest.raises(ValueError, match="formats"):
        DecoderConfig(formats=("qr", "datamatrix"))


@pytest.mark.parametrize(
    ("raw", "symbology", "kind"),
    [
        (b"PT1:ABC DEF", Symbology.QR, SymbolKind.PAYMENT_TOKEN),
        (b"PT1:ABC\x00", Symbology.QR, SymbolKind.QR_TEXT),
        (b"pt1:ABC", Symbology.QR, SymbolKind.QR_TEXT),
        (b"https://example.jp/", Symbology.QR, SymbolKind.QR_TEXT),
        (EAN13_A.encode(), Symbology.EAN13, SymbolKind.GTIN),
        (b"4901234567890", Symbology.EAN13, SymbolKind.QR_TEXT),  # wrong check digit
        (make_gtin("4512345").encode(), Symbology.EAN8, SymbolKind.GTIN),
        (make_gtin("03600029145").encode(), Symbology.UPCA, SymbolKind.GTIN),
        (b"04252614", Symbology.UPCE, SymbolKind.GTIN),
        (EAN13_A.encode(), Symbology.QR, SymbolKind.QR_TEXT),  # digits in a QR are not a GTIN
    ],
)
def test_classification(raw, symbology, kind):
    found = RawSymbol(symbology, raw, raw.decode("latin-1"), ((0, 0), (1, 0), (1, 1), (0, 1)))
    assert classify(found, decoder="x").kind is kind


def test_to_gray_accepts_gray_bgr_and_bgra():
    gray = np.full((4, 5), 77, np.uint8)
    assert to_gray(gray) is gray
    assert to_gray(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)).shape == (4, 5)
    assert to_gray(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGRA))[0, 0] == 77


def test_cascade_reads_a_centred_code_in_the_region_pass(token):
    frame = compose([token], size=(640, 480), module_px=3)
    result = DecodeCascade().decode(frame)
    assert result.stage == "roi"
    assert [(s.kind, s.text) for s in result.symbols] == [(SymbolKind.PAYMENT_TOKEN, token)]
    # Corners come back in frame coordinates, not region coordinates.
    xs = [x for x, _ in result.symbols[0].corners]
    assert 640 / 2 - 100 < min(xs) < 640 / 2 < max(xs) < 640 / 2 + 100


def test_cascade_falls_back_to_the_full_frame_for_a_code_in_a_corner():
    frame = frame_with(EAN13_B, at=(0, 0), module_px=2)
    result = DecodeCascade().decode(frame)
    assert result.stage == "full"
    assert [s.text for s in result.symbols] == [EAN13_B]
    assert min(x for x, _ in result.symbols[0].corners) < 40


def test_cascade_reads_two_codes_of_different_kinds(token):
    frame = compose([token, SyntheticCode(EAN13_A, Symbology.EAN13)], size=(1280, 480))
    kinds = {s.kind for s in DecodeCascade().decode(frame).symbols}
    assert kinds == {SymbolKind.PAYMENT_TOKEN, SymbolKind.GTIN}


def test_nothing_in_a_plain_frame():
    result = DecodeCascade().decode(np.full((480, 640, 3), 128, np.uint8))
    assert result.symbols == ()
    assert result.stage == ""


class Exploding:
    name = "exploding"
    unavailable_reason = None

    def __init__(self) -> None:
        self.calls = 0

    def decode(self, gray):
        self.calls += 1
        raise RuntimeError("decoder bug")


def test_decoder_exceptions_are_counted_and_the_next_decoder_reads(token):
    exploding = Exploding()
    cascade = DecodeCascade(
        DecoderConfig(roi_fraction=1.0, retries=()), decoders=[exploding, ZxingDecoder()]
    )
    result = cascade.decode(compose([token]))
    assert [s.text for s in result.symbols] == [token]
    assert result.symbols[0].decoder == "zxing"
    assert result.errors == ("exploding: RuntimeError: decoder bug",)
    cascade.decode(compose([token]))
    assert cascade.error_counts["exploding"] == 2


def test_a_cascade_of_only_broken_decoders_returns_nothing():
    cascade = DecodeCascade(decoders=[Exploding()])
    result = cascade.decode(np.zeros((100, 100), np.uint8))
    assert result.symbols == ()
    # region, full frame, then the four default retries (clahe, sharpen, 2x sharpened, 2x)
    assert cascade.error_counts["exploding"] == 6


class Counting:
    name = "counting"
    unavailable_reason = None

    def __init__(self) -> None:
        self.calls = 0

    def decode(self, gray):
        self.calls += 1
        return []


def test_slow_passes_run_on_one_frame_in_n_when_nothing_is_seen():
    counting = Counting()
    config = DecoderConfig(retries=(), slow_pass_every=3)
    cascade = DecodeCascade(config, decoders=[ZxingDecoder(), counting])
    calls = []
    for _ in range(6):
        cascade.decode(np.full((240, 320), 128, np.uint8))
        calls.append(counting.calls)
    assert calls == [1, 1, 1, 2, 2, 2]


def test_a_damaged_code_always_gets_the_slow_passes(token):
    small = cv2.GaussianBlur(render_code(token, module_px=2), (0, 0), 0.9)
    frame = np.full((240, 320), 200, np.uint8)
    frame[80 : 80 + small.shape[0], 100 : 100 + small.shape[1]] = small
    config = DecoderConfig(retries=("upscale",), slow_pass_every=3)
    cascade = DecodeCascade(config, decoders=[ZxingDecoder()])
    stages = [cascade.decode(frame).stage for _ in range(3)]
    assert stages == ["upscale"] * 3  # zxing saw a symbol it could not read: worth retrying


def test_sharpen_retry_reads_a_defocused_code(token):
    frame = cv2.GaussianBlur(compose([token], module_px=3), (0, 0), 1.5)
    plain = DecodeCascade(DecoderConfig(retries=()), decoders=[ZxingDecoder()])
    assert plain.decode(frame).symbols == ()
    sharp = DecodeCascade(DecoderConfig(retries=("sharpen",)), decoders=[ZxingDecoder()])
    result = sharp.decode(frame)
    assert (result.stage, [s.text for s in result.symbols]) == ("sharpen", [token])


def test_clahe_retry_reads_a_code_under_glare(token):
    frame = compose([token], module_px=3).astype(np.float32)
    ys, xs = np.mgrid[0:480, 0:640]
    glare = 200 * np.exp(-((xs - 300) ** 2 + (ys - 220) ** 2) / (2 * 60.0**2))
    frame = np.clip(frame * 0.5 + 60 + glare, 0, 255).astype(np.uint8)  # dim screen, bright spot
    plain = DecodeCascade(DecoderConfig(retries=()), decoders=[ZxingDecoder()])
    clahe = DecodeCascade(DecoderConfig(retries=("clahe",)), decoders=[ZxingDecoder()])
    assert plain.decode(frame).symbols == ()
    assert [s.text for s in clahe.decode(frame).symbols] == [token]


def test_upscale_retry_reads_a_small_blurred_code(token):
    small = cv2.GaussianBlur(render_code(token, module_px=2), (0, 0), 0.9)
    frame = np.full((240, 320), 200, np.uint8)
    frame[80 : 80 + small.shape[0], 100 : 100 + small.shape[1]] = small
    without = DecodeCascade(DecoderConfig(retries=()), decoders=[ZxingDecoder()])
    assert without.decode(frame).symbols == ()
    with_retry = DecodeCascade(DecoderConfig(retries=("upscale",)), decoders=[ZxingDecoder()])
    result = with_retry.decode(frame)
    assert result.stage == "upscale"
    assert [s.text for s in result.symbols] == [token]
    # Corners are mapped back from the 2x image to the frame.
    assert max(x for x, _ in result.symbols[0].corners) < 320


def test_invert_retry_lets_zbar_read_light_on_dark(token):
    frame = 255 - compose([token])
    plain = DecodeCascade(DecoderConfig(retries=()), decoders=[PyzbarDecoder()])
    assert plain.decode(frame).symbols == ()
    inverted = DecodeCascade(DecoderConfig(retries=("invert",)), decoders=[PyzbarDecoder()])
    assert inverted.decode(frame).stage == "invert"
    assert [s.text for s in PyzbarDecoder(try_invert=True).decode(frame)] == [token]


def test_invert_retry_skips_decoders_that_invert_by_themselves():
    exploding = Exploding()
    exploding.reads_inverted = True
    cascade = DecodeCascade(DecoderConfig(retries=("invert",)), decoders=[exploding])
    cascade.decode(np.zeros((50, 50), np.uint8))
    assert exploding.calls == 2  # region and full frame; no inverted pass
