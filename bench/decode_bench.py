"""Decoder benchmark over the shared QR photo set (issue 4 figures).

    .venv/bin/python -m bench.decode_bench [--data ../shared/benchdata/qr-photos] [--phone]

For each configuration: read rate over the photos with an expected text, wrong
reads, false positives on the negative folders, and median / p95 decode time.
Every image is decoded twice: as stored ("as-is", sizes 240x240 to 1037 px),
and placed into a 640x480 camera frame ("frame": images larger than 640x480
are scaled down to fit, smaller ones are centred unscaled, the border is
filled by replicating the image edge). Times include the grayscale
conversion, on one core of the shared build machine.

Comparing texts: the expected ``.txt`` is read as bytes and decoded as UTF-8;
a read is correct when a decoder's text equals it exactly (no stripping, no
normalisation; CR/LF and trailing spaces count) or when the decoder's raw
bytes equal the file's bytes. So Shift_JIS or ECI-tagged symbols compare as
Unicode text, and binary payloads (control bytes, GS1 group separators)
compare byte for byte. A "wrong read" is an image where any reported symbol
differs from the expected text. Known label errors are listed in ERRATA and
reported separately instead of silently fixed.

``--phone`` also runs the generated phone-screen set (bench/scan_phone_frames.py).
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from pos_app.scanning.cascade import DecodeCascade
from pos_app.scanning.config import DecoderConfig
from pos_app.scanning.decoders import make_decoder
from pos_app.scanning.symbols import Symbol

ROOT = Path(__file__).resolve().parent.parent

DEFAULT_DATA = ROOT.parent / "shared" / "benchdata" / "qr-photos"

# Label errors in the data set, kept visible: file -> why its label is wrong.
ERRATA = {
    "zxing-qrcode-2/13.png": "label says 'photograph of'; the symbol and zxing-cpp's copy of "
    "the same photo (zxingcpp-qrcode-2/13.webp) say 'photography of'",
}
# The "double QR" photo shows a QR code inside another; the two copies of the
# photo in the set are labelled with different ones, so either text is right.
ALTERNATES = {
    "zxing-qrcode-2/16.png": "zxingcpp-qrcode-2/16.txt",
    "zxingcpp-qrcode-2/16.webp": "zxing-qrcode-2/16.txt",
}


@dataclass
class Sample:
    name: str
    image: np.ndarray
    expected: bytes | None  # None: a negative (no code must be reported)
    alternate: bytes | None = None


@dataclass
class Tally:
    positives: int = 0
    read: int = 0
    wrong: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    errata: list[str] = field(default_factory=list)
    negatives: int = 0
    false_positives: list[str] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    read_names: set[str] = field(default_factory=set)

    def row(self, label: str) -> str:
        rate = 100.0 * self.read / max(1, self.positives)
        median = statistics.median(self.ms)
        p95 = float(np.percentile(self.ms, 95))
        cpu_median = statistics.median(self.cpu_ms)
        return (
            f"| {label} | {rate:.1f}% ({self.read}/{self.positives}) | {len(self.wrong)} "
            f"| {len(self.errata)} | {len(self.extra)} "
            f"| {len(self.false_positives)}/{self.negatives} | {median:.2f} | {p95:.2f} "
            f"| {cpu_median:.2f} |"
        )


def load_samples(data: Path) -> list[Sample]:
    samples = []
    with (data / "manifest.csv").open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            image = cv2.imread(str(data / row["file"]), cv2.IMREAD_UNCHANGED)
            if image is None:
                print(f"cannot load {row['file']}", file=sys.stderr)
                continue
            if image.dtype != np.uint8:
                image = (image / 257).astype(np.uint8)
            expected = None
            if row["expected_text_file"]:
                expected = (data / row["expected_text_file"]).read_bytes()
            alternate = None
            if row["file"] in ALTERNATES:
                alternate = (data / ALTERNATES[row["file"]]).read_bytes()
            samples.append(Sample(row["file"], image, expected, alternate))
    return samples


def in_camera_frame(image: np.ndarray, width: int = 640, height: int = 480) -> np.ndarray:
    h, w = image.shape[:2]
    scale = min(1.0, width / w, height / h)
    if scale < 1.0:
        image = cv2.resize(image, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA)
        h, w = image.shape[:2]
    top, left = (height - h) // 2, (width - w) // 2
    # Fill with the image's own edge colour: replicating edge pixels would smear
    # modules of tightly cropped codes across their quiet zone.
    edge = np.concatenate([image[0].reshape(-1), image[-1].reshape(-1)])
    fill = [int(np.median(edge))] * (image.shape[2] if image.ndim == 3 else 1)
    return cv2.copyMakeBorder(
        image, top, height - h - top, left, width - w - left, cv2.BORDER_CONSTANT, value=fill
    )


def matches(symbol: Symbol, expected: bytes) -> bool:
    if symbol.raw == expected:
        return True
    try:
        return symbol.text == expected.decode("utf-8")
    except UnicodeDecodeError:
        return False


def run(cascade: DecodeCascade, samples: list[Sample], *, framed: bool) -> Tally:
    tally = Tally()
    cascade.decode(np.zeros((480, 640), np.uint8))  # warm-up
    for sample in samples:
        image = in_camera_frame(sample.image) if framed else sample.image
        cpu = time.thread_time()
        result = cascade.decode(image)
        tally.cpu_ms.append((time.thread_time() - cpu) * 1000.0)
        tally.ms.append(result.ms)
        if sample.expected is None:
            tally.negatives += 1
            if result.symbols:
                tally.false_positives.append(sample.name)
            continue
        tally.positives += 1
        texts = [sample.expected] + ([sample.alternate] if sample.alternate else [])
        good = [s for s in result.symbols if any(matches(s, t) for t in texts)]
        if good:
            tally.read += 1
            tally.read_names.add(sample.name)
            if len(good) < len(result.symbols):
                tally.extra.append(sample.name)  # e.g. the inner code of a double QR
        elif result.symbols:
            (tally.errata if sample.name in ERRATA else tally.wrong).append(sample.name)
    return tally


def single(name: str) -> DecodeCascade:
    """One decoder alone once over the whole image: no regions, no fallbacks."""
    config = DecoderConfig(
        budget_ms=0.0,
        near_miss_budget_ms=0.0,  # nor the grid of a code it saw but could not read
        formats=("qr", "ean13", "ean8", "upca", "upce"),
    )
    return DecodeCascade(config, decoders=[make_decoder(name, formats=config.formats)])


def shipped(**changes: object) -> DecodeCascade:
    """The shipped cascade, exactly as ``scan-image`` and the live scanner run it."""
    return DecodeCascade(replace(DecoderConfig(), **changes))  # type: ignore[arg-type]


SHIPPED = "**shipped cascade**"
CONFIGS: list[tuple[str, Callable[[], DecodeCascade]]] = [
    ("zxing alone", lambda: single("zxing")),
    ("pyzbar alone", lambda: single("pyzbar")),
    ("zxing-smooth alone", lambda: single("zxing-smooth")),
    (SHIPPED, shipped),
    ("shipped, no time budget", lambda: shipped(budget_ms=1000.0)),
    ("shipped, no regions", lambda: shipped(max_regions=0)),
    ("shipped without pyzbar", lambda: shipped(cascade=("zxing", "zxing-smooth"))),
    ("shipped without zxing-smooth", lambda: shipped(cascade=("zxing", "pyzbar"))),
]

HEADER = (
    "| configuration | read rate | wrong | label errata | extra symbol | false positives "
    "| median ms | p95 ms | median CPU ms |\n|---|---|---|---|---|---|---|---|---|"
)


def report(samples: list[Sample], *, framed: bool, only: set[str] | None) -> dict[str, Tally]:
    title = "640x480 camera frames" if framed else "images as stored"
    print(f"\n### {title}\n\n{HEADER}")
    tallies = {}
    for label, factory in CONFIGS:
        if only and label not in only:
            continue
        tally = run(factory(), samples, framed=framed)
        tallies[label] = tally
        print(tally.row(label), flush=True)
    return tallies


def details(tallies: dict[str, Tally], samples: list[Sample], *, framed: bool) -> None:
    ship = tallies.get(SHIPPED)
    if ship is None:
        return
    negatives = [ms for ms, s in zip(ship.ms, samples, strict=True) if s.expected is None]
    print(
        f"\nShipped cascade ({'frames' if framed else 'as stored'}): no-code frames "
        f"median {statistics.median(negatives):.1f} ms, p95 {np.percentile(negatives, 95):.1f} ms; "
        f"wrong {ship.wrong}; errata {ship.errata}; extra {ship.extra}; "
        f"false positives {ship.false_positives}"
    )
    for label, tally in tallies.items():
        gained = sorted(tally.read_names - ship.read_names)
        if gained and label != SHIPPED:
            print(f"- {label} reads {len(gained)} the shipped cascade misses: {gained}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--only", action="append", help="run only these configuration labels")
    parser.add_argument("--phone", action="store_true", help="also run the phone-screen set")
    parser.add_argument("--no-photos", action="store_true", help="skip the photo set")
    args = parser.parse_args(argv)
    from bench.scan_hard_bench import pin_one_core

    pin_one_core()
    only = set(args.only) if args.only else None
    if not args.no_photos:
        samples = load_samples(args.data)
        positives = sum(1 for s in samples if s.expected is not None)
        print(f"{len(samples)} images: {positives} with a code, {len(samples) - positives} without")
        print(f"shipped config: {DecoderConfig()}")
        for framed in (False, True):
            tallies = report(samples, framed=framed, only=only)
            details(tallies, samples, framed=framed)
    if args.phone:
        from bench.scan_phone_frames import phone_report

        phone_report()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
