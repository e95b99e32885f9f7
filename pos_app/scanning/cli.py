"""``pos-app scan-image`` and ``pos-app scan-video``.

Only argparse at import time; OpenCV and the decoders load inside the handlers
so ``pos-app --version`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TextIO

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class Handler(Protocol):
    def __call__(
        self, args: argparse.Namespace, *, out: TextIO = ..., err: TextIO = ...
    ) -> int: ...


def register(subparsers: Any) -> None:
    image = subparsers.add_parser(
        "scan-image",
        help="decode codes in image files; one JSON line per file with every code found",
        description="Decode payment codes and product barcodes in image files.",
    )
    image.add_argument("files", nargs="+", metavar="FILE", type=Path)
    _add_decoder_option(image)
    image.set_defaults(handler=scan_image)

    video = subparsers.add_parser(
        "scan-video",
        help="run a video file through the scanner; print accepted scans as JSON lines",
        description="Decode a video file frame by frame and print the scans the filter accepts "
        "(media time in seconds).",
    )
    video.add_argument("file", metavar="FILE", type=Path)
    video.add_argument(
        "--all", action="store_true", help="also print rejected frames and ignored codes"
    )
    _add_decoder_option(video)
    video.set_defaults(handler=scan_video)


def _add_decoder_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--decoders",
        default=None,
        metavar="LIST",
        help="comma-separated decoder cascade, e.g. zxing,pyzbar (default: the shipped cascade)",
    )


def _cascade(args: argparse.Namespace, err: TextIO) -> Any:
    from pos_app.scanning.cascade import DecodeCascade
    from pos_app.scanning.config import DecoderConfig

    try:
        # The live scanner's cascade, budget included: what a file reads here, a
        # camera reads from one frame of the same picture.
        config = DecoderConfig()
        if args.decoders:
            names = tuple(name.strip() for name in args.decoders.split(",") if name.strip())
            config = DecoderConfig(cascade=names)
    except ValueError as exc:
        print(f"pos-app: {exc}", file=err)
        return None
    cascade = DecodeCascade(config)
    for name, reason in cascade.unavailable.items():
        print(f"pos-app: decoder {name} unavailable: {reason}", file=err)
    if not cascade.decoders:
        print("pos-app: no decoder available", file=err)
        return None
    return cascade


def _with_cascade(run: Callable[[Any, argparse.Namespace, TextIO, TextIO], int]) -> Handler:
    """A command that needs the live scanner's cascade: usage error (2) when
    no decoder is available, else ``run(cascade, args, out, err)``."""

    def handler(
        args: argparse.Namespace, *, out: TextIO = sys.stdout, err: TextIO = sys.stderr
    ) -> int:
        cascade = _cascade(args, err)
        return EXIT_USAGE if cascade is None else run(cascade, args, out, err)

    return handler


def _scan_image(cascade: Any, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    lines = [_image_line(cascade, path) for path in args.files]
    for line in lines:
        print(json.dumps(line, ensure_ascii=False), file=out)
    return EXIT_FAILED if any("error" in line for line in lines) else EXIT_OK


def _image_line(cascade: Any, path: Path) -> dict[str, Any]:
    """One file's JSON line: every code the cascade reads in it, or why not."""
    from pos_app.scanning.sources import _load_image

    image = _load_image(path) if path.is_file() else None
    if image is None:
        return {"file": str(path), "error": "cannot read image"}
    result = cascade.decode(image)
    symbols = [
        {"kind": s.kind.value, "symbology": s.symbology.value, "text": s.text}
        for s in result.symbols
    ]
    return {"file": str(path), "symbols": symbols, "ms": round(result.ms, 2)}


def _scan_video(cascade: Any, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from pos_app.scanning.errors import ScanError
    from pos_app.scanning.filter import ScanAction, ScanFilter
    from pos_app.scanning.sources import VideoFileSource, iter_frames

    scan_filter = ScanFilter()
    try:
        for frame in iter_frames(VideoFileSource(args.file)):
            decoded = cascade.decode(frame.image, sequence=True)
            events = scan_filter.feed(decoded.symbols, at=frame.timestamp, clear=decoded.clear)
            shown = [e for e in events if args.all or e.action is ScanAction.ACCEPTED]
            for event in shown:
                print(json.dumps(_event_json(event, frame.index), ensure_ascii=False), file=out)
    except ScanError as exc:
        print(f"pos-app: {exc.message}", file=err)
        return EXIT_FAILED
    return EXIT_OK


scan_image = _with_cascade(_scan_image)
scan_video = _with_cascade(_scan_video)


def _event_json(event: Any, frame_index: int) -> dict[str, Any]:
    line: dict[str, Any] = {
        "t": round(event.at, 3),
        "frame": frame_index,
        "action": event.action.value,
        "kind": event.kind.value if event.kind else None,
        "symbology": event.symbology.value if event.symbology else None,
        "text": event.text,
    }
    if event.reason:
        line["reason"], line["message"] = event.reason, event.message
    return line
