"""A receipt Document as the bytes of one ESC/POS job: initialise, print, cut.

Japanese goes to the printer one of two ways (setting ``[printer] japanese``):

- ``kanji`` (default): Shift_JIS (CP932) text in the printer's Kanji mode (``FS &``, code
  system ``FS C 1``, Japan character set ``ESC R 8`` so 0x5C prints as ¥). Japanese models
  (Epson TM-T88 ...-J, TM-T20 Japanese, Star mC-Print3 JP) carry Kanji fonts in ROM: this is
  fast, sharp and what they are sold for.
- ``raster``: the receipt drawn with the embedded Noto Sans CJK JP and sent as a ``GS v 0``
  raster image. Works on any ESC/POS printer, including export models without a Kanji ROM,
  at the cost of a larger, slower job.

python-escpos builds the commands (init, emphasis, alignment, raster, cut); its ``Dummy``
printer collects them, so the same bytes go to TCP, USB or a test.
"""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

from platformdirs import user_cache_dir

from pos_app.terminal.printing.document import Document, Row
from pos_app.terminal.printing.render import Paper, render_image

KANJI_ON = b"\x1c\x26"  # FS &: Kanji character mode
KANJI_SJIS = b"\x1c\x43\x01"  # FS C 1: Shift_JIS code system
CHARSET_JAPAN = b"\x1b\x52\x08"  # ESC R 8: international character set Japan (0x5C = ¥)


def width(text: str) -> int:
    """Columns a text takes in font A: full-width (Kanji, kana) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cut_to(text: str, columns: int) -> tuple[str, str]:
    used = 0
    for i, ch in enumerate(text):
        w = width(ch)
        if used + w > columns:
            return text[:i], text[i:]
        used += w
    return text, ""


def layout(row: Row, columns: int) -> list[str]:
    """One row as text lines of at most ``columns`` columns (halved for double width)."""
    cols = columns // 2 if row.big else columns
    if row.rule:
        return ["-" * cols]
    lines: list[str] = []
    rest = row.left
    while width(rest) > cols:
        head, rest = _cut_to(rest, cols)
        lines.append(head)
    gap = cols - width(rest) - width(row.right)
    if row.right and gap < 1:
        lines.append(rest)
        lines.append(" " * (cols - width(row.right)) + row.right)
    elif row.right:
        lines.append(rest + " " * gap + row.right)
    else:
        lines.append(rest)
    return lines


def encode_cp932(text: str) -> bytes:
    """Shift_JIS bytes for the printer; ¥ is 0x5C under ESC R 8, unknown characters print '?'."""
    return b"".join(b"\x5c" if ch == "¥" else ch.encode("cp932", errors="replace") for ch in text)


if TYPE_CHECKING:
    from escpos.printer import Dummy


def _dummy() -> Dummy:
    # python-escpos pickles its printer profiles at import, into a new temporary folder each
    # time unless told where: keep one cache for the till's account.
    cache = Path(user_cache_dir("pos-app")) / "escpos"
    cache.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", str(cache))
    from escpos.printer import Dummy

    return Dummy(profile="TM-T88V")


def _printer(paper: Paper) -> Dummy:
    printer = _dummy()
    # The profile's width is the 80 mm one; tell it the paper's, so raster width checks hold.
    printer.profile.profile_data["media"]["width"]["pixels"] = paper.dots
    printer.hw("INIT")
    return printer


def text_job(doc: Document, *, paper: Paper) -> bytes:
    printer = _printer(paper)
    printer._raw(CHARSET_JAPAN + KANJI_ON + KANJI_SJIS)
    for row in doc.rows:
        printer.set(
            align="center" if row.center else "left",
            bold=row.bold,
            double_width=row.big,
            double_height=row.big,
            normal_textsize=not row.big,
        )
        for line in layout(row, paper.columns):
            printer._raw(encode_cp932(line) + b"\n")
    printer.set(normal_textsize=True, align="left", bold=False)
    printer.cut()
    return bytes(printer.output)


def raster_job(doc: Document, *, paper: Paper) -> bytes:
    printer = _printer(paper)
    image = render_image(doc, paper=paper).convert("1")
    printer.image(image, impl="bitImageRaster")
    printer.cut()
    return bytes(printer.output)


def job_bytes(doc: Document, *, paper: Paper, japanese: str) -> bytes:
    return raster_job(doc, paper=paper) if japanese == "raster" else text_job(doc, paper=paper)
