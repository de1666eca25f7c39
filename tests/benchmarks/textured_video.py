"""The benchmarks' input: a textured, moving 720p scene encoded like real footage (not a benchmark itself)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np


def make_textured_video(
    path: Path,
    *,
    seconds: int = 10,
    seed: int = 0,
    width: int = 1280,
    height: int = 720,
    bit_rate: int = 5_000_000,
    preset: str = "medium",
) -> Path:
    """H.264 at ``bit_rate`` with one keyframe every 250 frames (reused if ``path`` exists)."""
    if path.exists():
        return path
    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 40, (height + 64, width + 64, 1), dtype=np.uint8)
    yy, xx = np.mgrid[0:height, 0:width]
    tmp = path.with_suffix(".part.mp4")
    with av.open(str(tmp), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.bit_rate = bit_rate
        stream.options = {"g": "250", "keyint_min": "250", "sc_threshold": "0", "preset": preset}
        for i in range(seconds * 30):
            image = np.empty((height, width, 3), np.uint8)
            image[..., 0] = (xx + (5 + seed) * i) % 256
            image[..., 1] = (yy + 3 * i) % 256
            image[..., 2] = ((xx // 40 + yy // 40 + i // 10) % 2) * 180
            image += noise[i % 64 : i % 64 + height, (2 * i) % 64 : (2 * i) % 64 + width]
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())
    tmp.rename(path)
    return path
