"""The confusion picture: a count grid for a few classes, a bar chart of the most confused pairs for many.

With at most ``GRID_LIMIT`` classes involved (true or predicted) every cell is readable, so the
grid is drawn (rows true, columns predicted, shaded by the share of the row). Beyond that a
700 x 700 grid says nothing at a glance, so the ``PAIRS`` largest true -> predicted counts are
drawn as horizontal bars labelled with the class names.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ..render import BACKGROUND, _font, colour_bar, save_image, stack
from .confusion import confusion_matrix, most_confused

GRID_LIMIT = 20
PAIRS = 20
NAME_CHARS = 32  # longer class names are cut with an ellipsis
INK = (0, 0, 0)
LINE = (200, 200, 200)
BAR = (33, 102, 172)
PAD = 6


def write_confusion_picture(
    path: Path, truth: np.ndarray, predicted: np.ndarray, class_names: Sequence[str], *, pairs: int = PAIRS
) -> Path:
    """Save the confusion picture of true and predicted class indices (``.png`` or ``.jpg``)."""
    return save_image(confusion_picture(truth, predicted, class_names, pairs=pairs), path)


def confusion_picture(
    truth: np.ndarray, predicted: np.ndarray, class_names: Sequence[str], *, pairs: int = PAIRS
) -> Image.Image:
    """A grid when at most ``GRID_LIMIT`` classes are involved, else the ``pairs`` most confused pairs."""
    matrix = confusion_matrix(truth, predicted, len(class_names))
    involved = np.flatnonzero(matrix.sum(axis=0) + matrix.sum(axis=1)).tolist()
    if len(involved) <= GRID_LIMIT:
        return _grid(matrix[np.ix_(involved, involved)], [class_names[i] for i in involved])
    return _pair_bars(matrix, class_names, pairs)


def _short(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"


def _grid(matrix: np.ndarray, names: Sequence[str]) -> Image.Image:
    """Rows true, columns predicted, each cell its count, shaded by its share of the row."""
    font = _font(12)
    labels = [_short(n) for n in names]
    label_w = int(max(font.getlength(s) for s in labels)) + 2 * PAD
    cell = max(30, int(font.getlength(str(int(matrix.max())))) + 2 * PAD)
    title_h = 2 * PAD + 14
    n = len(names)
    width = max(label_w + n * cell + PAD, int(font.getlength(_GRID_TITLE)) + 2 * PAD)
    canvas = Image.new("RGB", (width, title_h + label_w + n * cell + PAD), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    draw.text((PAD, PAD), _GRID_TITLE, fill=INK, font=font)
    top = title_h + label_w
    rows = np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    for c, text in enumerate(labels):  # column labels, turned to read upwards
        strip = Image.new("RGB", (label_w, cell), BACKGROUND)
        ImageDraw.Draw(strip).text((label_w - PAD, cell // 2), text, fill=INK, font=font, anchor="rm")
        canvas.paste(strip.rotate(90, expand=True), (label_w + c * cell, title_h))
    for r in range(n):
        y = top + r * cell
        draw.text((label_w - PAD, y + cell // 2), labels[r], fill=INK, font=font, anchor="rm")
        for c in range(n):
            x = label_w + c * cell
            share = float(matrix[r, c] / rows[r, 0])
            fill = tuple(int(v) for v in _shades()[round(share * 255)])
            draw.rectangle((x, y, x + cell, y + cell), fill=fill, outline=LINE)
            if matrix[r, c]:
                ink = BACKGROUND if share > 0.5 else INK
                draw.text((x + cell // 2, y + cell // 2), str(int(matrix[r, c])), fill=ink, font=font, anchor="mm")
    scale = colour_bar(_shades(), title="cell colour: its share of the row (the true class's inputs)", low="0%",
                       high="100%", width=max(120, min(320, n * cell)))  # fmt: skip
    return stack(canvas, scale)


def _shades() -> np.ndarray:
    """The grid's colours: white (no input) to ``BAR`` (all the row's inputs), ``[256, 3]`` uint8."""
    share = np.linspace(0.0, 1.0, 256)[:, None]
    return np.round(255 + share * (np.array(BAR) - 255)).astype(np.uint8)


_GRID_TITLE = "confusion matrix: rows true class, columns predicted class"


def _pair_bars(matrix: np.ndarray, class_names: Sequence[str], limit: int) -> Image.Image:
    """One bar per true -> predicted pair, longest first, with the count at the bar's end."""
    font = _font(12)
    found = most_confused(matrix, limit)
    wrong = int(matrix.sum() - np.trace(matrix))
    title = f"most confused pairs (true -> predicted): top {len(found)}, {wrong} of {int(matrix.sum())} videos wrong"
    labels = [f"{_short(class_names[p.true])} -> {_short(class_names[p.predicted])}" for p in found]
    label_w = (int(max(font.getlength(s) for s in labels)) + 2 * PAD) if labels else 0
    row_h, bar_w, title_h = 20, 360, 2 * PAD + 14
    count_w = int(font.getlength(str(found[0].count))) + 2 * PAD if found else 0
    width = max(label_w + bar_w + count_w + PAD, int(font.getlength(title)) + 2 * PAD)
    canvas = Image.new("RGB", (width, title_h + max(len(found), 1) * row_h + PAD), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    draw.text((PAD, PAD), title, fill=INK, font=font)
    if not found:
        draw.text((PAD, title_h + row_h // 2), "no confusions: every video is right", fill=INK, font=font, anchor="lm")
    for i, (pair, text) in enumerate(zip(found, labels)):
        middle = title_h + i * row_h + row_h // 2
        length = max(1, round(bar_w * pair.count / found[0].count))
        draw.text((label_w - PAD, middle), text, fill=INK, font=font, anchor="rm")
        draw.rectangle((label_w, middle - 7, label_w + length, middle + 7), fill=BAR)
        draw.text((label_w + length + PAD, middle), str(pair.count), fill=INK, font=font, anchor="lm")
    return canvas
