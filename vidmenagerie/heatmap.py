"""Attention maps as pictures: colormaps, overlays on frames, heatmaps, threshold masks and contours.

Maps are upsampled to the frame size with nearest neighbours, so every patch shows as the
``p x p`` square it covers (no smoothing suggests detail the model does not have). For
display each row of maps (one head, or their mean, over the whole clip) is scaled from its
own minimum to its own maximum, so temporal slots stay comparable within a row; the saved
arrays are never scaled.

Colormaps need no plotting library: ``viridis``, ``magma``, ``inferno``, ``plasma`` and
``turbo`` are 17 colour stops, least-squares fits to matplotlib's 256-entry tables (linearly
interpolated, within 4.5/255 of them per channel); ``jet`` is its piecewise-linear definition
and ``gray`` the identity. Any other matplotlib colormap name works when matplotlib is installed.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

# 17 stops at 0, 1/16, ..., 1: a least-squares piecewise-linear fit to matplotlib's table.
_STOPS: dict[str, str] = {
    "viridis": "440154 48186b 472d7c 424086 3b528b 33638e 2c728e 26818e 20908d "
    "1e9f89 26ae81 3dbc74 5cc963 81d44d abdc32 d5e217 fee721",
    "magma": "000002 090821 1c1246 350f6c 51117d 691c81 822682 9c2e80 b6367a "
    "d04070 e75063 f5695b fc8760 fea570 fec387 fde0a1 fcfdbf",
    "inferno": "000002 0a0723 200d4b 3d0867 570f6e 70196e 89226a a32b62 bb3655 "
    "d14545 e45932 f1711f fa8d07 fcab0c faca31 f0e964 f9ffa6",
    "plasma": "0f0787 320597 4c03a1 6600a8 7e02a8 9511a2 a92396 bb3587 cb4778 "
    "d9596a e66c5c f07f4f f89441 fdab33 fec327 f9dd25 f0f926",
    "turbo": "31133e 4140a4 476be6 4493ff 28bcee 14ddc3 2ef29a 6cfe62 a4fe39 "
    "ccee33 efd13b ffaf36 fc8022 ed510e d33004 ad1601 7b0302",
}
# jet as defined: per channel, (position, level) corners of a piecewise-linear ramp.
_JET: tuple[tuple[tuple[float, float], ...], ...] = (
    ((0.0, 0.0), (0.35, 0.0), (0.66, 1.0), (0.89, 1.0), (1.0, 0.5)),
    ((0.0, 0.0), (0.125, 0.0), (0.375, 1.0), (0.64, 1.0), (0.91, 0.0), (1.0, 0.0)),
    ((0.0, 0.5), (0.11, 1.0), (0.34, 1.0), (0.65, 0.0), (1.0, 0.0)),
)
COLORMAPS: tuple[str, ...] = (*_STOPS, "jet", "gray")

STYLES: tuple[str, ...] = ("overlay", "heatmap")
THRESHOLD_STYLES: tuple[str, ...] = ("contour", "mask")
ALPHA = 0.5  # overlay: weight of the colour against the frame
DIM = 0.3  # threshold mask: brightness kept outside the kept patches
CONTOUR = (255, 255, 255)  # threshold contour colour, drawn with a dark edge to show on any frame
CONTOUR_EDGE = (0, 0, 0)


@lru_cache(maxsize=16)
def colormap_table(name: str) -> np.ndarray:
    """The colormap ``name`` as a ``[256, 3]`` uint8 table (ValueError naming the choices if unknown)."""
    x = np.linspace(0.0, 1.0, 256)
    if name in _STOPS:
        stops = np.array([[int(c[i : i + 2], 16) for i in (0, 2, 4)] for c in _STOPS[name].split()], dtype=float)
        at = np.linspace(0.0, 1.0, len(stops))
        table = np.stack([np.interp(x, at, stops[:, k]) for k in range(3)], axis=1)
    elif name == "jet":
        ramps = [np.array(corners).T for corners in _JET]  # [positions, levels] per channel
        table = 255 * np.stack([np.interp(x, at, level) for at, level in ramps], axis=1)
    elif name == "gray":
        table = 255 * np.repeat(x[:, None], 3, axis=1)
    else:
        table = _matplotlib_table(name, x)
    return np.clip(np.round(table), 0, 255).astype(np.uint8)


def _matplotlib_table(name: str, x: np.ndarray) -> np.ndarray:
    known = f"use one of {', '.join(COLORMAPS)}"
    try:
        import matplotlib  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        raise ValueError(f"unknown colormap {name!r}; {known} (or install matplotlib for its colormaps)") from None
    try:
        return 255 * matplotlib.colormaps[name](x)[:, :3]
    except (KeyError, ValueError):
        raise ValueError(f"unknown colormap {name!r}; {known}, or a matplotlib colormap name") from None


def colorize(values: np.ndarray, name: str) -> np.ndarray:
    """Values in [0, 1] (any shape) to uint8 colours ``[..., 3]`` through the colormap ``name``."""
    index = np.clip(np.round(np.nan_to_num(values) * 255), 0, 255).astype(np.intp)
    return colormap_table(name)[index]


def scale_rows(maps: np.ndarray) -> np.ndarray:
    """``[R, S, h, w]`` maps scaled to [0, 1] per row (min to max over the whole clip); flat rows become 0."""
    low = maps.min(axis=(1, 2, 3), keepdims=True)
    span = maps.max(axis=(1, 2, 3), keepdims=True) - low
    return np.where(span > 0, (maps - low) / np.where(span > 0, span, 1), 0.0)


def upsample(maps: np.ndarray, height: int, width: int) -> np.ndarray:
    """Nearest-neighbour upsampling of ``[..., h, w]`` to ``[..., height, width]`` (one square per patch)."""
    h, w = maps.shape[-2:]
    return maps.repeat(height // h, axis=-2).repeat(width // w, axis=-1)


def contour(mask: np.ndarray, width: int = 1) -> np.ndarray:
    """Pixels of a boolean ``[..., H, W]`` mask within ``width`` pixels of its border (inside it; the
    picture's edge counts as border, so outlines close)."""
    inner = np.pad(mask, [(0, 0)] * (mask.ndim - 2) + [(1, 1), (1, 1)])
    for _ in range(width):
        shrunk = inner.copy()
        shrunk[..., 1:, :] &= inner[..., :-1, :]
        shrunk[..., :-1, :] &= inner[..., 1:, :]
        shrunk[..., :, 1:] &= inner[..., :, :-1]
        shrunk[..., :, :-1] &= inner[..., :, 1:]
        inner = shrunk
    return mask & ~inner[..., 1:-1, 1:-1]


def render_rows(
    frames: np.ndarray,
    maps: np.ndarray,
    *,
    style: str = "overlay",
    colormap: str = "inferno",
    masks: np.ndarray | None = None,
    threshold_style: str = "contour",
) -> list[np.ndarray]:
    """One strip per map row: ``frames`` ``[S, H, W, 3]`` uint8 and ``maps`` ``[R, S, h, w]`` -> R x ``[S, H, W, 3]``.

    ``overlay`` blends the colormap onto the frame, ``heatmap`` shows the colours alone. With
    ``masks`` (``[R, S, h, w]`` bool, from a threshold), ``contour`` outlines the kept patches
    and ``mask`` dims everything outside them.
    """
    if style not in STYLES:
        raise ValueError(f"style must be one of {', '.join(STYLES)}, got {style!r}")
    if threshold_style not in THRESHOLD_STYLES:
        raise ValueError(f"threshold style must be one of {', '.join(THRESHOLD_STYLES)}, got {threshold_style!r}")
    height, width = frames.shape[1:3]
    colours = colorize(upsample(scale_rows(maps), height, width), colormap).astype(np.float32)
    base = frames[None].astype(np.float32)
    images = (1 - ALPHA) * base + ALPHA * colours if style == "overlay" else colours
    if masks is not None:
        kept = upsample(masks, height, width)
        if threshold_style == "mask":
            images = np.where(kept[..., None], images, DIM * images)
        else:
            line = max(1, min(height, width) // 112)
            edge = contour(kept, 2 * line)
            images = np.where(edge[..., None], np.array(CONTOUR_EDGE, np.float32), images)
            images = np.where(contour(kept, line)[..., None], np.array(CONTOUR, np.float32), images)
    return list(np.clip(np.round(images), 0, 255).astype(np.uint8))
