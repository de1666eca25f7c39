"""The report pages in a real browser: headless Chromium (Debian's ``chromium`` package), driven
over the DevTools pipe (``browser.py``).

Each page kind (complete, attend, embed, evaluate) is built from a real run with a tiny model,
loaded from ``file://`` and checked: no console errors or uncaught exceptions, a screenshot that
shows something, its pictures and animations load, and clicking a heading sorts the rows (up,
then down). A long synthetic embed output checks the pages of 100 rows and that sorting spans
all of them; the embed map checks its points and the colouring switch.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from browser import Browser, find_chromium
from coloured import CLASSES, use_catalog, write_coloured_set
from pictures import colour_ramps
from PIL import Image

from vidmenagerie.catalog import default_catalog
from vidmenagerie.feature_store import EmbedSettings
from vidmenagerie.feature_store.manifest import RowInfo, VideoStatus, write_index, write_videos
from vidmenagerie.heatmap import colormap_table
from vidmenagerie.report import build_report
from vidmenagerie.report.svg import PALETTE
from vidmenagerie.scoring import confusion_picture

from cli import invoke
from videos import moving_frames, write_video

# _BAR_NOTE: vidmenagerie.scoring exports the function confusion_picture under its submodule's name;
# importing the submodule by name first would leave the package attribute the module (and break
# test_scoring's import of the function), so the grid's colour is read through the function.
WIDTH, HEIGHT = 1280, 1600  # the browser window
NARROW = 400  # a phone held upright
FAST = ("--sampling-rate", "2", "--workers", "0")
ODD = "a<b>&\"c'.mp4"  # a name that breaks a page that does not escape it


# --------------------------------------------------------------------------- the browser
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole module; the tests skip where there is none."""
    binary = find_chromium()
    if binary is None:
        pytest.skip(
            "no Chromium on PATH (looked for chromium, chromium-browser, google-chrome, chrome): "
            "install Debian's chromium package (apt-get install chromium) to run the report's browser tests"
        )
    with Browser(binary, width=WIDTH, height=HEIGHT) as opened:
        yield opened


def _open(browser: Browser, page: Path) -> None:
    """Load ``page`` and check that its script ran without a console error or exception."""
    browser.open(page)
    assert browser.errors() == []
    assert browser.evaluate("document.querySelectorAll('table.sortable tbody tr').length") > 0  # the script drew


# --------------------------------------------------------------------------- reading the page
def _heading_index(browser: Browser, table_id: str, heading: str) -> int:
    """The position of the column headed ``heading`` (its text without the sort arrow)."""
    texts = browser.evaluate(f"[...document.querySelectorAll('#{table_id} thead th')].map(th => th.textContent)")
    assert heading in texts, (heading, texts)
    return texts.index(heading)


def _cells(browser: Browser, table_id: str, heading: str) -> list[str]:
    """The texts of one column in the rows drawn now."""
    k = _heading_index(browser, table_id, heading)
    return browser.evaluate(
        f"[...document.querySelectorAll('#{table_id} tbody tr')].map(tr => tr.cells[{k}].textContent)"
    )


def _row_ids(browser: Browser, table_id: str) -> list[int]:
    """The blob rows (``tr[data-row]``) drawn now, in order."""
    return browser.evaluate(f"[...document.querySelectorAll('#{table_id} tbody tr')].map(tr => +tr.dataset.row)")


def _click(browser: Browser, table_id: str, heading: str) -> str:
    """Click a heading; its ``aria-sort`` afterwards (and no other heading has one)."""
    k = _heading_index(browser, table_id, heading)
    marks = browser.evaluate(
        f"(() => {{ const ths = [...document.querySelectorAll('#{table_id} thead th')]; ths[{k}].click();"
        " return ths.map(th => th.getAttribute('aria-sort')); })()"
    )
    assert [m for i, m in enumerate(marks) if i != k] == [None] * (len(marks) - 1), marks
    return marks[k]


def _number(text: str) -> float:
    """A number as a cell shows it (``12.3``, ``4.5e-7``, ``61.2%``)."""
    return float(text.removesuffix("%"))


def _check_sorts(browser: Browser, table_id: str, heading: str, *, numeric: bool) -> None:
    """Clicking ``heading`` puts the rows in ascending order, clicking again in descending order;
    the rows (at least three distinct values) are the same ones, and the order really changes."""
    before_ids = _row_ids(browser, table_id)
    before = _cells(browser, table_id, heading)
    value = _number if numeric else str.casefold
    assert len({value(v) for v in before}) >= 3, before  # else a broken sort could pass
    assert _click(browser, table_id, heading) == "ascending"
    up, up_ids = _cells(browser, table_id, heading), _row_ids(browser, table_id)
    assert [value(v) for v in up] == sorted(value(v) for v in before), up
    assert _click(browser, table_id, heading) == "descending"
    down, down_ids = _cells(browser, table_id, heading), _row_ids(browser, table_id)
    assert [value(v) for v in down] == sorted((value(v) for v in before), reverse=True), down
    assert sorted(up_ids) == sorted(down_ids) == sorted(before_ids)  # the same rows, all drawn
    assert up_ids == down_ids[::-1] and up_ids != down_ids  # distinct values: one order is the other reversed
    assert browser.errors() == []


def _check_screenshot(browser: Browser, path: Path) -> None:
    """A screenshot of the page that is not blank: page-wide, many colours, real contrast."""
    size = browser.evaluate("[document.documentElement.clientWidth, document.documentElement.scrollHeight]")
    assert WIDTH - 20 <= size[0] <= WIDTH  # the window, less a scroll bar
    browser.screenshot(path)
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert list(image.size) == size, (image.size, size)  # the whole page
        pixels = np.asarray(image.convert("RGB"), dtype=np.int32)
    packed = (pixels[..., 0] << 16 | pixels[..., 1] << 8 | pixels[..., 2]).ravel()
    counts = np.bincount(packed)
    assert np.count_nonzero(counts) > 200, np.count_nonzero(counts)  # text, tables and pictures, not a flat page
    assert counts.max() < 0.97 * packed.size  # the background does not cover everything
    assert pixels.std() > 15, pixels.std()
    dark = (pixels.sum(axis=2) < 200).mean()
    assert 0.001 < dark < 0.5, dark  # some dark text on a light page


def _check_media(browser: Browser, section: str) -> None:
    """Every card picture decodes (made eager first: a lazy picture off screen never loads), and
    every animation's metadata loads, with its frame size."""
    images = browser.evaluate(
        f"Promise.all([...document.querySelectorAll('#{section} figure.card img')].map(img => {{"
        " img.loading = 'eager';"
        " return img.decode().then(() => [img.getAttribute('src'), img.naturalWidth],"
        " () => [img.getAttribute('src'), 0]); }))"
    )
    assert images and all(width > 0 for _, width in images), images
    videos = browser.evaluate(
        f"Promise.all([...document.querySelectorAll('#{section} figure.card video')].map(v => new Promise(done => {{"
        " const report = () => done([v.getAttribute('src'), v.readyState, v.videoWidth, v.error && v.error.message]);"
        " if (v.readyState >= 1 || v.error) report();"
        " else { v.addEventListener('loadedmetadata', report); v.addEventListener('error', report); v.load(); }"
        " })))"
    )
    assert videos and all(ready >= 1 and width > 0 and error is None for _, ready, width, error in videos), videos
    assert all(browser.evaluate(f"[...document.querySelectorAll('#{section} figure.card video')].map(v => v.controls)"))
    posters = browser.evaluate(  # a player shows its poster frame (the MP4's first frame) before it plays
        f"Promise.all([...document.querySelectorAll('#{section} figure.card video')].map(v => {{"
        " const img = new Image(); img.src = v.poster;"
        " return img.decode().then(() => [v.getAttribute('poster'), img.naturalWidth, v.videoWidth],"
        " () => [v.getAttribute('poster'), 0, v.videoWidth]); }))"
    )
    assert all(p.endswith(".poster.jpg") and width == video for p, width, video in posters), posters


def _picture_widths(browser: Browser, section: str) -> list[float]:
    """The rendered widths of the card pictures, in CSS pixels."""
    return browser.evaluate(
        f"[...document.querySelectorAll('#{section} figure.card img')].map(i => i.getBoundingClientRect().width)"
    )


def _check_cards(browser: Browser, section: str, count: int) -> None:
    """One card per clip, each with a lazy picture, an animation with controls and a caption."""
    cards = browser.evaluate(
        f"[...document.querySelectorAll('#{section}-cards > figure.card')].map(f => [f.querySelector('img') &&"
        " f.querySelector('img').loading, !!f.querySelector('video[controls]'), f.querySelector('figcaption')"
        ".textContent])"
    )
    assert len(cards) == count, cards
    assert all(lazy == "lazy" and has_video and caption for lazy, has_video, caption in cards), cards
    where = browser.evaluate(f"document.querySelector('div.pager[data-for={section}-cards] span.where').textContent")
    assert where == f"1\u2013{count} of {count}"


def _check_head(browser: Browser, section: str, model: str) -> None:
    head = browser.evaluate(
        f"(() => {{ const s = document.querySelector('section.run#{section}');"
        " return [s.dataset.kind, s.querySelector('table.model').textContent,"
        " !!s.querySelector('table.settings'), s.querySelector('p.when').textContent]; })()"
    )
    assert head[0] == section and model in head[1] and head[2] and head[3], head


# A page's layout as the script measures it: the page's overflow, each table's columns (can the
# last heading be scrolled into view inside its box, is the box inside the window), number cells
# drawn on more than one line, and the cards' left edges.
LAYOUT = """(() => {
  const page = document.documentElement, width = page.clientWidth;
  const tables = [...document.querySelectorAll('table')].filter(t => t.offsetParent !== null).map(t => {
    const box = t.closest('.scroll'), last = [...t.querySelectorAll('tr:first-child > *')].pop();
    if (box) box.scrollLeft = box.scrollWidth;
    const edge = last ? last.getBoundingClientRect().right : 0;
    const frame = (box || t).getBoundingClientRect();
    const shown = edge <= Math.min(frame.right, width) + 1;
    if (box) box.scrollLeft = 0;
    return [t.id || t.className, !!box, shown, Math.round(frame.right), !!box && box.scrollWidth > box.clientWidth];
  });
  const wrapped = [...document.querySelectorAll('td.num, dd.num, ol.ranked li')].filter(c => {
    const range = document.createRange(); range.selectNodeContents(c);
    return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size > 1;
  }).map(c => c.textContent);
  const cards = [...document.querySelectorAll('div.cards')].map(d =>
    [...d.children].map(c => Math.round(c.getBoundingClientRect().left)));
  const over = [...document.querySelectorAll('body *')].filter(e => !e.closest('.scroll')
    && (e.getBoundingClientRect().right > width + 0.5 || e.scrollWidth > e.clientWidth + 1))
    .map(e => e.tagName + '.' + e.className + ' ' + e.scrollWidth + '/' + e.clientWidth);
  return {scroll: page.scrollWidth, width, tables, wrapped, cards, over};
})()"""


def _check_layout(browser: Browser, page: Path) -> dict[str, Any]:
    """The page at 1280 and at 400 px: never wider than the window, every table's last column
    reachable (scrolled inside its box, the box inside the window), no number broken across
    lines; at 400 px the cards stack in one column. Returns the layout at 1280 px; the window is
    wide again afterwards."""
    layouts = {}
    for width in (NARROW, WIDTH):
        browser.resize(width, HEIGHT)
        browser.open(page)
        layout = browser.evaluate(LAYOUT)
        assert layout["scroll"] <= layout["width"], (width, layout["over"], layout)
        tables = layout["tables"]
        assert tables and all(shown and right <= layout["width"] for _, _, shown, right, _ in tables), (width, tables)
        assert layout["wrapped"] == [], (width, layout["wrapped"])
        assert browser.errors() == []
        layouts[width] = layout
    narrow = layouts[NARROW]
    assert all(len(set(lefts)) == 1 for lefts in narrow["cards"]), narrow["cards"]  # one column
    assert any(scrolls for *_, scrolls in narrow["tables"]), narrow["tables"]  # some table is wider than 400 px
    return layouts[WIDTH]


# --------------------------------------------------------------------------- inputs
@pytest.fixture
def videos(tmp_path: Path) -> Path:
    """Three videos of different content (one with an odd name, one in a subfolder) and one broken."""
    root = tmp_path / "videos"
    (root / "sub").mkdir(parents=True)
    write_video(root / "plain.mp4", moving_frames(seed=1))
    write_video(root / "other.mp4", moving_frames(seed=3))
    write_video(root / "sub" / ODD, moving_frames(seed=2))
    (root / "broken.mp4").write_text("this is not a video")
    return root


def _run(*args: object) -> None:
    result = invoke(*args)
    assert result.exit_code == 1, result.output + repr(result.exception)  # 1: broken.mp4 failed, as planned


def _failures(browser: Browser, section: str) -> list[str]:
    return _cells(browser, f"{section}-failures", "input")


# --------------------------------------------------------------------------- one test per page kind
def test_complete_page(browser: Browser, tiny_catalog: Path, videos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _run("complete", videos, "--model", "tiny_mae", "--animate", *FAST, "--out", out)
    page = build_report(out)
    _open(browser, page)
    _check_head(browser, "complete", "tiny_mae")
    assert sorted(_cells(browser, "complete-clips", "video")) == ["other.mp4", "plain.mp4", f"sub/{ODD}"]
    assert _failures(browser, "complete") == ["broken.mp4"]
    _check_cards(browser, "complete", 3)
    _check_media(browser, "complete")
    assert all(width >= 800 for width in _picture_widths(browser, "complete")), _picture_widths(browser, "complete")
    _check_screenshot(browser, tmp_path / "complete.png")
    _check_sorts(browser, "complete-clips", "MSE", numeric=True)
    _check_sorts(browser, "complete-clips", "PSNR (dB)", numeric=True)
    _check_sorts(browser, "complete-clips", "video", numeric=False)
    assert browser.errors() == []
    _check_layout(browser, page)


def test_attend_page(browser: Browser, tiny_catalog: Path, videos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _run("attend", videos, "--model", "tiny_vit", "--heads", "all", "--animate", *FAST, "--out", out)
    page = build_report(out)
    _open(browser, page)
    _check_head(browser, "attend", "tiny_vit")
    assert _failures(browser, "attend") == ["broken.mp4"]
    _check_cards(browser, "attend", 3)
    _check_media(browser, "attend")
    heads = browser.evaluate(  # the per-head rows open from the card's folded list
        "(() => { const d = document.querySelector('#attend-cards details'); d.open = true;"
        " return [...d.querySelectorAll('tr')].map(tr => tr.cells[0].textContent + ' ' + tr.cells[1].textContent);"
        " })()"
    )
    assert [h.split()[:2] for h in heads] == [["head", str(i)] for i in range(4)], heads
    assert all(0 <= _number(h.split()[2]) <= 100 for h in heads), heads
    scale = browser.evaluate(  # the colour bar: the run's colormap (inferno) from dark to light, and its ends
        "(() => { const f = document.querySelector('#attend figure.colourbar'), r = f.querySelector('.ramp');"
        " return [getComputedStyle(r).backgroundImage, r.getBoundingClientRect().width,"
        " [...f.querySelectorAll('.ends span')].map(s => s.textContent), f.querySelector('figcaption').textContent];"
        " })()"
    )
    table = colormap_table("inferno")
    assert scale[0].startswith(f"linear-gradient(to right, {_rgb(table[0])}") and _rgb(table[-1]) in scale[0]
    assert scale[1] > 200 and scale[2] == ["row min", "row max"] and "CLS attention" in scale[3], scale
    notes = browser.evaluate("[...document.querySelectorAll('#attend p.note')].map(p => p.textContent).join(' ')")
    assert ".npy" not in notes and "min to its max" in notes  # no maps were saved: none described
    _check_screenshot(browser, tmp_path / "attend.png")
    _check_sorts(browser, "attend-clips", "its weight", numeric=True)
    _check_sorts(browser, "attend-clips", "video", numeric=False)
    assert browser.errors() == []
    _check_layout(browser, page)


def _fills(browser: Browser) -> list[list[str]]:
    """Per map point: its classes and its computed fill."""
    return browser.evaluate(
        "[...document.querySelectorAll('svg#embed-map circle')].map(c => [c.getAttribute('class'),"
        " getComputedStyle(c).fill])"
    )


def _rgb(colour: str | np.ndarray) -> str:
    """A colour (``#1f77b4``, or ``[r, g, b]``) as computed styles write it."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5)) if isinstance(colour, str) else map(int, colour)
    return f"rgb({r}, {g}, {b})"


def _expected_fill(classes: str, prefix: str) -> str:
    index = next(int(c[1:]) for c in classes.split() if c.startswith(prefix))
    return _rgb(PALETTE[index])


def test_embed_page_map_and_colouring(browser: Browser, tiny_catalog: Path, videos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _run("embed", videos, "--model", "tiny_cls", "--top-k", "2", "--clips", "uniform:2", *FAST,
         "--out", out / "feats.npy")  # fmt: skip
    page = build_report(out)
    record = json.loads((out / "feats.run.json").read_text())
    _open(browser, page)
    _check_head(browser, "embed", "tiny_cls")
    names = _cells(browser, "embed-videos", "video")
    assert sorted(names) == ["broken.mp4", "other.mp4", "plain.mp4", f"sub/{ODD}"]
    assert _failures(browser, "embed") == ["broken.mp4"]
    titles = browser.evaluate(
        "[...document.querySelectorAll('svg#embed-map circle')].map(c => c.querySelector('title').textContent)"
    )
    assert len(titles) == record["counts"]["rows"] == 6  # a point per row: three videos, two clips each
    assert sorted(t.split(" \u00b7 ")[0] for t in titles) == sorted(2 * ["other.mp4", "plain.mp4", f"sub/{ODD}"])
    # coloured by folder first: every point takes its folder's palette colour, the label legend is hidden
    assert browser.evaluate("document.getElementById('embed-mapbox').dataset.by") == "folder"
    by_folder = _fills(browser)
    assert [fill for _, fill in by_folder] == [_expected_fill(c, "f") for c, _ in by_folder]
    assert len({fill for _, fill in by_folder}) == 2  # the top folder and sub/
    legends = "[...document.querySelectorAll('#embed-mapbox ul.legend')].map(u => getComputedStyle(u).display)"
    assert browser.evaluate(legends) == ["flex", "none"]
    switched = browser.evaluate(
        "(() => { const s = document.querySelector('select.colour-by'); s.value = 'label';"
        " s.dispatchEvent(new Event('change')); return document.getElementById('embed-mapbox').dataset.by; })()"
    )
    assert switched == "label"
    by_label = _fills(browser)
    assert [fill for _, fill in by_label] == [_expected_fill(c, "p") for c, _ in by_label]
    assert browser.evaluate(legends) == ["none", "flex"]
    assert all(t.split(" \u00b7 ")[2] in ("zero", "one", "two", "three", "four") for t in titles)
    # the axes: their PC numbers and the share of the variance each holds, as numpy's SVD finds them
    rows = np.load(out / "feats.npy").astype(np.float64)
    centred = rows - rows.mean(axis=0)
    ratio = np.linalg.svd(centred, compute_uv=False) ** 2 / (centred**2).sum()
    axes = browser.evaluate("[...document.querySelectorAll('svg#embed-map text.axis')].map(t => t.textContent)")
    assert axes == [f"PC {k + 1} ({100 * ratio[k]:.1f}% of the variance)" for k in range(2)], (axes, ratio)
    # every point in the table too: its video as its tooltip says, further right for a larger PC 1, higher for PC 2
    circles = browser.evaluate(
        "Object.fromEntries([...document.querySelectorAll('svg#embed-map circle')].map((c, i) => [i,"
        " [+c.getAttribute('cx'), +c.getAttribute('cy'), c.querySelector('title').textContent]]))"
    )
    ids, shown = _row_ids(browser, "embed-points"), _cells(browser, "embed-points", "video")
    assert sorted(ids) == list(range(6)) and len(circles) == 6
    assert all(circles[str(i)][2].startswith(name + " \u00b7 ") for i, name in zip(ids, shown))
    for heading, k, sign in (("PC 1", 0, 1), ("PC 2", 1, -1)):
        values = [float(v) for v in _cells(browser, "embed-points", heading)]
        at = [sign * circles[str(i)][k] for i in ids]
        assert [ids[j] for j in np.argsort(values, kind="stable")] == [ids[j] for j in np.argsort(at, kind="stable")]
    lit = browser.evaluate(  # pointing at a row of the table lights its point up
        "(() => { const tr = document.querySelectorAll('#embed-points tbody tr')[2];"
        " tr.cells[0].dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));"
        " const all = [...document.querySelectorAll('svg#embed-map circle')];"
        " return [+tr.dataset.row, all.flatMap((c, i) => c.classList.contains('hot') ? [i] : [])]; })()"
    )
    assert lit[1] == [lit[0]], lit
    legend = browser.evaluate("[...document.querySelectorAll('ul.legend-folder li')].map(li => li.textContent)")
    assert legend == ["colour = folder:", "videos/ (4)", "sub (2)"], legend  # top-level inputs: the folder's name
    _check_screenshot(browser, tmp_path / "embed.png")
    _check_sorts(browser, "embed-videos", "video", numeric=False)
    assert _click(browser, "embed-videos", "status") == "ascending"
    assert _cells(browser, "embed-videos", "status") == ["failed", "ok", "ok", "ok"]
    assert browser.errors() == []
    _check_layout(browser, page)


def _long_embed(out: Path, videos: int) -> list[int]:
    """A finished ``vidm embed --logits`` output of ``videos`` inputs written directly (no model):
    1 to 4 rows per video, every 50th failed. Returns each video's rows, in input order."""
    entry = default_catalog().get("tiny_cls")
    settings = EmbedSettings.for_model(entry, logits=True)
    (dim,) = settings.feature_shape
    rng = np.random.default_rng(0)
    statuses, index, counts, row = [], [], [], 0
    for i in range(videos):
        video = f"/data/set/class_{i % 7}/video_{i:04d}.mp4"
        if i % 50 == 7:
            statuses.append(VideoStatus(video, "failed", reason="not a readable video (truncated)"))
            counts.append(0)
            continue
        n = 1 + (i * 7919) % 4
        statuses.append(VideoStatus(video, "ok", rows=n, first_row=row, fingerprint="1:2"))
        index += [(video, None, row + k, RowInfo(k, 0, 2.0 * k, 2.0 * k + 2.13)) for k in range(n)]
        counts.append(n)
        row += n
    out.mkdir()
    np.save(out / "feats.npy", rng.standard_normal((row, dim)).astype(np.float32))
    np.save(out / "feats.logits.npy", rng.standard_normal((row, 5)).astype(np.float32))
    write_index(out / "feats.index.csv", index, reduced=False, per_video=False)
    write_videos(out / "feats.videos.csv", statuses, per_video=False)
    ok = sum(s.status == "ok" for s in statuses)
    record = {
        "command": "vidm embed",
        "complete": True,
        "settings": settings.to_dict(),
        "model": entry.to_dict(),
        "layout": "single",
        "counts": {"ok": ok, "failed": videos - ok, "pending": 0, "rows": row},
        "started": "2026-01-01T00:00:00+00:00",
        "seconds": 60.0,
        "versions": {"vidmenagerie": "0.1.0"},
    }
    (out / "feats.run.json").write_text(json.dumps(record))
    return counts


def _where(browser: Browser, table_id: str) -> list[Any]:
    """The pager's text and whether its buttons are disabled."""
    return browser.evaluate(
        f"(() => {{ const p = document.querySelector('div.pager[data-for={table_id}]');"
        " return [p.querySelector('span.where').textContent, p.querySelector('button.prev').disabled,"
        " p.querySelector('button.next').disabled]; })()"
    )


def _press(browser: Browser, table_id: str, button: str) -> None:
    browser.evaluate(f"document.querySelector('div.pager[data-for={table_id}] button.{button}').click()")


def test_long_tables_page_by_100_and_sort_every_row(browser: Browser, tiny_catalog: Path, tmp_path: Path) -> None:
    out = tmp_path / "long"
    counts = _long_embed(out, videos=250)
    page = build_report(out)
    _open(browser, page)
    table = "embed-videos"
    assert browser.evaluate(f"document.getElementById('{table}').dataset.page") == "100"
    assert _where(browser, table) == ["1\u2013100 of 250", True, False]
    assert _row_ids(browser, table) == list(range(100))
    _press(browser, table, "next")
    assert _where(browser, table) == ["101\u2013200 of 250", False, False]
    assert _row_ids(browser, table) == list(range(100, 200))
    assert _cells(browser, table, "video")[0] == "class_2/video_0100.mp4"
    _press(browser, table, "next")
    assert _where(browser, table) == ["201\u2013250 of 250", False, True]
    assert _row_ids(browser, table) == list(range(200, 250))
    _press(browser, table, "prev")
    assert _where(browser, table) == ["101\u2013200 of 250", False, False]
    assert _row_ids(browser, table) == list(range(100, 200))
    # A sort orders all 250 rows, not the page on screen, and starts again at the first page.
    assert _click(browser, table, "rows") == "ascending"
    up = sorted(range(250), key=lambda i: (counts[i], i))  # ties keep the input order
    assert _where(browser, table) == ["1\u2013100 of 250", True, False]
    assert _row_ids(browser, table) == up[:100]
    assert [int(v) for v in _cells(browser, table, "rows")] == [counts[i] for i in up[:100]]
    _press(browser, table, "next")
    assert _row_ids(browser, table) == up[100:200]
    assert _click(browser, table, "rows") == "descending"
    down = sorted(range(250), key=lambda i: (-counts[i], i))
    assert _row_ids(browser, table) == down[:100]
    _press(browser, table, "next")
    _press(browser, table, "next")
    assert _row_ids(browser, table) == down[200:]
    assert set(_cells(browser, table, "rows")) == {"0", "1"}  # the failed videos end the descending order
    assert _cells(browser, "embed-failures", "input")[:2] == ["class_0/video_0007.mp4", "class_1/video_0057.mp4"]
    circles = browser.evaluate("document.querySelectorAll('svg#embed-map circle').length")
    assert circles == sum(counts)  # few enough rows to draw every one
    _check_screenshot(browser, tmp_path / "embed-long.png")
    assert browser.errors() == []


# --------------------------------------------------------------------------- evaluate
LABELS = {"red": ("red", "red", "red"), "green": ("green", "green", "blue"), "blue": ("blue", "red", "red")}
# The true label given to each colour's three videos: red 3/5 right, green 2/2, blue 1/2.
ACCURACY = {"red": 0.6, "green": 1.0, "blue": 0.5}


@pytest.fixture
def labelled_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Coloured videos (``coloured.py``: ``tiny_rgb`` names their colour) with a label table that
    is partly wrong, so the classes' accuracies differ."""
    root, catalog = write_coloured_set(tmp_path, 3)
    use_catalog(monkeypatch, catalog)
    lines = ["path,label"]
    for colour in CLASSES:
        lines += [f"{root / colour / f'{k}.mp4'},{label}" for k, label in enumerate(LABELS[colour])]
    table = tmp_path / "labels.csv"
    table.write_text("\n".join(lines) + "\n")
    return table


def test_evaluate_page(browser: Browser, labelled_table: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke("evaluate", labelled_table, "--model", "tiny_rgb", *FAST, "--out", out)
    assert result.exit_code == 0, result.output + repr(result.exception)
    page = build_report(out)
    _open(browser, page)
    _check_head(browser, "evaluate", "tiny_rgb")
    assert _cells(browser, "evaluate-per-class", "label") == list(CLASSES)
    shown = [_number(v) / 100 for v in _cells(browser, "evaluate-per-class", "accuracy")]
    assert all(math.isclose(s, ACCURACY[c], abs_tol=1e-3) for s, c in zip(shown, CLASSES)), shown
    assert sorted(_cells(browser, "evaluate-misclassified", "input")) == ["blue/1.mp4", "blue/2.mp4", "green/2.mp4"]
    pairs = browser.evaluate(
        "[...document.querySelectorAll('#evaluate-pairs tbody tr')].map(tr => [...tr.cells].map(c => c.textContent))"
    )
    assert pairs == [["red", "blue", "2", "40%"], ["blue", "green", "1", "50%"]], pairs
    confusion = browser.evaluate(
        "(() => { const img = document.querySelector('img.confusion'); img.loading = 'eager';"
        " return img.decode().then(() => img.naturalWidth, () => 0); })()"
    )
    assert confusion > 0
    with Image.open(out / "eval.confusion.png") as picture:  # the grid's colour bar: white to full blue
        bar = np.array(sys.modules[confusion_picture.__module__].BAR)  # the function first: see _BAR_NOTE
        shades = np.round(255 + np.linspace(0, 1, 64)[:, None] * (bar - 255))
        assert colour_ramps(picture, shades)
    _check_screenshot(browser, tmp_path / "evaluate.png")
    _check_sorts(browser, "evaluate-per-class", "accuracy", numeric=True)
    _check_sorts(browser, "evaluate-per-class", "label", numeric=False)
    _check_sorts(browser, "evaluate-misclassified", "input", numeric=False)
    assert browser.errors() == []
    _check_layout(browser, page)


def test_classify_page(browser: Browser, labelled_table: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    inputs = sorted(labelled_table.parent.joinpath("set").rglob("*.mp4"))
    (tmp_path / "broken.mp4").write_text("not a video")
    result = invoke("classify", *inputs, tmp_path / "broken.mp4", "--model", "tiny_rgb", *FAST, "--out", out,
                    "--no-report")  # fmt: skip
    assert result.exit_code == 1, result.output + repr(result.exception)  # 1: broken.mp4 failed, as planned
    assert not (out / "index.html").exists()
    page = build_report(out)  # what vidm report does: the classify page, not an embedding map of views.npy
    _open(browser, page)
    kinds = browser.evaluate("[...document.querySelectorAll('section.run')].map(s => s.dataset.kind)")
    assert kinds == ["classify"] and browser.evaluate("document.querySelectorAll('svg').length") == 0
    _check_head(browser, "classify", "tiny_rgb")
    assert _failures(browser, "classify") == ["broken.mp4"]
    saved = json.loads((out / "classify.json").read_text())
    assert sorted(_cells(browser, "classify-inputs", "input")) == sorted(
        p.relative_to(tmp_path).as_posix() for p in inputs
    )
    images = browser.evaluate(
        "Promise.all([...document.querySelectorAll('#classify-cards figure.card img')].map(img => {"
        " img.loading = 'eager'; return img.decode().then(() => img.naturalWidth, () => 0); }))"
    )
    assert len(images) == len(inputs) and all(width == 56 for width in images), images
    # each card's bars: its top labels in order, each bar as long as its probability
    cards = browser.evaluate(
        "[...document.querySelectorAll('#classify-cards figure.card')].map(f => [f.querySelector('figcaption')"
        ".textContent, [...f.querySelectorAll('ol.bars li')].map(li => [li.querySelector('.label').textContent,"
        " li.querySelector('.track i').getBoundingClientRect().width / li.querySelector('.track')"
        ".getBoundingClientRect().width, li.querySelector('.num').textContent])])"
    )
    by_name = {Path(v).relative_to(tmp_path).as_posix(): top for v, top in saved["labels"].items()}
    assert len(cards) == len(inputs)
    for caption, bars in cards:
        top = by_name[caption]
        assert [label for label, _, _ in bars] == [t["label"] for t in top] and len(bars) == 3
        assert all(abs(share - t["probability"]) < 0.01 for (_, share, _), t in zip(bars, top)), (bars, top)
        assert all(abs(_number(text) / 100 - t["probability"]) < 0.001 for (_, _, text), t in zip(bars, top))
    _check_screenshot(browser, tmp_path / "classify.png")
    _check_sorts(browser, "classify-inputs", "input", numeric=False)
    assert browser.errors() == []
    _check_layout(browser, page)


def test_probe_page(browser: Browser, tmp_path: Path) -> None:
    from probe_data import blobs, labelled_table, write_output

    x, y = blobs(6, 8, 12, spread=1.4, seed=7)
    videos = [str(tmp_path / "set" / f"{k:02d}.mp4") for k in range(len(y))]
    table = labelled_table(tmp_path / "labels.csv", videos, [f"class <{c}>" for c in y])
    feats = write_output(tmp_path / "feats.npy", videos, x)
    out = tmp_path / "probe"
    result = invoke("probe", table, "--features", feats, "--shots", "1,3,all", "--seeds", "3", "--folds", "3",
                    "--out", out)  # fmt: skip
    assert result.exit_code == 0, result.output + repr(result.exception)
    page = out / "index.html"
    _open(browser, page)
    kinds = browser.evaluate("[...document.querySelectorAll('section.run')].map(s => s.dataset.kind)")
    assert kinds == ["probe"]
    _check_head(browser, "probe", "vit_s_none")
    charts = browser.evaluate(
        "[...document.querySelectorAll('svg.chart')].map(s => [s.id, s.querySelectorAll('polyline').length,"
        " s.querySelectorAll('polygon.band').length, s.querySelectorAll('circle.point').length])"
    )
    assert charts == [["probe-by-layer", 2, 2, 2], ["probe-by-shots", 2, 2, 6]], charts
    legend = browser.evaluate("[...document.querySelectorAll('#probe ul.legend li')].map(li => li.textContent)")
    assert legend == ["linear", "knn", "linear", "knn"]
    record = json.loads((out / "probe.json").read_text())
    assert len(_cells(browser, "probe-summary", "Acc@1")) == len(record["summary"]) == 6
    confusion = browser.evaluate(
        "(() => { const img = document.querySelector('img.confusion'); img.loading = 'eager';"
        " return img.decode().then(() => img.naturalWidth, () => 0); })()"
    )
    assert confusion > 0
    _check_screenshot(browser, tmp_path / "probe.png")
    before = [_number(v) for v in _cells(browser, "probe-summary", "Acc@1")]
    assert _click(browser, "probe-summary", "Acc@1") == "ascending"  # values may tie: the order, not the rows
    assert [_number(v) for v in _cells(browser, "probe-summary", "Acc@1")] == sorted(before)
    assert browser.errors() == []
    _check_layout(browser, page)


def test_compare_page(browser: Browser, tmp_path: Path) -> None:
    """Three models (two with two layers) and a user RDM: heatmaps with their colour scale, the layer
    curves, RDM pictures, the sortable pairs; readable at 1280 and 400 px."""
    sys.path.insert(0, str(Path(__file__).parent))
    import vidmenagerie as vm

    from stores import write_output

    rng = np.random.default_rng(0)
    videos = [f"/stimuli/{ODD}{i:02d}.mp4" for i in range(12)]
    base = rng.standard_normal((12, 8))
    outputs = []
    for k, model in enumerate(("vit_s_none", "vit_say_none")):  # two layers each, in one output
        x = np.stack([base + (0.3 * layer + k) * rng.standard_normal((12, 8)) for layer in (4, 8)])
        outputs.append(write_output(tmp_path / f"{model}.npy", x, videos, model=model, layers=(4, 8)))
    outputs.append(write_output(tmp_path / "k.npy", rng.standard_normal((12, 8)), videos, model="vit_kinetics_none"))
    human = vm.rdm(base)
    (tmp_path / "human.csv").write_text(
        ",".join(f"{ODD}{i:02d}" for i in range(12))
        + "\n"
        + "\n".join(",".join(f"{v:.5f}" for v in row) for row in human)
        + "\n"
    )
    out = tmp_path / "cmp"
    result = invoke("compare", *outputs, "--rdm", tmp_path / "human.csv", "--bootstrap", "30", "--permutations", "50",
                    "--out", out)  # fmt: skip
    assert result.exit_code == 0, result.output + repr(result.exception)
    page = out / "index.html"
    _open(browser, page)
    kinds = browser.evaluate("[...document.querySelectorAll('section.run')].map(s => s.dataset.kind)")
    assert kinds == ["compare"]
    maps = browser.evaluate(
        "[...document.querySelectorAll('svg.heat')].map(s => [s.id, +s.dataset.count,"
        " s.getBoundingClientRect().width, s.querySelectorAll('rect.cell').length])"
    )
    assert [m[:2] for m in maps] == [["compare-cka-map", 5], ["compare-rsa-map", 6]], maps
    assert all(width > 200 and cells == count * count for _, count, width, cells in maps), maps
    loaded = browser.evaluate(  # the cells' picture decodes
        "Promise.all([...document.querySelectorAll('svg.heat image.cells')].map(i => { const img = new Image();"
        " img.src = i.getAttribute('href'); return img.decode().then(() => img.naturalWidth, () => 0); }))"
    )
    assert loaded == [5, 6], loaded
    assert browser.evaluate("document.querySelectorAll('figure.colourbar').length") == 3  # two maps, the RDMs
    curve = browser.evaluate("[...document.querySelectorAll('svg.curves polyline.line')].length")
    assert curve == 2  # one line per model with two layers; the one-layer model is a point
    images = browser.evaluate(
        "Promise.all([...document.querySelectorAll('#compare-rdms figure.card img')].map(img => {"
        " img.loading = 'eager'; return img.decode().then(() => img.naturalWidth, () => 0); }))"
    )
    assert len(images) == 6 and all(width >= 128 for width in images), images
    _check_screenshot(browser, tmp_path / "compare.png")
    _check_sorts(browser, "compare-pairs", "value", numeric=True)
    assert browser.errors() == []
    _check_layout(browser, page)
