"""Video-sequence benchmark: time from a code entering the view to an accepted scan.

    .venv/bin/python -m bench.scan_video_bench [--split holdout] [--clips 3]
    .venv/bin/python -m bench.scan_video_bench --split fresh2 --clips 3 --breakdown

Each clip is 2 s at 30 fps from the generator in ``scan_scenes.py``: a phone or
a package slides in from the side over 0.4 s (ease-out, smeared by motion blur
of half its per-frame travel: a 16 ms exposure), then is held with a 1-2 px
tremor. "Entered" is the first frame whose code outline lies wholly inside the
picture. The live scanner is simulated as it runs (``ScanWorker``): the
decoder takes the newest frame that has arrived, decodes it (its measured CPU
time on one core advances the simulated clock: frames that arrive meanwhile
are dropped, as in the one-slot mailbox), and the live ``ScanFilter`` decides.
A scan is accepted at the simulated time its deciding decode finished.

Also: "two phones" clips (two payment codes held up together) must never pay;
the per-frame read rate over the frames after entry is reported beside it.
``--breakdown`` prints, clip by clip, where the time from entry to acceptance
goes (the slide, the first readable frame, the worker, the filter).
"""

from __future__ import annotations

import argparse
import math
import random
import time
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from bench.scan_hard_bench import pin_one_core, reference_module
from bench.scan_scenes import SLICES, SPLITS, Motion, Scene, holdout, make_scene
from pos_app.scanning.cascade import DecodeCascade
from pos_app.scanning.filter import ScanAction, ScanFilter
from pos_app.scanning.symbols import Symbol, SymbolKind, Symbology

ROOT = Path(__file__).resolve().parent.parent

FPS = 30.0
FRAMES = 60
ENTRY_FRAMES = 12
CLIP_SLICES = [
    "phone-clean",
    "phone-glare",
    "phone-moire",
    "phone-small",
    "phone-overexposed",
    "phone-tilt",
    "phone-finger",
    "phone-720p",
    "pkg-clean",
    "pkg-curved",
    "pkg-creased",
    "pkg-diagonal",
    "pkg-finger",
    "pkg-small",
]


@dataclass
class Clip:
    slice: str
    frames: list[Scene]
    entered: int | None  # index of the first frame with every code wholly in view
    blur_px: tuple[float, ...] = ()  # each frame's motion smear (0.5 x its travel)


def inside(scene: Scene) -> bool:
    h, w = scene.image.shape[:2]
    return bool(scene.quads) and all(
        q[:, 0].min() >= 0 and q[:, 1].min() >= 0 and q[:, 0].max() < w and q[:, 1].max() < h
        for q in scene.quads
    )


def clip(name: str, split: str, index: int) -> Clip:
    look = SLICES[name] if split == "tune" else holdout(SLICES[name])
    look = replace(look, motion_px=0.0)  # motion comes from the clip itself
    seed = f"video-{SPLITS[split]}-{name}-{index}"
    tremor = random.Random(seed + "-tremor")
    start = -(look.size[0] * 0.75)
    direction = random.Random(seed).choice([1, -1])
    frames, previous, blurs = [], start, []
    for i in range(FRAMES):
        progress = min(1.0, i / ENTRY_FRAMES)
        x = start * (1 - progress) ** 2  # ease-out: fast in, slowing to rest
        x += tremor.uniform(-2, 2) if progress >= 1 else 0.0
        y = tremor.uniform(-1.5, 1.5)
        travel = abs(x - previous)
        previous = x
        move = Motion((direction * x, y), blur_px=0.5 * travel, angle=0.0, noise_seed=i)
        blurs.append(move.blur_px)
        frames.append(make_scene(name, look, random.Random(seed), split=split, motion_of=move))
    entered = next((i for i, f in enumerate(frames) if inside(f)), None)
    return Clip(name, frames, entered, tuple(blurs))


@dataclass
class Outcome:
    accepted_ms: float | None  # from entry to the accepting decode's end
    wrong: int
    frames_after_entry: int
    frames_read: int
    # from the end of the first decode that read the code to the acceptance:
    # what the filter's second agreeing frame costs
    second_read_ms: float | None = None
    # frame indexes (for ``--breakdown``): the first decoded frame whose read of
    # the truth counts towards acceptance (not ``moving``), the accepting frame
    first_counting: int | None = None
    accept_frame: int | None = None
    decoded: tuple[int, ...] = ()  # the frames the simulated worker decoded


def simulate(item: Clip, cascade: Any, *, sequence: bool = True) -> Outcome:
    """The worker's newest-frame loop on a simulated clock driven by CPU time.
    ``sequence``: the cascade tracks codes from frame to frame, as the live
    worker's does; False is the cascade without tracking (each frame alone)."""
    cascade.decode(np.zeros((8, 8), np.uint8))  # a fresh clip: forget earlier tracks
    scan_filter = ScanFilter()
    truths = {t.text for f in item.frames for t in f.truths}
    now, last, wrong = 0.0, -1, 0
    accepted: float | None = None
    first_read: float | None = None
    read = decoded_after = 0
    first_counting = accept_frame = None
    decoded: list[int] = []
    while True:
        arrived = min(len(item.frames) - 1, int(now * FPS + 1e-9))
        if arrived <= last:
            if last == len(item.frames) - 1:
                break
            now = (last + 1) / FPS  # idle until the next frame arrives
            continue
        frame = item.frames[arrived]
        cpu = time.thread_time()
        result = cascade.decode(frame.image, sequence=sequence)
        now += time.thread_time() - cpu
        last = arrived
        decoded.append(arrived)
        texts = {s.text for s in result.symbols}
        if first_counting is None and any(
            s.text in truths and not s.moving for s in result.symbols
        ):
            first_counting = arrived
        if item.entered is not None and arrived >= item.entered:
            decoded_after += 1
            read += bool(texts & truths)
        if first_read is None and texts & truths:
            first_read = now
        clear = bool(getattr(result, "clear", False))  # an older cascade: never
        for event in scan_filter.feed(result.symbols, at=arrived / FPS, clear=clear):
            if event.action is not ScanAction.ACCEPTED:
                continue
            if event.text not in truths:
                wrong += 1
            elif accepted is None and item.entered is not None:
                accepted = max(0.0, now - item.entered / FPS) * 1000
                accept_frame = arrived
    second = None
    if accepted is not None and first_read is not None and item.entered is not None:
        second = accepted - max(0.0, first_read - item.entered / FPS) * 1000
    return Outcome(
        accepted, wrong, decoded_after, read, second, first_counting, accept_frame, tuple(decoded)
    )


def two_phone_clip(split: str, index: int) -> Clip:
    return clip("phone-two", split, index)


class _Reference:
    """The cascade of an earlier revision, decoding each frame as that
    revision's live worker did (with ``sequence`` where it had it). Its
    symbols are rebuilt as this revision's ``Symbol`` (the reference is loaded
    under another package name, so its enums are other classes, which the
    filter would not recognise)."""

    def __init__(self, rev: str) -> None:
        self._cascade = reference_module(rev).DecodeCascade()

    def decode(self, image: np.ndarray, *, sequence: bool = False) -> Any:
        try:
            result = self._cascade.decode(image, sequence=sequence)
        except TypeError:  # before tracking: no ``sequence``
            result = self._cascade.decode(image)
        symbols = tuple(
            Symbol(
                SymbolKind(s.kind.value),
                Symbology(s.symbology.value),
                s.text,
                s.raw,
                s.corners,
                s.decoder,
                bool(getattr(s, "moving", False)),
            )
            for s in result.symbols
        )
        return SimpleNamespace(symbols=symbols)


def report(
    split: str,
    clips: int,
    reference: str | None = None,
    *,
    alone: bool = True,
    slices: list[str] | None = None,
) -> None:
    shipped = DecodeCascade()
    cascades: dict[str, tuple[Any, bool]] = {}
    if reference:
        cascades[f"cascade at {reference} (tracking)"] = (_Reference(reference), True)
    if alone:
        cascades["each frame alone (no tracking)"] = (shipped, False)
    cascades["shipped (tracking)"] = (shipped, True)
    rows: dict[str, dict[str, list[Outcome]]] = {name: {} for name in cascades}
    for name in slices or CLIP_SLICES:
        for i in range(clips):
            item = clip(name, split, i)
            for config, (cascade, sequence) in cascades.items():  # interleaved: same load
                outcome = simulate(item, cascade, sequence=sequence)
                rows[config].setdefault(name, []).append(outcome)
    for config, per_slice in rows.items():
        print(f"#### {config}\n")
        table(per_slice)
    for config, (cascade, sequence) in cascades.items():
        paid = 0
        for i in range(clips):
            outcome = simulate(two_phone_clip(split, i), cascade, sequence=sequence)
            paid += outcome.accepted_ms is not None
        print(f"{config}: two-phone clips that paid: {paid}/{clips} (must be 0)")


def table(rows: dict[str, list[Outcome]]) -> None:
    print("| clip slice | accepted | median ms to accept | worst ms | frames read after entry |")
    print("|---|---|---|---|---|")
    times: list[float] = []
    for name, outcomes in rows.items():
        got = [o.accepted_ms for o in outcomes if o.accepted_ms is not None]
        times += got
        after = sum(o.frames_after_entry for o in outcomes)
        read = sum(o.frames_read for o in outcomes)
        median = f"{np.median(got):.0f}" if got else "-"
        worst = f"{max(got):.0f}" if got else "-"
        print(
            f"| {name} | {len(got)}/{len(outcomes)} | {median} | {worst} "
            f"| {100 * read / max(1, after):.0f}% |"
        )
    outs_all = [o for outs in rows.values() for o in outs]
    total = len(outs_all)
    missing = total - len(times)
    # A clip never accepted counts as slower than any accepted one (nearest rank).
    padded = sorted(times + [math.inf] * missing)
    wrong = sum(o.wrong for outs in rows.values() for o in outs)
    within = sum(1 for t in times if t <= 500)
    print(
        f"\nclips {total}, accepted {len(times)}, within 500 ms {within}, time to accept "
        f"median {_rank(padded, 50)}, p90 {_rank(padded, 90)}, p95 {_rank(padded, 95)}, "
        f"wrong accepted {wrong}"
    )
    slow = [
        f"{name} #{index} " + ("never" if o.accepted_ms is None else f"{o.accepted_ms:.0f} ms")
        for name, outcomes in rows.items()
        for index, o in enumerate(outcomes)
        if o.accepted_ms is None or o.accepted_ms > 500
    ]
    print(f"clips over 500 ms or never accepted: {', '.join(slow) or 'none'}")
    seconds = [o.second_read_ms for o in outs_all if o.second_read_ms is not None]
    if seconds:
        print(
            f"first read to acceptance (the second agreeing frame): median "
            f"{np.median(seconds):.0f} ms, max {max(seconds):.0f} ms\n"
        )


def _rank(ordered: list[float], q: float) -> str:
    value = ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]
    return "not accepted within the clip" if math.isinf(value) else f"{value:.0f} ms"


def every_frame(split: str, clips: int, reference: str | None = None) -> int:
    """Decode every frame of every clip in sequence (not only those the
    simulated worker takes) and print any text that is not the clip's truth,
    and how many frames read the truth. With ``reference``, the cascade at
    that git revision decodes the same frames too (each with its own tracks)."""
    cascades: dict[str, Any] = {"shipped": DecodeCascade()}
    if reference:
        cascades[f"at {reference}"] = reference_module(reference).DecodeCascade()
    wrong = dict.fromkeys(cascades, 0)
    right = dict.fromkeys(cascades, 0)
    frames = 0
    for name in CLIP_SLICES:
        for i in range(clips):
            item = clip(name, split, i)
            truths = {t.text for f in item.frames for t in f.truths}
            for cascade in cascades.values():
                cascade.decode(np.zeros((8, 8), np.uint8))  # forget the last clip's tracks
            for index, frame in enumerate(item.frames):
                frames += 1
                for label, cascade in cascades.items():
                    texts = {s.text for s in cascade.decode(frame.image, sequence=True).symbols}
                    right[label] += bool(texts & truths)
                    for text in sorted(texts - truths):
                        wrong[label] += 1
                        print(f"{label}: {name} clip {i} frame {index}: wrong {text[:20]}")
    for label in cascades:
        print(
            f"every frame decoded ({label}): {frames} frames, {right[label]} with a right "
            f"read, {wrong[label]} wrong texts"
        )
    return wrong["shipped"]


def first_readable(item: Clip, cascade: DecodeCascade) -> tuple[int | None, int | None]:
    """Every frame decoded in sequence: the first frame with any read of the
    truth, and the first whose read counts towards acceptance (not ``moving``)."""
    cascade.decode(np.zeros((8, 8), np.uint8))
    truths = {t.text for f in item.frames for t in f.truths}
    any_read = counting = None
    for index, frame in enumerate(item.frames):
        symbols = [
            s for s in cascade.decode(frame.image, sequence=True).symbols if s.text in truths
        ]
        if symbols and any_read is None:
            any_read = index
        if any(not s.moving for s in symbols):
            counting = index
            break
    return any_read, counting


def breakdown(split: str, clips: int, slices: list[str] | None = None) -> None:
    """Where the time from entry to acceptance goes, clip by clip, in frames
    (33 ms each): entry to the end of the slide (no more smear), entry to the
    first frame any decode reads (every frame decoded) and to the first whose
    read counts, the simulated worker's first counting read and its
    acceptance."""
    cascade = DecodeCascade()
    print(
        "| clip | entered | smear at entry px | slide ends | first read (any) | first counting "
        "read | worker: first counting | worker: accepted | ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    parts: dict[str, list[float]] = {}
    for name in slices or CLIP_SLICES:
        for i in range(clips):
            item = clip(name, split, i)
            entered = item.entered
            if entered is None:
                continue
            settled = next(
                (k for k, b in enumerate(item.blur_px) if k >= entered and b < 1.5), None
            )
            any_read, counting = first_readable(item, cascade)
            outcome = simulate(item, cascade)
            cells = [entered, f"{item.blur_px[entered]:.1f}", settled, any_read, counting]
            cells += [outcome.first_counting, outcome.accept_frame]
            ms = "never" if outcome.accepted_ms is None else f"{outcome.accepted_ms:.0f}"
            print(
                f"| {name} #{i} | "
                + " | ".join("-" if c is None else str(c) for c in cells)
                + f" | {ms} |"
            )
            for key, start, end in (
                ("entry -> slide ends", entered, settled),
                ("entry -> first counting read (every frame)", entered, counting),
                (
                    "first counting read -> worker's first counting read",
                    counting,
                    outcome.first_counting,
                ),
                (
                    "worker's first counting read -> accepting frame",
                    outcome.first_counting,
                    outcome.accept_frame,
                ),
            ):
                if start is not None and end is not None:
                    parts.setdefault(key, []).append(end - start)
            if outcome.accepted_ms is not None:
                parts.setdefault("entry -> accepted (ms)", []).append(outcome.accepted_ms)
    print()
    for key, values in parts.items():
        unit = "" if "(ms)" in key else " frames"
        median, p90 = np.median(values), np.percentile(values, 90)
        print(f"- {key}: median {median:.1f}{unit}, p90 {p90:.1f}{unit} (n={len(values)})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=tuple(SPLITS), default="holdout")
    parser.add_argument("--clips", type=int, default=3, help="clips per slice")
    parser.add_argument("--slices", nargs="*", choices=CLIP_SLICES, help="only these clip slices")
    parser.add_argument("--reference", metavar="REV", help="also run the cascade at this git rev")
    parser.add_argument(
        "--every-frame",
        action="store_true",
        help="only decode every frame of every clip and count wrong texts (exit 1 if any)",
    )
    parser.add_argument(
        "--no-alone",
        action="store_true",
        help="leave out the 'each frame alone (no tracking)' configuration",
    )
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="only print where the time from entry to acceptance goes, clip by clip",
    )
    args = parser.parse_args(argv)
    pin_one_core()
    if args.breakdown:
        breakdown(args.split, args.clips, args.slices)
        return 0
    if args.every_frame:
        return 1 if every_frame(args.split, args.clips, args.reference) else 0
    print(f"split {args.split}, {args.clips} clips per slice, {FRAMES} frames at {FPS:.0f} fps\n")
    report(args.split, args.clips, args.reference, alone=not args.no_alone, slices=args.slices)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
