"""The demo clip shipped with the package, and the code that made it.

``vidmenagerie/data/demo.mp4`` is generated, not filmed: 5 s at 30 fps, 320x240, H.264
(libx264, CRF 26, preset slow, yuv420p, a keyframe every 2 s, faststart), no audio. The scene:
a sky gradient over a scrolling striped ground (a slow camera pan), a red ball bouncing under
gravity, a blue square sliding across while it turns, and a green triangle weaving along a sine
path, all drawn with soft edges in numpy. Regenerate it (bit-identical for a given FFmpeg and
x264, since the encoder runs on one thread) with::

    python -m vidmenagerie.video.demo            # rewrites the packaged file
    python -m vidmenagerie.video.demo out.mp4    # or anywhere else
"""

from __future__ import annotations

import sys
from importlib.resources import files
from pathlib import Path

import numpy as np

from vidmenagerie.errors import VideoError
from vidmenagerie.video.probe import import_av

WIDTH, HEIGHT, FPS, SECONDS = 320, 240, 30, 5


def demo_video_path() -> Path:
    """Path of the packaged demo video (``vidmenagerie/data/demo.mp4``)."""
    path = Path(str(files("vidmenagerie") / "data" / "demo.mp4"))
    if not path.is_file():
        raise VideoError(f"{path}: demo video missing from the installation (run python -m vidmenagerie.video.demo)")
    return path


def make_demo_video(path: str | Path) -> Path:
    """Write the demo video to ``path`` (see the module docstring for what it shows)."""
    av = import_av()
    path = Path(path)
    with av.open(str(path), "w", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"crf": "26", "preset": "slow", "g": str(2 * FPS), "threads": "1"}
        for index in range(FPS * SECONDS):
            frame = av.VideoFrame.from_ndarray(demo_frame(index / FPS), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def demo_frame(t: float) -> np.ndarray:
    """The scene at ``t`` seconds, as an RGB uint8 [HEIGHT, WIDTH, 3] image."""
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    horizon = 0.62 * HEIGHT
    sky = np.stack([90 + 80 * y / horizon, 140 + 70 * y / horizon, 230 - 20 * y / horizon], axis=-1)
    stripes = 0.5 + 0.5 * np.sin((x + 40 * t) / 9.0 + 0.15 * (y - horizon))
    ground = np.stack([110 + 50 * stripes, 90 + 40 * stripes, 50 + 20 * stripes], axis=-1)
    image = np.where((y < horizon)[..., None], sky, ground)

    # red ball bouncing under gravity, period 1.25 s
    phase = (t % 1.25) / 1.25
    ball_y = horizon - 18 - 110 * 4 * phase * (1 - phase)
    ball_x = 40 + 48 * t
    image = _paint(image, _soft(18 - np.hypot(x - ball_x, y - ball_y)), (220, 40, 40))

    # blue square sliding right to left while it turns
    cx, cy, angle = WIDTH - 30 - 52 * t, 0.35 * HEIGHT, 0.9 * t
    u = (x - cx) * np.cos(angle) + (y - cy) * np.sin(angle)
    v = -(x - cx) * np.sin(angle) + (y - cy) * np.cos(angle)
    image = _paint(image, _soft(22 - np.maximum(np.abs(u), np.abs(v))), (40, 70, 210))

    # green triangle weaving along a sine path
    tx, ty = 30 + 56 * t, 0.8 * HEIGHT + 14 * np.sin(2 * np.pi * 0.6 * t)
    triangle = [(tx, ty - 20), (tx - 20, ty + 14), (tx + 20, ty + 14)]
    image = _paint(image, _soft(_polygon_distance(x, y, triangle)), (40, 190, 70))
    return np.clip(image, 0, 255).astype(np.uint8)


def _polygon_distance(x: np.ndarray, y: np.ndarray, vertices: list[tuple[float, float]]) -> np.ndarray:
    """Signed distance to a convex polygon's edges (positive inside), pixel by pixel."""
    cx, cy = np.mean(vertices, axis=0)
    distance = np.full(x.shape, np.inf, np.float32)
    for (ax, ay), (bx, by) in zip(vertices, vertices[1:] + vertices[:1]):
        length = np.hypot(bx - ax, by - ay)
        side = ((bx - ax) * (y - ay) - (by - ay) * (x - ax)) / length
        inward = np.sign((bx - ax) * (cy - ay) - (by - ay) * (cx - ax))
        distance = np.minimum(distance, inward * side)
    return distance


def _soft(signed_distance: np.ndarray) -> np.ndarray:
    """Coverage [0, 1] of a shape from a signed distance (positive inside), one-pixel edge."""
    return np.clip(signed_distance + 0.5, 0.0, 1.0)[..., None]


def _paint(image: np.ndarray, coverage: np.ndarray, color: tuple[int, int, int]) -> np.ndarray:
    """Blend a solid ``color`` over ``image`` where ``coverage`` says."""
    return image * (1 - coverage) + np.asarray(color, np.float32) * coverage


if __name__ == "__main__":  # pragma: no cover - regeneration entry point
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parents[1] / "data" / "demo.mp4"
    print(make_demo_video(target))
