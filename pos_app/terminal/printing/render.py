"""A receipt Document as a picture (PNG, and the raster an ESC/POS printer prints) or a PDF.

Both draw the same rows with the same Japanese font: left text from the left margin, amounts
flush right, emphasis as bold, the title and total larger, rules as thin lines. The PDF embeds
a subset of the font (fpdf2), so the text is selectable and prints the same everywhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from pos_app.terminal.printing.document import Document, Row
from pos_app.terminal.printing.fonts import japanese_font


@dataclass(frozen=True, slots=True)
class Paper:
    width_mm: int  # 58 or 80
    columns: int  # font A half-width columns: what a text-mode line holds
    dots: int  # printable width in dots at 203 dpi

    @staticmethod
    def of(width_mm: int) -> Paper:
        if width_mm == 58:
            return Paper(58, 32, 384)
        if width_mm == 80:
            return Paper(80, 48, 576)
        raise ValueError(f"paper width {width_mm} mm is not supported: use 58 or 80")


_FONT_PX = 24  # the printer's own font A is 12x24 dots: the raster reads the same size
_BIG_PX = 36
_MARGIN = 4


def _font(row: Row, *, scale: float) -> ImageFont.FreeTypeFont:
    face = japanese_font(bold=row.bold)
    size = round((_BIG_PX if row.big else _FONT_PX) * scale)
    return _load(face.path, face.index, size)


_CACHE: dict[tuple[Path, int, int], ImageFont.FreeTypeFont] = {}


def _load(path: Path, index: int, size: int) -> ImageFont.FreeTypeFont:
    key = (path, index, size)
    if key not in _CACHE:
        _CACHE[key] = ImageFont.truetype(str(path), size=size, index=index)
    return _CACHE[key]


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` (by character: Japanese has no spaces)."""
    lines, current = [], ""
    for ch in text:
        if current and font.getlength(current + ch) > width:
            lines.append(current)
            current = ch.lstrip() if ch == " " else ch
        else:
            current += ch
    return [*lines, current]


def render_image(doc: Document, *, paper: Paper, scale: float = 1.0) -> Image.Image:
    """Greyscale picture of the receipt, ``paper.dots * scale`` pixels wide."""
    width = round(paper.dots * scale)
    margin = round(_MARGIN * scale)
    usable = width - 2 * margin
    placed: list[tuple[int, Row, list[str], ImageFont.FreeTypeFont, int]] = []
    y = margin
    for row in doc.rows:
        font = _font(row, scale=scale)
        line_h = round(font.size * 1.3)
        if row.rule:
            placed.append((y, row, [], font, line_h // 2))
            y += line_h // 2
            continue
        right_w = font.getlength(row.right) if row.right else 0
        lines = _wrap(row.left, font, usable) if row.left else [""]
        if right_w and font.getlength(lines[-1]) + right_w + font.size > usable:
            lines.append("")  # the amount goes on a line of its own
        placed.append((y, row, lines, font, line_h))
        y += line_h * len(lines)
    image = Image.new("L", (width, y + margin), 255)
    draw = ImageDraw.Draw(image)
    for top, row, lines, font, line_h in placed:
        if row.rule:
            mid = top + line_h // 2
            draw.line([(margin, mid), (width - margin, mid)], fill=0, width=max(1, round(scale)))
            continue
        for i, text in enumerate(lines):
            x = (width - font.getlength(text)) / 2 if row.center else margin
            draw.text((x, top + i * line_h), text, font=font, fill=0)
        if row.right:
            last = top + (len(lines) - 1) * line_h
            draw.text(
                (width - margin - font.getlength(row.right), last), row.right, font=font, fill=0
            )
    return image


def write_png(doc: Document, path: Path, *, paper: Paper) -> None:
    render_image(doc, paper=paper, scale=2.0).save(path, format="PNG")


_PT_NORMAL = 8.5
_PT_BIG = 12.5
_PT_MM = 0.3528  # millimetres per point
_LEADING = 1.35


def _pdf_row_height(pdf: Any, row: Row, usable: float) -> float:
    """Height of one row as :func:`render_pdf` lays it out (the page is cut to fit)."""
    size = _PT_BIG if row.big else _PT_NORMAL
    pdf.set_font("jp", "", size)
    h = float(size * _PT_MM * _LEADING)
    if row.rule:
        return h
    lines = max(1, math.ceil(pdf.get_string_width(row.left) / usable))
    right_w = pdf.get_string_width(row.right) if row.right else 0.0
    if row.right and pdf.get_string_width(row.left) > usable - right_w - 2.0:
        lines += 1
    return float(h * lines)


def render_pdf(doc: Document, *, paper: Paper) -> bytes:
    """The receipt as a PDF page as wide as the paper, with the font subset embedded."""
    from fpdf import FPDF  # imported here: only the PDF path needs it
    from fpdf.enums import TextMode

    # One face only: loading and subsetting a CJK face costs seconds, so bold is drawn by
    # stroking the regular glyphs (the PDF's text render mode), as printers embolden too.
    regular = japanese_font()
    margin = 3.0
    width = float(paper.width_mm)
    usable = width - 2 * margin
    pdf = FPDF(unit="mm", format=(width, 100.0))
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(margin, margin, margin)
    pdf.set_title(doc.title)
    pdf.set_creator("pos-app")
    pdf.add_font("jp", "", str(regular.path), collection_font_number=regular.index)
    height = 2 * margin + sum(_pdf_row_height(pdf, row, usable) for row in doc.rows)
    pdf.add_page(format=(width, height))
    pdf.set_line_width(0.12)
    for row in doc.rows:
        size = _PT_BIG if row.big else _PT_NORMAL
        pdf.set_font("jp", "", size)
        pdf.text_mode = TextMode.FILL_STROKE if row.bold else TextMode.FILL
        h = size * _PT_MM * _LEADING
        if row.rule:
            y = pdf.get_y() + h / 2
            pdf.line(margin, y, width - margin, y)
            pdf.ln(h)
            continue
        right_w = pdf.get_string_width(row.right) if row.right else 0.0
        left_w = usable - right_w - (2.0 if right_w else 0.0)
        if row.right and pdf.get_string_width(row.left) > left_w:
            pdf.multi_cell(usable, h, row.left, new_x="LMARGIN", new_y="NEXT")
            pdf.cell(usable, h, row.right, align="R", new_x="LMARGIN", new_y="NEXT")
            continue
        if row.right:
            pdf.cell(left_w, h, row.left)
            pdf.cell(usable - left_w, h, row.right, align="R", new_x="LMARGIN", new_y="NEXT")
        else:
            align = "C" if row.center else "L"
            pdf.multi_cell(usable, h, row.left, align=align, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
