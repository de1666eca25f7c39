"""Pictures and animations from clips: true colours, grids of frames, MP4 and GIF files.

Frames are shown in their true colours: the model's normalisation is undone with the
entry's own mean and std and values are clamped, never stretched per frame.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont
from torch import Tensor

from .batch.outputs import atomic_path
from .preprocess import Preprocessing

PAD = 2
BACKGROUND = (255, 255, 255)


def denormalize(frames: Tensor, preprocessing: Preprocessing) -> np.ndarray:
    """Normalized ``[3, T, H, W]`` frames to uint8 ``[T, H, W, 3]`` in true colours (clamped)."""
    mean = torch.tensor(preprocessing.mean, dtype=torch.float32).view(3, 1, 1, 1)
    std = torch.tensor(preprocessing.std, dtype=torch.float32).view(3, 1, 1, 1)
    pixels = (frames.detach().float().cpu() * std + mean).clamp(0, 1)
    return (pixels * 255).round().to(torch.uint8).permute(1, 2, 3, 0).numpy()


def _font(size: int = 12) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has no sized default font
        return ImageFont.load_default()


def grid_image(
    rows: Sequence[np.ndarray],
    *,
    row_labels: Sequence[str] | None = None,
    column_labels: Sequence[str] | None = None,
    pad: int = PAD,
) -> Image.Image:
    """One picture: each row a ``[N, H, W, 3]`` uint8 strip of frames, optional labels (a row's
    label may have several lines). The labels grow with the frames (12 px for 112 px frames, 24 px
    for 224 px), so they stay readable when a page shows the picture smaller."""
    if not rows:
        raise ValueError("a grid needs at least one row")
    height, width = rows[0].shape[1:3]
    columns = max(r.shape[0] for r in rows)
    size = max(12, height // 9)
    font = _font(size)
    lines = [str(label).split("\n") for label in row_labels] if row_labels else []
    label_w = (max(int(font.getlength(s)) for label in lines for s in label) + 2 * pad) if lines else 0
    label_h = size + 2 * pad if column_labels else 0
    canvas = Image.new(
        "RGB",
        (label_w + columns * (width + pad) + pad, label_h + len(rows) * (height + pad) + pad),
        BACKGROUND,
    )
    draw = ImageDraw.Draw(canvas)
    for r, strip in enumerate(rows):
        top = label_h + pad + r * (height + pad)
        if lines:
            for k, text in enumerate(lines[r]):
                y = top + height // 2 + round((k - (len(lines[r]) - 1) / 2) * size * 1.25)
                draw.text((pad, y), text, fill=(0, 0, 0), font=font, anchor="lm")
        for c in range(strip.shape[0]):
            canvas.paste(Image.fromarray(strip[c]), (label_w + pad + c * (width + pad), top))
    if column_labels:
        for c, text in enumerate(column_labels[:columns]):
            x = label_w + pad + c * (width + pad) + width // 2
            draw.text((x, pad), text, fill=(0, 0, 0), font=font, anchor="mt")
    return canvas


def colour_bar(table: np.ndarray, *, title: str, low: str, high: str, width: int = 320, size: int = 12) -> Image.Image:
    """A colour scale: ``title`` above a bar of ``table``'s colours (``[N, 3]`` uint8, low to high),
    ``low`` and ``high`` under its ends."""
    font = _font(size)
    pad = max(PAD, size // 2)
    bar_h = size + 2
    text_w = max(font.getlength(title), font.getlength(low) + font.getlength(high) + 4 * pad)
    canvas = Image.new("RGB", (int(max(width, text_w)) + 2 * pad, 4 * pad + 2 * size + bar_h), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    draw.text((pad, pad), title, fill=(0, 0, 0), font=font, anchor="la")
    top = 2 * pad + size
    ramp = np.asarray(table, dtype=np.uint8)[np.linspace(0, len(table) - 1, width).round().astype(int)]
    canvas.paste(Image.fromarray(np.ascontiguousarray(np.repeat(ramp[None], bar_h, axis=0))), (pad, top))
    draw.rectangle((pad - 1, top - 1, pad + width, top + bar_h), outline=(0, 0, 0))
    draw.text((pad, top + bar_h + pad // 2), low, fill=(0, 0, 0), font=font, anchor="la")
    draw.text((pad + width, top + bar_h + pad // 2), high, fill=(0, 0, 0), font=font, anchor="ra")
    return canvas


def stack(*images: Image.Image) -> Image.Image:
    """Pictures one below the other, left-aligned on a white canvas (a picture and its colour bar)."""
    canvas = Image.new("RGB", (max(i.width for i in images), sum(i.height for i in images)), BACKGROUND)
    top = 0
    for image in images:
        canvas.paste(image, (0, top))
        top += image.height
    return canvas


def save_image(image: Image.Image, path: Path) -> Path:
    """Save atomically; the format follows the suffix (``.jpg`` gets quality 95)."""
    fmt = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG"}.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: unsupported image format (use .jpg or .png)")
    with atomic_path(path) as tmp:
        image.save(tmp, format=fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    return path


def panel_grid(
    panels: Sequence[np.ndarray], labels: Sequence[str], *, columns: int | None = None, pad: int = PAD
) -> np.ndarray:
    """``[T, H, W, 3]`` panels laid out in a grid, each under its label: ``[T, H', W', 3]`` uint8.

    An animation of many panels (the frames and 16 heads) reads as a grid, not as a strip 17
    panels wide; ``columns`` defaults to a grid about 16:9. Both sides come out even (H.264's
    yuv420p needs that), padded with white. The labels are drawn once and shared by every frame.
    """
    count = len(panels)
    frames, height, width = panels[0].shape[:3]
    if columns is None:
        columns = min(count, max(1, math.ceil(math.sqrt(count * 16 / 9 * height / width))))
    rows = math.ceil(count / columns)
    font = _fitting_font(labels, width, largest=max(14, height // 9))
    band = int(getattr(font, "size", 11)) + 2 * pad
    cell_w, cell_h = width + pad, band + height + pad
    total_w, total_h = columns * cell_w - pad, rows * cell_h - pad
    canvas = Image.new("RGB", (total_w + total_w % 2, total_h + total_h % 2), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    for i, label in enumerate(labels[:count]):
        x, y = (i % columns) * cell_w, (i // columns) * cell_h
        draw.text((x + width // 2, y + band // 2), label, fill=(0, 0, 0), font=font, anchor="mm")
    out = np.repeat(np.asarray(canvas)[None], frames, axis=0)
    for i, panel in enumerate(panels):
        x, y = (i % columns) * cell_w, (i // columns) * cell_h + band
        out[:, y : y + height, x : x + width] = panel
    return out


def _fitting_font(labels: Sequence[str], width: int, largest: int = 14) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """The default font at the largest size up to ``largest`` px at which every label fits ``width`` (at least 7 px)."""
    size = largest
    font = _font(size)
    while size > 7 and max((font.getlength(s) for s in labels), default=0) > width - 2:
        size -= 1
        font = _font(size)
    return font


def write_animation(frames: np.ndarray, path: Path, fps: float) -> Path:
    """Write ``[N, H, W, 3]`` uint8 frames as MP4 (H.264) or GIF, by the path's suffix."""
    suffix = path.suffix.lower()
    if suffix == ".gif":
        with atomic_path(path) as tmp:
            images = [Image.fromarray(f) for f in frames]
            duration = max(int(round(1000 / fps)), 20)
            images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], duration=duration, loop=0)
        return path
    if suffix != ".mp4":
        raise ValueError(f"{path}: unsupported animation format (use .mp4 or .gif)")
    import av

    even = frames[:, : frames.shape[1] // 2 * 2, : frames.shape[2] // 2 * 2]  # yuv420p needs even sizes
    with atomic_path(path) as tmp, av.open(str(tmp), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height = even.shape[2], even.shape[1]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "18", "preset": "veryfast"}
        for frame in even:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
