"""``--merge``: join the shards of an output into the files one process would have written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..batch.lock import OutputLock
from ..errors import OutputError
from ..labels import load_labels
from .assemble import Assembly, assemble
from .layout import OutputLayout
from .parts import Finished
from .reading import read_output
from .record import output_files, read_record, record_settings, write_record
from .shards import Shard


def merge_shards(out: str | Path, *, per_video: bool | None = None) -> tuple[OutputLayout, Assembly]:
    """Check that every shard of ``out`` is there, complete, made with the same settings from the
    same input list, then write the joined output (shards are left in place)."""
    path = Path(out)
    layout = OutputLayout(path, path.suffix.lower() != ".npy" if per_video is None else per_video)
    with OutputLock(layout.lock, path, "vidm embed --merge"):
        return _merge(path, layout)


def _merge(path: Path, layout: OutputLayout) -> tuple[OutputLayout, Assembly]:
    """``merge_shards`` with the output locked."""
    records = {p: read_record(p) for p in layout.shard_records()}
    if not records:
        raise OutputError(f"no shards of {path} found", path=str(path), problem="no-shards")
    shards = {p: _shard_of(p, r) for p, r in records.items()}
    counts = sorted({s.count for s in shards.values()})
    if len(counts) != 1:
        raise OutputError(
            f"shards of {path} were cut {' and '.join(map(str, counts))} ways; remove the stale ones",
            path=str(path),
            problem="mismatch",
        )
    count = counts[0]
    by_index = {s.index: (p, records[p]) for p, s in shards.items()}
    missing = [str(i) for i in range(count) if i not in by_index]
    if missing:
        raise OutputError(
            f"shard{'s' if len(missing) > 1 else ''} {', '.join(missing)} of {count} missing: run them first",
            path=str(path),
            problem="no-shards",
        )
    first_path, first = by_index[0]
    assert first is not None
    settings = record_settings(first)
    layout = layout.with_tags(settings.layer_tags)
    order: list[str] = []
    finished: dict[str, Finished] = {}
    failed: dict[str, str] = {}
    for index in range(count):
        where, record = by_index[index]
        assert record is not None
        _check_same(where, record, first_path, first)
        shard = read_output(layout.for_shard(Shard(index, count)))
        order.extend(s.video for s in shard.videos)
        finished.update(shard.finished)
        failed.update({s.video: s.reason for s in shard.videos if s.status == "failed"})
    labels_spec = first["model"].get("labels")
    top_k = int(first.get("top_k") or 0)
    wants_labels = top_k and settings.logits and labels_spec
    labels = load_labels(labels_spec, num_classes=settings.num_classes) if wants_labels else None
    assembly = assemble(layout, settings, order, finished, failed, top_k=top_k, labels=labels)
    merged = dict(first)
    merged["inputs"] = {**first["inputs"], "shard": None, "videos_in_shard": None}
    merged["counts"] = {s: assembly.count(s) for s in ("ok", "failed", "pending")} | {"rows": assembly.rows}
    merged["clips_run"] = sum(int(r["clips_run"]) for _, r in by_index.values() if r)
    merged["seconds"] = round(sum(float(r["seconds"]) for _, r in by_index.values() if r), 3)
    merged["merged_from"] = [by_index[i][0].name for i in range(count)]
    merged["files"] = output_files(layout, settings, top_k)
    write_record(layout.run, merged)
    return layout, assembly


def _shard_of(path: Path, record: dict[str, Any] | None) -> Shard:
    """The shard a record says it is."""
    shard = (record or {}).get("inputs", {}).get("shard")
    if not shard:
        raise OutputError(f"{path}: not a shard's run record", path=str(path), problem="not-a-record")
    return Shard(int(shard["index"]), int(shard["count"]))


def _check_same(where: Path, record: dict[str, Any], first_path: Path, first: dict[str, Any]) -> None:
    """Refuse a shard that is unfinished, or made with other settings or from another input list."""
    if not record.get("complete"):
        pending = (record.get("counts") or {}).get("pending", "some")
        raise OutputError(
            f"{where.name}: this shard is not complete ({pending} videos pending): run it again to finish",
            path=str(where),
            problem="mismatch",
        )
    changed = record_settings(record).differences(record_settings(first))
    if changed:
        raise OutputError(
            f"{where.name} and {first_path.name} were made with different settings ({'; '.join(changed)})",
            path=str(where),
            problem="mismatch",
        )
    if record["inputs"]["sha256"] != first["inputs"]["sha256"]:
        raise OutputError(
            f"{where.name} and {first_path.name} were made from different input lists: rerun the shards",
            path=str(where),
            problem="mismatch",
        )
