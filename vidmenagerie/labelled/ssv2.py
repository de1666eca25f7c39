"""The Something-Something-v2 annotation JSON (``validation.json``: ``{"id", "label", "template",
"placeholders"}`` per video) plus a folder of its videos (``<id>.webm``, any video extension, or a frame
folder ``<id>/``, in the folder or one of its subfolders).

An entry's class is its ``template`` matched to the class names ignoring case and punctuation, so
``Putting [something] on [something]`` and the bracket-less ``Putting something on something`` of SSv2's
``labels.json`` both find their class. An unknown template is an error naming it, the file and the entry;
a video not found is listed as missing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from vidmenagerie.errors import VideoError
from vidmenagerie.labelled.locate import VideoIndex
from vidmenagerie.labelled.match import ClassMatcher
from vidmenagerie.labelled.sample import LabelledSample, LabelledSet, Missing


def read_ssv2(json_file: Path, class_names: Sequence[str], *, videos: Path) -> LabelledSet:
    """The samples of an SSv2 annotation list whose videos are under ``videos``, labelled by template."""
    try:
        entries = json.loads(json_file.read_text(encoding="utf-8-sig"))  # a BOM is fine, as in the CSV readers
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise VideoError(f"{json_file}: cannot read the SSv2 annotations ({err})") from None
    except RecursionError:
        raise VideoError(f"{json_file}: cannot read the SSv2 annotations (nested too deeply)") from None
    if not isinstance(entries, list) or not entries:
        raise VideoError(f"{json_file}: SSv2 annotations must be a non-empty JSON list of {{id, template}} objects")
    matcher = ClassMatcher.of(class_names)
    index = VideoIndex.scan(videos)
    samples: list[LabelledSample] = []
    missing: list[Missing] = []
    for number, entry in enumerate(entries, start=1):
        where = f"{json_file} entry {number}"
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), (str, int)):
            raise VideoError(f"{where}: expected an object with an id and a template")
        video_id = str(entry["id"])
        template = entry.get("template")
        if not isinstance(template, str):
            raise VideoError(f"{where} (id {video_id}): no template (the SSv2 test split is unlabelled)")
        label = matcher.index(template, f"{where} (id {video_id})")
        source = f"{json_file.name} id {video_id}"
        path = index.find((video_id,))
        if path is None:
            missing.append(Missing(video_id, source, index.missing_reason((video_id,))))
        else:
            samples.append(LabelledSample(path, label, source))
    description = f"labels from {json_file.name} (SSv2): templates matched to class names ignoring case and brackets"
    return LabelledSet(json_file, tuple(samples), tuple(missing), tuple(class_names), "names", description)
