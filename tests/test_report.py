"""``build_report``: the HTML page of each batch command, built from that command's real outputs.

Pages are read back with a real HTML parser; the rows the page's script draws are read from
their JSON blobs, as the script reads them. The browser side (sorting, pages) is tested apart.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import numpy as np
import pytest

from vidmenagerie.catalog import default_catalog
from vidmenagerie.errors import OutputError
from vidmenagerie.feature_store import EmbedSettings
from vidmenagerie.feature_store.manifest import RowInfo, VideoStatus, write_index, write_videos
from vidmenagerie.report import build_report
from vidmenagerie.report.html import esc, url, visible

from cli import invoke
from videos import moving_frames, write_video

FAST = ("--sampling-rate", "2", "--workers", "0")
ODD = "a<b>&\"c'.mp4"  # a name that breaks any page that does not escape
LABELS = ("zero", "one", "two", "three", "four")  # tiny_cls's
VOID = {"meta", "img", "source", "br", "hr", "input", "link"}


class Page(HTMLParser):
    """Every tag with its attributes, the text of each ``<script type=application/json>`` by id,
    of each table cell (``th``/``td``) drawn in the markup itself and of each ``<title>``; every
    element must be closed, in order (void elements aside)."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.blobs: dict[str, Any] = {}
        self.cells: list[str] = []
        self.titles: list[str] = []
        self._blob: str | None = None
        self._cell: list[str] | None = None
        self._title: list[str] | None = None
        self._open: list[str] = []
        self.feed(text)
        self.close()
        assert not self._open, self._open

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        self.tags.append((tag, found))
        if tag not in VOID:
            self._open.append(tag)
        if tag == "script" and found.get("type") == "application/json":
            self._blob = found["id"]
            self.blobs[self._blob] = ""
        if tag in ("td", "th"):
            self._cell = []
        if tag == "title":
            self._title = []

    def handle_endtag(self, tag: str) -> None:
        assert tag not in VOID and self._open and self._open.pop() == tag, (tag, self._open[-3:])
        if tag == "script" and self._blob is not None:
            self.blobs[self._blob] = json.loads(self.blobs[self._blob])
            self._blob = None
        if tag in ("td", "th") and self._cell is not None:
            self.cells.append("".join(self._cell))
            self._cell = None
        if tag == "title" and self._title is not None:
            self.titles.append("".join(self._title))
            self._title = None

    def handle_data(self, data: str) -> None:
        if self._blob is not None:
            self.blobs[self._blob] += data
        if self._cell is not None:
            self._cell.append(data)
        if self._title is not None:
            self._title.append(data)

    def all(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        """Attributes of every ``tag`` whose attributes include ``attrs`` (``class_``: one of its classes)."""
        css = attrs.pop("class_", None)
        return [
            a
            for t, a in self.tags
            if t == tag
            and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())
            and (css is None or css in a.get("class", "").split())
        ]

    def one(self, tag: str, **attrs: str) -> dict[str, str]:
        found = self.all(tag, **attrs)
        assert len(found) == 1, (tag, attrs, found)
        return found[0]

    def rows(self, list_id: str) -> list[list[Any]]:
        """The rows a sortable table or card list (by id) draws from its blob."""
        element = next(a for _, a in self.tags if a.get("id") == list_id)
        rows = self.blobs[element["data-rows"]]["rows"]
        assert int(element["data-count"]) == len(rows)
        return rows

    def links(self) -> list[str]:
        """Every ``href``/``src`` in the markup and in the blobs (path columns, card pictures and videos)."""
        found = [a[k] for _, a in self.tags for k in ("href", "src") if k in a]
        for _, attrs in self.tags:
            if "data-rows" not in attrs:
                continue
            rows = self.blobs[attrs["data-rows"]]["rows"]
            fields: list[int] = []
            if "data-card" in attrs:
                spec = json.loads(attrs["data-card"])
                fields = [spec[k] for k in ("img", "video") if spec[k] is not None]
            found += [row[f] for row in rows for f in fields if row[f]]
        for table_id, columns in self.path_columns.items():
            rows = self.rows(table_id)
            found += [row[c] for row in rows for c in columns if row[c]]
        return found

    @property
    def path_columns(self) -> dict[str, list[int]]:
        """Per table id, the blob fields drawn as links."""
        result: dict[str, list[int]] = {}
        current = None
        for tag, attrs in self.tags:
            if tag == "table":
                current = attrs.get("id") if "data-rows" in attrs else None
            if tag == "th" and current and attrs.get("data-kind") == "path":
                result.setdefault(current, []).append(int(attrs["data-col"]))
        return result


def _read(folder: Path) -> tuple[str, Page]:
    text = (folder / "index.html").read_text(encoding="utf-8")
    return text, Page(text)


def _headings(text: str, table_id: str) -> list[str]:
    """The heading texts of a table (markup between its ``<thead>`` tags)."""
    head = text[text.index(f'id="{table_id}"') :]
    head = head[: head.index("</thead>")]
    parser = Page(head + "</thead>")
    return parser.cells


def _field(text: str, page: Page, table_id: str, heading: str) -> int:
    """The blob field shown by the column ``heading`` of table ``table_id``."""
    start = next(i for i, (_, a) in enumerate(page.tags) if a.get("id") == table_id)
    ths = [a for t, a in page.tags[start:] if t == "th" and "data-col" in a]
    return int(ths[_headings(text, table_id).index(heading)]["data-col"])


def _check_links(folder: Path, page: Page) -> int:
    """Every link that is not http(s) is a relative path to a file inside ``folder``; returns how many."""
    links = page.links()
    for link in links:
        parts = urlsplit(link)
        if parts.scheme in ("http", "https"):
            continue
        assert not parts.scheme and not parts.netloc and not link.startswith("/"), link
        target = (folder / unquote(parts.path)).resolve()
        assert target.is_file() and target.is_relative_to(folder.resolve()), link
    return len(links)


def _close(shown: float, recorded: float) -> bool:
    return math.isclose(shown, recorded, rel_tol=1e-5)


@pytest.fixture
def videos(tmp_path: Path) -> Path:
    """``plain.mp4``, ``sub/a<b>&"c'.mp4`` (other content) and ``broken.mp4`` (not a video)."""
    root = tmp_path / "videos"
    (root / "sub").mkdir(parents=True)
    write_video(root / "plain.mp4", moving_frames(seed=1))
    write_video(root / "sub" / ODD, moving_frames(seed=2))
    (root / "broken.mp4").write_text("this is not a video")
    return root


def _run(*args: object) -> None:
    result = invoke(*args)
    assert result.exit_code == 1, result.output + repr(result.exception)  # 1: broken.mp4 failed, as planned


def _check_odd_name(text: str, page: Page, names: list[str]) -> None:
    """The odd file name reaches the reader whole, and never as markup."""
    assert "a<b>" not in text and 'a<b>&"c' not in text
    assert not page.all("b")
    assert f"sub/{ODD}" in names


def _check_failures(page: Page, sid: str) -> None:
    rows = page.rows(f"{sid}-failures")
    assert [r[0] for r in rows] == ["broken.mp4"] and "not a readable video" in rows[0][1]


def _check_head(text: str, page: Page, record: dict[str, Any], model: str) -> None:
    """The head shows the model, every setting and the vidm version."""
    assert page.one("table", class_="model") is not None
    cells = page.cells
    assert model in cells
    for key in record["settings"]:
        assert key in cells or any(c.startswith(f"{key}.") for c in cells), key
    assert f"vidmenagerie {record['versions']['vidmenagerie']}" in text
    _check_when(text, record)


def _check_when(text: str, record: dict[str, Any]) -> None:
    """The head says when the run started and how long it took, as its record says."""
    when = text[text.index('class="when"') :].split("</p>")[0]
    started = record["started"]
    assert f"started {started.replace('T', ' ')}" in when and "took " in when, when


def test_complete_page(tiny_catalog: Path, videos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _run("complete", videos, "--model", "tiny_mae", "--animate", *FAST, "--out", out)
    assert build_report(out) == out / "index.html"
    text, page = _read(out)
    record = json.loads((out / "run.json").read_text())
    rows = page.rows("complete-clips")
    assert page.rows("complete-cards") == rows and len(rows) == len(record["clips"]) == 2  # one card and row each
    names = [r[_field(text, page, "complete-clips", "video")] for r in rows]
    assert names == ["plain.mp4", f"sub/{ODD}"]
    for row, clip in zip(rows, record["clips"]):
        for heading, key in (("MSE", "mse"), ("PSNR (dB)", "psnr"), ("loss", "loss")):
            assert _close(row[_field(text, page, "complete-clips", heading)], clip[key]), (heading, row, clip)
    card = json.loads(page.one("div", class_="cards")["data-card"])
    assert all(r[card["img"]].endswith(".complete.jpg") and r[card["video"]].endswith(".complete.mp4") for r in rows)
    assert _check_links(out, page) >= 6
    _check_odd_name(text, page, names)
    _check_failures(page, "complete")
    _check_head(text, page, record, "tiny_mae")
    assert page.one("section", id="complete")["data-kind"] == "complete"
    assert "<title>MAE completions by tiny_mae (center mask, ratio 0.25)</title>" in text  # what it shows


def test_attend_page_folds_the_per_head_rows(tiny_catalog: Path, videos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _run("attend", videos, "--model", "tiny_vit", "--heads", "all", "--animate", "--save-maps", *FAST, "--out", out)
    build_report(out)
    text, page = _read(out)
    record = json.loads((out / "run.json").read_text())
    rows = page.rows("attend-cards")
    assert len(rows) == len(record["clips"]) == 2
    card = json.loads(page.one("div", class_="cards")["data-card"])
    summary, field, _ = card["details"]
    for row, clip in zip(rows, record["clips"]):
        heads = row[field]
        assert [h[0] for h in heads] == ["head 0", "head 1", "head 2", "head 3"]
        assert all(math.isclose(v, c, rel_tol=1e-3) for (_, v), c in zip(heads, clip["cls_self"]))
        weight = row[_field(text, page, "attend-clips", "its weight")]
        assert math.isclose(weight, clip["peak"]["weight"], rel_tol=1e-3)
        assert row[_field(text, page, "attend-clips", "maps")].endswith(".attend.npy")
    _check_links(out, page)
    _check_odd_name(text, page, [r[card["title"]] for r in rows])
    _check_failures(page, "attend")
    _check_head(text, page, record, "tiny_vit")
    assert "<title>Attention maps of tiny_vit (layer -1, heads all)</title>" in text


def test_embed_page_maps_every_row_and_names_neighbours(tiny_catalog: Path, videos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _run("embed", videos, "--model", "tiny_cls", "--top-k", "2", "--clips", "uniform:2", *FAST,
         "--out", out / "feats.npy")  # fmt: skip
    build_report(out)
    text, page = _read(out)
    record = json.loads((out / "feats.run.json").read_text())
    rows = page.rows("embed-videos")
    names = [r[_field(text, page, "embed-videos", "video")] for r in rows]
    assert sorted(names) == sorted(["broken.mp4", "plain.mp4", f"sub/{ODD}"])  # a row per video
    circles = page.all("circle")
    assert len(circles) == record["counts"]["rows"] == 4  # a point per row
    tooltips = [t for t in page.titles if t.startswith(f"sub/{ODD} \u00b7 ")]  # the video, its time, its label
    assert len(tooltips) == 2 and all(t.split(" \u00b7 ")[2] in LABELS for t in tooltips)
    blob = page.blobs[page.one("table", id="embed-videos")["data-rows"]]
    predicted = _field(text, page, "embed-videos", "predicted")
    assert {blob["enum"][r[predicted]] for r in rows if r[predicted] is not None} <= set(LABELS)
    near = _field(text, page, "embed-videos", "nearest 5 (cosine)")
    plain = rows[names.index("plain.mp4")][near]
    assert names[plain[0]] == f"sub/{ODD}" and -1 <= plain[1] <= 1  # the only other video that worked
    assert rows[names.index("broken.mp4")][near] == []
    _check_links(out, page)
    _check_odd_name(text, page, names)
    _check_failures(page, "embed")
    _check_head(text, page, record, "tiny_cls")
    assert page.one("select", class_="colour-by")["data-for"] == "embed-mapbox"
    assert "<title>Features from tiny_cls (cls of layer -1, uniform:2 clips)</title>" in text


def test_per_video_embed_output_gets_a_page(tiny_catalog: Path, videos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _run("embed", videos, "--model", "tiny_vit", "--per-video", *FAST, "--out", out)
    build_report(out)
    text, page = _read(out)
    assert len(page.rows("embed-videos")) == 3 and len(page.all("circle")) == 2
    assert not page.all("select")  # no class scores: coloured by folder only
    _check_links(out, page)
    _check_failures(page, "embed")


@pytest.fixture
def labelled(videos: Path, tmp_path: Path) -> Path:
    """Class folders named after three of ``tiny_cls``'s labels, one broken input, one odd name."""
    root = tmp_path / "labelled"
    for i, label in enumerate(("zero", "one", "two")):
        (root / label).mkdir(parents=True)
        for k in range(2):
            write_video(root / label / f"{k}.mp4", moving_frames(seed=10 * i + k))
    shutil.copy(videos / "sub" / ODD, root / "two" / ODD)
    (root / "one" / "broken.mp4").write_text("this is not a video")
    return root


def test_evaluate_page(tiny_catalog: Path, labelled: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _run("evaluate", labelled, "--model", "tiny_cls", *FAST, "--out", out)  # writes index.html itself
    text, page = _read(out)
    record = json.loads((out / "eval.json").read_text())
    assert f"<title>Accuracy of tiny_cls on {labelled.name}</title>" in text
    scores = record["scores"]
    accuracy = text[text.index('id="evaluate-accuracy"') :]
    for key in ("acc1_video", "acc5_video", "acc1_clip", "acc5_clip"):
        row = Page(accuracy[accuracy.index(f'data-metric="{key}"') - 4 :].split("</tr>")[0] + "</tr>").cells
        value = scores[key]
        assert row[1:4] == [f"{value['value'] * 100:.2f}%", str(value["correct"]), str(value["total"])]
        assert row[4] == f"{value['low'] * 100:.2f}% \u2013 {value['high'] * 100:.2f}%"  # the 95% interval
    keys = re.sub(r"<[^>]+>", "", text.split('<p class="keys">')[1].split("</p>")[0])
    assert keys.startswith("protocol standard \u00b7 clips ")  # a group's name, not "name standard"
    assert (
        "Class folders matched to class names (ignoring case and punctuation): 3 folders for 5 classes; rule: names."
        in text
    )
    per_class = page.rows("evaluate-per-class")
    assert [r[1] for r in per_class] == ["zero", "one", "two"]
    assert len(page.all("rect", class_="bar")) == 3
    wrong = page.rows("evaluate-misclassified")
    expected = [r for r in _csv(out / "eval.predictions.csv") if r["correct"] == "0"]
    labels = page.blobs["evaluate-misclassified-data"]["enum"]
    assert len(wrong) == len(expected) > 0
    for row, csv_row in zip(wrong, expected):  # the top 5, label and probability each
        assert [labels[i] for i in row[2][::2]] == [csv_row[f"top{n}"] for n in range(1, 6)]
        assert row[2][1::2] == [float(csv_row[f"p{n}"]) for n in range(1, 6)]
    assert page.one("img", class_="confusion")["src"] == "eval.confusion.png"
    _check_links(out, page)
    _check_odd_name(text, page, [r[0] for r in wrong] + [f"sub/{ODD}"])
    failures = page.rows("evaluate-failures")
    assert [r[0] for r in failures] == ["one/broken.mp4"] and "not a readable video" in failures[0][1]
    _check_when(text, json.loads((out / "views.run.json").read_text()))  # the views' run: model load to scores
    _run("evaluate", labelled, "--model", "tiny_cls", *FAST, "--out", tmp_path / "quiet", "--no-report")
    assert (tmp_path / "quiet" / "eval.json").is_file() and not (tmp_path / "quiet" / "index.html").exists()


def _csv(path: Path) -> list[dict[str, str]]:
    import csv

    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_moved_folder_still_links_its_files(tiny_catalog: Path, videos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _run("complete", videos, "--model", "tiny_mae", *FAST, "--out", out)
    moved = tmp_path / "elsewhere" / "results"
    moved.parent.mkdir()
    out.rename(moved)
    build_report(moved, title="Moved <run>")
    text, page = _read(moved)
    assert _check_links(moved, page) >= 4
    assert all(r[1] for r in page.rows("complete-clips"))  # every picture found
    assert "<title>Moved &lt;run&gt;</title>" in text


def test_the_head_links_the_paper_of_a_catalogue_model(tiny_catalog: Path, videos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _run("complete", videos, "--model", "tiny_mae", *FAST, "--out", out)
    record = json.loads((out / "run.json").read_text())
    record["model"]["name"] = "mae_s_none"  # complete records only the name: the rest is the catalogue's
    (out / "run.json").write_text(json.dumps(record))
    build_report(out)
    text, page = _read(out)
    entry = default_catalog().get("mae_s_none")
    assert entry.paper is not None
    assert page.one("a", class_="paper")["href"] == f"https://arxiv.org/abs/{entry.paper.arxiv}"
    assert entry.pretraining_data in page.cells and entry.finetuning_task in page.cells


def test_a_folder_without_a_run_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="no vidm output here"):
        build_report(tmp_path)


def test_text_and_links_cannot_inject_markup() -> None:
    assert esc('<a href="x">&\'') == "&lt;a href=&quot;x&quot;&gt;&amp;&#x27;"
    assert visible("bell\x07 tab\t \x9b") == "bell\\x07 tab\t \\x9b"
    assert visible("bad\udcffbyte") == "bad\\xffbyte"  # an undecodable byte (surrogateescape)
    assert url("javascript:alert(1).jpg") == "javascript%3Aalert%281%29.jpg"  # a file name, never a scheme
    assert url(f"sub/{ODD}") == "sub/a%3Cb%3E%26%22c%27.mp4"
    assert url("odd#?.jpg") == "odd%23%3F.jpg"


def _synthetic_embed(out: Path, videos: int, rows_per_video: int, dim: int) -> None:
    """A finished ``vidm embed --logits`` output of ``videos`` inputs in 25 folders, every 100th failed,
    written directly (rows drawn around one centre per folder)."""
    entry = default_catalog().get("tiny_cls")
    settings = EmbedSettings.for_model(entry, logits=True)
    assert settings.feature_shape == (dim,)
    rng = np.random.default_rng(0)
    statuses, index, row = [], [], 0
    for i in range(videos):
        video = f"/data/set/class_{i % 25:02d}/video_{i:05d}.mp4"
        if i % 100 == 7:
            statuses.append(VideoStatus(video, "failed", reason="not a readable video (truncated)"))
            continue
        statuses.append(VideoStatus(video, "ok", rows=rows_per_video, first_row=row, fingerprint="1:2"))
        for clip in range(rows_per_video):
            index.append((video, None, row, RowInfo(clip, 0, 2.0 * clip, 2.0 * clip + 2.13)))
            row += 1
    folder = np.array([int(video.split("class_")[1][:2]) for video, *_ in index])
    centres = rng.standard_normal((25, dim)).astype(np.float32) * 3
    np.save(out / "feats.npy", (centres[folder] + rng.standard_normal((row, dim))).astype(np.float32))
    np.save(out / "feats.logits.npy", rng.standard_normal((row, 5)).astype(np.float32))
    write_index(out / "feats.index.csv", index, reduced=False, per_video=False)
    write_videos(out / "feats.videos.csv", statuses, per_video=False)
    record = {
        "command": "vidm embed",
        "complete": True,
        "settings": settings.to_dict(),
        "model": entry.to_dict(),
        "layout": "single",
        "counts": {"ok": row // rows_per_video, "failed": videos - row // rows_per_video, "pending": 0, "rows": row},
        "started": "2026-01-01T00:00:00+00:00",
        "seconds": 3600.0,
        "versions": {"vidmenagerie": "0.1.0"},
    }
    (out / "feats.run.json").write_text(json.dumps(record))


def test_ten_thousand_videos_make_a_small_page_quickly(tiny_catalog: Path, tmp_path: Path) -> None:
    out = tmp_path / "big"
    out.mkdir()
    _synthetic_embed(out, videos=10_000, rows_per_video=2, dim=64)
    import vidmenagerie.feature_store.reading  # noqa: F401 - imports (torch) are not the page's time

    start = time.perf_counter()
    build_report(out)
    seconds = time.perf_counter() - start
    size = (out / "index.html").stat().st_size
    text, page = _read(out)
    assert size < 2_000_000, size
    assert seconds < 15, seconds  # about 2 s on two cores
    rows = page.rows("embed-videos")
    assert len(rows) == 10_000 and len(page.rows("embed-failures")) == 100
    assert 4000 <= len(page.all("circle")) <= 5000  # a spread sample of the 19,800 rows
    near = _field(text, page, "embed-videos", "nearest 5 (cosine)")
    assert all(len(r[near]) == 10 for r in rows if r[1] == "ok")
    assert page.one("table", id="embed-videos")["data-page"] == "100"
    assert "took 1 h 00 min" in text


def test_inputs_from_unrelated_folders_are_named_by_their_distinct_endings() -> None:
    from vidmenagerie.report.paths import Names

    videos = ["/usr/lib/pkg/data/demo.mp4", "/tmp/run/inputs/broken.mp4", "/tmp/other/demo.mp4"]
    names = Names.of(videos)
    assert [names.short(v) for v in videos] == ["data/demo.mp4", "broken.mp4", "other/demo.mp4"]
    below = Names.of(["/tmp/a/b.mp4", "/tmp/a/c/d.mp4"])  # a common folder: names below it, as before
    assert below.root == "/tmp/a" and below.short("/tmp/a/c/d.mp4") == "c/d.mp4"


def test_a_video_shorter_than_a_clip_is_marked_on_the_page(tiny_catalog: Path, tmp_path: Path) -> None:
    videos = tmp_path / "short"
    videos.mkdir()
    write_video(videos / "short.mp4", moving_frames(6))  # 0.2 s; a clip of 4 frames at rate 8 spans 1.07 s
    out = tmp_path / "out"
    result = invoke("complete", videos, "--model", "tiny_mae", "--workers", "0", "--out", out)
    assert result.exit_code == 0 and "shorter than one clip (1.07 s): its last frame repeats" in result.stderr
    text, page = _read(out)
    [clip] = json.loads((out / "run.json").read_text())["clips"]
    assert clip["repeated_frames"] > 0 and clip["end"] == pytest.approx(0.2)  # the video's end
    [row] = page.rows("complete-clips")
    assert row[_field(text, page, "complete-clips", "repeated")] == clip["repeated_frames"]
    assert "1 of 1 clips run past the end of a video shorter than a clip" in text
