"""pos-app scan-image and scan-video."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from pos_app.scanning import cli
from pos_app.scanning.synthetic import compose, render_code
from tests.scanning.scan_testkit import EAN13_A, payment_text


def run(argv: list[str]) -> tuple[int, list[dict[str, Any]], str]:
    parser = argparse.ArgumentParser(prog="pos-app")
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    code = args.handler(args, out=out, err=err)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    return code, lines, err.getvalue()


def test_scan_image_prints_one_json_line_per_file(tmp_path: Path) -> None:
    token = payment_text(9)
    pay, product, empty = tmp_path / "pay.png", tmp_path / "product.webp", tmp_path / "empty.jpg"
    cv2.imwrite(str(pay), compose([token]))
    cv2.imwrite(str(product), compose([EAN13_A], module_px=3))
    cv2.imwrite(str(empty), np.full((480, 640), 90, np.uint8))
    code, lines, _ = run(["scan-image", str(pay), str(product), str(empty)])
    assert code == 0
    assert [line["file"] for line in lines] == [str(pay), str(product), str(empty)]
    assert lines[0]["symbols"] == [{"kind": "payment_token", "symbology": "QR Code", "text": token}]
    assert lines[1]["symbols"] == [{"kind": "gtin", "symbology": "EAN-13", "text": EAN13_A}]
    assert lines[2]["symbols"] == []
    assert all(isinstance(line["ms"], float) for line in lines)


def test_scan_image_with_a_chosen_decoder_and_a_missing_file(tmp_path: Path) -> None:
    pay = tmp_path / "pay.png"
    cv2.imwrite(str(pay), compose([EAN13_A], module_px=3))
    code, lines, _ = run(
        ["scan-image", str(pay), str(tmp_path / "nope.png"), "--decoders", "pyzbar"]
    )
    assert code == 1
    assert lines[0]["symbols"][0]["text"] == EAN13_A
    assert lines[1] == {"file": str(tmp_path / "nope.png"), "error": "cannot read image"}


def test_unknown_decoder_is_a_usage_error(tmp_path: Path) -> None:
    code, lines, err = run(["scan-image", "x.png", "--decoders", "zxing,magic"])
    assert (code, lines) == (2, [])
    assert "magic" in err


def test_scan_video_prints_accepted_scans_after_the_filter(tmp_path: Path) -> None:
    token = payment_text(10)
    path = tmp_path / "counter.avi"
    frames = [compose([EAN13_A], module_px=3)] * 5 + [np.full((480, 640), 200, np.uint8)] * 5
    frames += [compose([token], module_px=4)] * 5
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (640, 480))
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
    writer.release()
    code, lines, _ = run(["scan-video", str(path)])
    assert code == 0
    assert [(line["kind"], line["text"]) for line in lines] == [
        ("gtin", EAN13_A),  # held for 5 frames: added once
        ("payment_token", token),  # nothing else in view: accepted on its first frame
    ]
    assert lines[1]["t"] == pytest.approx(1.0)


def test_scan_video_missing_file(tmp_path: Path) -> None:
    code, _lines, err = run(["scan-video", str(tmp_path / "none.avi")])
    assert code == 1
    assert "does not exist" in err


def test_scan_image_reports_every_code_of_two_phones(tmp_path: Path) -> None:
    near, far = payment_text(3), payment_text(4)
    frame = np.full((480, 640), 180, np.uint8)
    big = render_code(near, module_px=3)
    frame[60 : 60 + big.shape[0], 20 : 20 + big.shape[1]] = big
    sharp = render_code(far, module_px=4)
    side = round(sharp.shape[0] * 1.5 / 4)  # 1.5 px per module: the far phone
    small = cv2.GaussianBlur(
        cv2.resize(sharp, (side, side), interpolation=cv2.INTER_AREA), (0, 0), 0.6
    )
    frame[160 : 160 + side, 420 : 420 + side] = small
    path = tmp_path / "two-phones.png"
    cv2.imwrite(str(path), frame)
    code, lines, _ = run(["scan-image", str(path)])
    assert code == 0
    assert {s["text"] for s in lines[0]["symbols"]} == {near, far}
    assert {s["kind"] for s in lines[0]["symbols"]} == {"payment_token"}
