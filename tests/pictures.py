"""Reading the pictures the commands write: is a colour scale drawn in them."""

from __future__ import annotations

import numpy as np
from PIL import Image


def colour_ramps(image: Image.Image, table: np.ndarray, *, length: int = 100, tolerance: float = 24) -> list[int]:
    """The rows of ``image`` that hold a colour bar of ``table`` (``[N, 3]``, low to high): a run of
    at least ``length`` pixels, each within ``tolerance`` of a table colour, whose table positions
    climb from the bottom tenth of the table to its top tenth without going back."""
    pixels = np.asarray(image.convert("RGB"), dtype=np.float32)
    colours = np.asarray(table, dtype=np.float32)
    found = []
    for y, row in enumerate(pixels):
        distance = np.linalg.norm(row[:, None, :] - colours[None, :, :], axis=2)  # [W, N]
        index, close = distance.argmin(axis=1), distance.min(axis=1) < tolerance
        start = 0
        for x in range(1, len(row) + 1):
            if x < len(row) and close[x] and close[x - 1] and index[x] >= index[x - 1] - 3:
                continue
            run = index[start:x]
            if x - start >= length and run[0] < len(colours) / 10 and run[-1] > len(colours) * 0.9:
                found.append(y)
                break
            start = x
    return found
