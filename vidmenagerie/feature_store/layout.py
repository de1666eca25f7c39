"""Where the files of one embedding output go: one ``.npy`` with its manifests, or one ``.npy`` per video.

``--out feats.npy`` gives ``feats.npy`` (rows), ``feats.index.csv`` (what each row is),
``feats.videos.csv`` (every video's status), ``feats.run.json`` (settings, model, versions),
``feats.logits.npy`` and ``feats.topk.csv`` when asked, and ``feats.parts/`` (finished videos
of an unfinished run). ``--per-video --out DIR`` writes ``DIR/<path of the video>.npy`` and
``DIR/index.csv``, ``DIR/videos.csv``, ``DIR/run.json``. A shard adds ``shard-I-of-N`` to the
names (``feats.shard-2-of-8.npy``, ``DIR/shard-2-of-8.index.csv``). Several layers
(``--layer 8,16,-1`` or ``all``) write one array per layer, named by its block index:
``feats.layer08.npy`` ... instead of ``feats.npy``, and ``DIR/<path of the video>.layer08.npy``.
"""

from __future__ import annotations

import glob
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..batch.outputs import check_targets, check_writable
from ..errors import InvalidSetting
from .shards import Shard


@dataclass(frozen=True)
class OutputLayout:
    """The paths of one output (``out`` as given to ``--out``), optionally of one shard of it;
    ``tags`` name its layers' arrays (``("",)``: one layer, ``feats.npy``; see ``EmbedSettings.layer_tags``)."""

    out: Path
    per_video: bool = False
    shard: Shard | None = None
    tags: tuple[str, ...] = ("",)

    def __post_init__(self) -> None:
        """A single output is a ``.npy`` file; a per-video output is a folder."""
        is_npy = self.out.suffix.lower() == ".npy"
        if self.per_video and is_npy:
            raise InvalidSetting(
                "out", f"--per-video writes one file per input into a folder: give a folder, not {self.out}"
            )
        if not self.per_video and not is_npy:
            raise InvalidSetting(
                "out", f"name a .npy file (e.g. feats.npy), or add --per-video for a folder: {self.out}"
            )

    def _name(self, suffix: str) -> Path:
        """``feats[.shard-i-of-n]<suffix>`` beside the .npy, or ``DIR/[shard-i-of-n.]<suffix>``."""
        tag = self.shard.label if self.shard else ""
        if self.per_video:
            return self.out / (f"{tag}.{suffix}" if tag else suffix)
        stem = self.out.with_suffix("").name
        return self.out.parent / (f"{stem}.{tag}.{suffix}" if tag else f"{stem}.{suffix}")

    def for_shard(self, shard: Shard | None) -> OutputLayout:
        """The same output, for another shard (or the joined whole)."""
        return OutputLayout(self.out, self.per_video, shard, self.tags)

    def with_tags(self, tags: tuple[str, ...]) -> OutputLayout:
        """The same output, holding the layers ``tags`` name."""
        return OutputLayout(self.out, self.per_video, self.shard, tags)

    @property
    def folder(self) -> Path:
        """The folder everything is written in."""
        return self.out if self.per_video else self.out.parent

    @property
    def features(self) -> Path:
        """The rows of every video, ``[rows, *feature_shape]`` (single output of one layer)."""
        return self._name("npy")

    def feature_file(self, tag: str = "") -> Path:
        """The rows of every video at the layer ``tag`` names (``feats.layer08.npy``; ``""``: ``feats.npy``)."""
        return self._name(f"{tag}.npy" if tag else "npy")

    @property
    def feature_files(self) -> list[Path]:
        """The rows of every video, one file per layer, in ``tags`` order (single output only)."""
        return [self.feature_file(tag) for tag in self.tags]

    @property
    def logits(self) -> Path:
        """Class scores, ``[rows, classes]`` (single output with ``--logits``)."""
        return self._name("logits.npy")

    @property
    def index(self) -> Path:
        """One line per row: video, clip, crop, start and end seconds."""
        return self._name("index.csv")

    @property
    def videos(self) -> Path:
        """One line per video: ok, failed (with the reason) or pending."""
        return self._name("videos.csv")

    @property
    def run(self) -> Path:
        """``run.json``: settings, model, checkpoint, inputs, counts, versions."""
        return self._name("run.json")

    @property
    def lock(self) -> Path:
        """Held while a run writes this output (shards each have their own)."""
        return self._name("run.lock")

    @property
    def topk(self) -> Path:
        """The best labels per video (``--top-k``)."""
        return self._name("topk.csv")

    @property
    def parts(self) -> Path:
        """Finished videos of an unfinished run (removed once a run completes, single output)."""
        if self.per_video:  # hidden, so it never collides with a video's own file
            return self.out / (f".{self.shard.label}.parts" if self.shard else ".parts")
        return self._name("parts")

    def video_features(self, stem: Path, tag: str = "") -> Path:
        """A video's own ``.npy`` in a per-video output (``stem`` mirrors its input path; ``tag``: its layer)."""
        return self.out / stem.with_name(stem.name + (f".{tag}.npy" if tag else ".npy"))

    def video_siblings(self, first: Path) -> tuple[list[Path], Path]:
        """A video's files in a per-video output, from its first layer's file (the one ``videos.csv``
        names): every layer's, in ``tags`` order, and its logits."""
        base = first.name.removesuffix(".npy")
        if self.tags[0]:
            base = base.removesuffix(f".{self.tags[0]}")
        layers = [first.with_name(f"{base}.{tag}.npy" if tag else f"{base}.npy") for tag in self.tags]
        return layers, first.with_name(f"{base}.logits.npy")

    def video_logits(self, stem: Path) -> Path:
        """A video's class scores in a per-video output."""
        return self.out / stem.with_name(stem.name + ".logits.npy")

    def shard_records(self) -> list[Path]:
        """``run.json`` files of this output's shards that exist, sorted by name."""
        pattern = (
            "shard-*-of-*.run.json" if self.per_video else f"{self.out.with_suffix('').name}.shard-*-of-*.run.json"
        )
        return sorted(self.folder.glob(pattern))

    def all_files(self) -> list[Path]:
        """Every file name this layout may write besides per-video arrays and parts."""
        files = [self.index, self.videos, self.run, self.topk]
        return files if self.per_video else [*self.feature_files, self.logits, *files]

    def earlier_layer_files(self) -> list[Path]:
        """Arrays this single output's name may hold from a run of other layers: ``feats.npy`` and
        ``feats.layerNN.npy`` (none for a per-video output, whose files are named per input)."""
        if self.per_video:
            return []
        stem = glob.escape(self._name("npy").name[: -len(".npy")])
        return [self._name("npy"), *self.folder.glob(f"{stem}.layer[0-9][0-9]*.npy")]

    def check(self, inputs: Iterable[str | Path], stems: Mapping[str, Path] | None = None) -> None:
        """Before any work: the output can be written where asked, and no file it writes is an input."""
        if self.per_video and self.out.exists() and not self.out.is_dir():
            raise InvalidSetting("out", f"{self.out} is a file: --per-video needs a folder")
        if not self.per_video and self.out.is_dir():
            raise InvalidSetting("out", f"{self.out} is a folder: name a .npy file to write, e.g. {self.out}/feats.npy")
        check_writable(self.folder)
        targets = [*self.all_files(), self.lock]
        for stem in (stems or {}).values():
            targets += [*(self.video_features(stem, tag) for tag in self.tags), self.video_logits(stem)]
        check_targets(targets, inputs)
