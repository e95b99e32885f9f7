"""Per-frame benchmark on the generated counter scenes (issue 18).

    .venv/bin/python -m bench.scan_hard_bench [--split holdout] [--per-slice 30]

Every frame is decoded by every configuration in turn (interleaved, so the
shared machine's load hits them alike), pinned to one CPU with OpenCV on one
thread. "payment"/"product": share of codes of that kind read, over the
frames of the slice; "frames": share of frames where every code was read;
"wrong": symbols reported that are not in the frame (any text that differs
from the truth, e.g. a partly seen EAN-13 read as another code);
"false pos.": frames of the negative slice with any symbol.
"""

from __future__ import annotations

import argparse
import importlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from bench.scan_scenes import SLICES, SPLITS, Scene, scenes
from pos_app.scanning.cascade import DecodeCascade, to_gray
from pos_app.scanning.config import DecoderConfig
from pos_app.scanning.decoders import ZxingDecoder
from pos_app.scanning.symbols import Symbol

ROOT = Path(__file__).resolve().parent.parent

Reader = Callable[[np.ndarray], list[Symbol]]


def pin_one_core() -> None:
    """One core, one thread: the figure the issue asks for, and comparable rows."""
    cv2.setNumThreads(1)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})


@dataclass
class Tally:
    codes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    read: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    frames: int = 0
    frames_full: int = 0
    wrong: list[str] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)

    def rate(self, kind: str) -> str:
        if not self.codes[kind]:
            return "-"
        return f"{100 * self.read[kind] / self.codes[kind]:.0f}%"


def plain_zxing() -> Reader:
    """The baseline: zxing-cpp once over the whole frame, product formats included."""
    decoder = ZxingDecoder(formats=("qr", "ean13", "ean8"))

    def read(image: np.ndarray) -> list[Symbol]:
        from pos_app.scanning.symbols import classify

        return [classify(raw, decoder="zxing") for raw in decoder.decode(to_gray(image))]

    return read


def upscaled_zxing() -> Reader:
    """The issue's reference: zxing-cpp over 2x, then 3x upscales of the whole frame."""
    decoder = ZxingDecoder(formats=("qr", "ean13", "ean8"))

    def read(image: np.ndarray) -> list[Symbol]:
        from pos_app.scanning.symbols import classify

        gray = to_gray(image)
        for factor in (2.0, 3.0):
            big = np.asarray(
                cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC),
                np.uint8,
            )
            found = decoder.decode(big)
            if found:
                return [classify(r, decoder="zxing", scale=factor) for r in found]
        return []

    return read


def cascade(config: DecoderConfig | None = None) -> Reader:
    shipped = DecodeCascade(config or DecoderConfig())
    return lambda image: list(shipped.decode(image).symbols)


CONFIGS: dict[str, Callable[[], Reader]] = {
    "plain zxing (baseline)": plain_zxing,
    "zxing 2x/3x upscales": upscaled_zxing,
    "16 ms budget only": lambda: cascade(DecoderConfig(near_miss_budget_ms=16.0)),
    "shipped cascade": cascade,
    "shipped, no time budget": lambda: cascade(
        DecoderConfig(budget_ms=1000.0, near_miss_budget_ms=1000.0)
    ),
}
DEFAULT_CONFIGS = [
    "plain zxing (baseline)",
    "zxing 2x/3x upscales",
    "16 ms budget only",
    "shipped cascade",
]


def reference_module(rev: str) -> Any:
    """``pos_app.scanning.cascade`` as it was at git revision ``rev`` (e.g.
    ``main``), loaded beside the current one under another package name, so a
    change is measured against what it replaces in the same run."""
    target = Path(tempfile.mkdtemp(prefix="scan-ref-"))
    package = f"ref_scanning_{abs(hash(rev)) % 10**8}"
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "pos_app/scanning"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    (target / "pos_app" / "scanning").rename(target / package)
    for source in (target / package).glob("*.py"):
        text = source.read_text(encoding="utf-8").replace("pos_app.scanning", package)
        source.write_text(text, encoding="utf-8")
    sys.path.insert(0, str(target))
    return importlib.import_module(f"{package}.cascade")


def reference_cascade(rev: str) -> Callable[[], Reader]:
    module = reference_module(rev)

    def make() -> Reader:
        old = module.DecodeCascade()
        return lambda image: list(old.decode(image).symbols)

    return make


def score(tally: Tally, scene: Scene, symbols: list[Symbol]) -> None:
    texts = {s.text for s in symbols}
    truth_texts = {t.text for t in scene.truths}
    tally.frames += 1
    for truth in scene.truths:
        tally.codes[truth.kind] += 1
        tally.read[truth.kind] += truth.text in texts
    tally.frames_full += truth_texts <= texts if scene.truths else not texts
    tally.wrong += [f"{scene.slice}: {t[:20]}" for t in texts - truth_texts]


def run(frames: list[Scene], names: list[str]) -> dict[str, dict[str, Tally]]:
    readers = {name: CONFIGS[name]() for name in names}
    for reader in readers.values():
        reader(np.zeros((480, 640, 3), np.uint8))  # warm-up
    results: dict[str, dict[str, Tally]] = {n: defaultdict(Tally) for n in names}
    for scene in frames:
        for name, reader in readers.items():
            start, cpu = time.perf_counter(), time.thread_time()
            symbols = reader(scene.image)
            tally = results[name][scene.slice]
            tally.ms.append((time.perf_counter() - start) * 1000)
            tally.cpu_ms.append((time.thread_time() - cpu) * 1000)
            score(tally, scene, symbols)
    return results


def table(results: dict[str, dict[str, Tally]], slices: list[str]) -> None:
    names = list(results)
    print("| slice | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for name in slices:
        cells = []
        for config in names:
            t = results[config][name]
            if name == "negative":
                cells.append(f"{len(t.wrong)} false pos. / {t.frames}")
                continue
            kinds = [k for k in ("payment", "product") if t.codes[k]]
            rate = " ".join(t.rate(k) for k in kinds)
            cells.append(f"{rate} ({100 * t.frames_full / t.frames:.0f}% frames)")
        print(f"| {name} | " + " | ".join(cells) + " |")
    summary(results, slices)


def summary(results: dict[str, dict[str, Tally]], slices: list[str]) -> None:
    print(
        "\n| configuration | payment | product | wrong | false pos. | 640x480 median ms "
        "(CPU) | 640x480 p95 ms (CPU) | 1280x720 median ms (CPU) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for config, per_slice in results.items():
        total = Tally()
        small: list[tuple[float, float]] = []
        big: list[tuple[float, float]] = []
        for name in slices:
            t = per_slice[name]
            for kind in ("payment", "product"):
                total.codes[kind] += t.codes[kind]
                total.read[kind] += t.read[kind]
            if name != "negative":
                total.wrong += t.wrong
            (big if SLICES[name].size[0] > 640 else small).extend(zip(t.ms, t.cpu_ms, strict=True))
        fps = len(per_slice["negative"].wrong) if "negative" in per_slice else 0
        print(
            f"| {config} | {total.rate('payment')} | {total.rate('product')} "
            f"| {len(total.wrong)} | {fps} | {_ms(small, 50)} | {_ms(small, 95)} | {_ms(big, 50)} |"
        )
        if total.wrong:
            print(f"|  wrong: {total.wrong[:6]} |")


def _ms(pairs: list[tuple[float, float]], q: float) -> str:
    if not pairs:
        return "-"
    wall, cpu = zip(*pairs, strict=True)
    return f"{np.percentile(wall, q):.1f} ({np.percentile(cpu, q):.1f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=tuple(SPLITS), default="holdout")
    parser.add_argument("--per-slice", type=int, default=30)
    parser.add_argument("--slices", nargs="*", default=None)
    parser.add_argument("--configs", nargs="*", default=DEFAULT_CONFIGS)
    parser.add_argument(
        "--reference",
        metavar="REV",
        help="also run the cascade as it was at this git revision (e.g. main), same frames",
    )
    args = parser.parse_args(argv)
    if args.reference:
        name = f"cascade at {args.reference}"
        CONFIGS[name] = reference_cascade(args.reference)
        args.configs = [*args.configs[:-1], name, args.configs[-1]]
    pin_one_core()
    slices = args.slices or list(SLICES)
    frames = scenes(args.split, per_slice=args.per_slice, slices=slices)
    print(f"split {args.split}: {len(frames)} frames, {args.per_slice} per slice\n")
    table(run(frames, args.configs), slices)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
