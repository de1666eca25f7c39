"""Misuse and faults (issue 11): nothing lost, nothing mixed, nothing silent.

Each test names the attack it stands for. Tiny models from the test catalogue on short
64x48 videos; ``--sampling-rate 2`` makes a clip 8 frames long.
"""

from __future__ import annotations

import csv
import errno
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

import vidmenagerie as vm
from vidmenagerie.batch.lock import OutputLock
from vidmenagerie.batch.outputs import atomic_path
from vidmenagerie.feature_store import EmbedSettings
from vidmenagerie.tasks.embed import embed_videos
from vidmenagerie.video import find as find_module

from cli import committed, invoke, run_vidm
from tiny import write_checkpoint
from videos import write_video

FAST = ("--sampling-rate", "2", "--workers", "0")
EMBED = ("--model", "tiny_vit", *FAST)


def _frames(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 255, (n, 6, 8, 3), dtype=np.uint8)
    return np.repeat(np.repeat(blocks, 8, axis=1), 8, axis=2)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Two short videos in their own folder."""
    root = tmp_path / "in"
    root.mkdir()
    write_video(root / "a.mp4", _frames(20, 1))
    write_video(root / "b.mp4", _frames(24, 2))
    return root


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _ok(*args: object) -> str:
    result = invoke(*args)
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def _one_error_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1 and "unexpected" not in lines[0] and "Traceback" not in output, output
    return lines[0]


# --------------------------------------------------------------------------- 1. outputs never overwrite inputs


@pytest.mark.parametrize("command", ["attend", "complete"])
def test_animate_into_the_input_folder_leaves_the_input_alone(tiny_catalog: Path, folder: Path, command: str) -> None:
    video = folder / "a.mp4"
    before = video.read_bytes()
    model = "tiny_vit" if command == "attend" else "tiny_mae"
    _ok(command, video, "--model", model, *FAST, "--animate", "--out", folder)
    assert video.read_bytes() == before
    assert (folder / f"a.{command}.mp4").is_file() and (folder / f"a.{command}.jpg").is_file()


def test_a_still_is_not_overwritten_by_its_own_picture(tiny_catalog: Path, tmp_path: Path) -> None:
    from PIL import Image

    still = tmp_path / "cat.jpg"
    Image.fromarray(_frames(1, 3)[0]).save(still)
    before = still.read_bytes()
    _ok("complete", still, "--model", "tiny_mae", "--workers", "0", "--out", tmp_path)
    assert still.read_bytes() == before and (tmp_path / "cat.complete.jpg").is_file()


def test_an_output_inside_a_frame_folder_input_is_refused(tiny_catalog: Path, tmp_path: Path, hub_server) -> None:
    from PIL import Image

    frames = tmp_path / "walk"
    frames.mkdir()
    for i, image in enumerate(_frames(8, 4)):
        Image.fromarray(image).save(frames / f"{i:04d}.png")
    for args in (
        ("attend", frames, "--model", "tiny_vit", "--out", frames / "maps"),
        ("embed", frames, *EMBED, "--per-video", "--out", frames / "feats"),
    ):
        result = invoke(*args)
        assert result.exit_code == 2 and "would overwrite the input" in _one_error_line(result.output)
    assert sorted(p.name for p in frames.iterdir()) == [f"{i:04d}.png" for i in range(8)]
    assert not any("/resolve/" in r.path for r in hub_server.requests)  # refused before any fetch


# --------------------------------------------------------------------------- 2. one writer per output


def test_a_second_writer_is_refused_in_one_line(tiny_catalog: Path, folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "feats.npy"
    with OutputLock(tmp_path / "feats.run.lock", out):  # held by a live process (this one)
        result = invoke("embed", folder, *EMBED, "--layer", "0", "--out", out)
    line = _one_error_line(result.output)
    assert result.exit_code == 2 and "is being written by another run" in line and f"pid {os.getpid()}" in line
    assert not out.exists() and not (tmp_path / "feats.run.json").exists()


def test_a_stale_lock_of_a_dead_process_is_taken_over(tiny_catalog: Path, folder: Path, tmp_path: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(gone.stdout)
    lock = tmp_path / "feats.run.lock"
    holder = {"pid": pid, "host": socket.gethostname(), "since": "2026-01-01T00:00:00+00:00", "command": "vidm embed"}
    lock.write_text(json.dumps(holder))
    output = _ok("embed", folder, *EMBED, "--out", tmp_path / "feats.npy")
    assert f"took over the lock of a run that is gone (pid {pid}" in output
    assert not lock.exists()  # released at the end
    lock.write_text(json.dumps({**holder, "host": "another-host"}))  # cannot tell whether it is alive: refuse
    result = invoke("embed", folder, *EMBED, "--out", tmp_path / "feats.npy")
    assert result.exit_code == 2 and "on another-host" in _one_error_line(result.output)


def _start(*args: object, pause: float = 1.0) -> subprocess.Popen[str]:
    env = {**os.environ, "NO_COLOR": "1", "VIDM_EMBED_TEST_PAUSE": str(pause)}
    command = [sys.executable, "-m", "vidmenagerie", "embed", *map(str, args)]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )


def test_two_runs_at_once_never_mix_rows_and_shards_still_run_in_parallel(
    tiny_catalog: Path, folder: Path, tmp_path: Path
) -> None:
    out = tmp_path / "feats.npy"
    first = _start(folder, *EMBED, "--out", out, pause=8)  # holds the lock while the second one starts
    while not (tmp_path / "feats.run.lock").exists():
        assert first.poll() is None, first.communicate()
        time.sleep(0.02)
    second = _start(folder, *EMBED, "--layer", "0", "--out", out)
    shards = [_start(folder, *EMBED, "--out", tmp_path / "sh.npy", "--shard", f"{i}/2") for i in range(2)]
    _, err2 = second.communicate(timeout=120)
    _, err1 = first.communicate(timeout=120)
    assert second.returncode == 2 and "is being written by another run" in err2, err2
    assert first.returncode == 0, err1
    record = json.loads((tmp_path / "feats.run.json").read_text())
    assert record["complete"] is True and record["settings"]["layers"] == [-1]
    assert np.load(out).shape == (2, 64) and not (tmp_path / "feats.parts").exists()
    for proc in shards:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    _ok("embed", "--merge", tmp_path / "sh.npy")
    np.testing.assert_allclose(np.load(tmp_path / "sh.npy"), np.load(out), atol=1e-6, rtol=0)


# --------------------------------------------------------------------------- 3, 9. resume notices changes


def test_a_replaced_video_is_embedded_again(tiny_catalog: Path, folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "feats.npy"
    _ok("embed", folder, *EMBED, "--out", out)
    write_video(folder / "a.mp4", _frames(20, 9))  # same name, other pictures
    output = _ok("embed", folder, *EMBED, "--out", out)
    assert "a.mp4: redoing: the input changed since it was embedded" in output and "1 resumed" in output
    _ok("embed", folder, *EMBED, "--out", tmp_path / "fresh.npy")
    np.testing.assert_allclose(np.load(out), np.load(tmp_path / "fresh.npy"), atol=1e-6, rtol=0)
    fingerprints = [row["fingerprint"] for row in _csv(tmp_path / "feats.videos.csv")]
    stat = (folder / "a.mp4").stat()
    assert fingerprints[0] == f"{stat.st_size}:{stat.st_mtime_ns}"


def test_a_changed_checkpoint_is_a_settings_change(tiny_catalog: Path, folder: Path, tmp_path: Path) -> None:
    checkpoint = write_checkpoint(tmp_path / "mine.pth", "mae", seed=5)
    out = tmp_path / "feats.npy"
    args = ("embed", folder, *EMBED, "--checkpoint", checkpoint, "--out", out)
    _ok(*args)
    write_checkpoint(checkpoint, "mae", seed=6)
    result = invoke(*args)
    line = _one_error_line(result.output)
    assert result.exit_code == 2 and "holds rows of another checkpoint" in line and "--no-resume" in line
    _ok(*args, "--no-resume")
    _ok("embed", folder, *EMBED, "--checkpoint", checkpoint, "--out", tmp_path / "fresh.npy")
    np.testing.assert_allclose(np.load(out), np.load(tmp_path / "fresh.npy"), atol=1e-6, rtol=0)


def test_other_inputs_into_the_same_output_are_refused(tiny_catalog: Path, folder: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    write_video(other / "c.mp4", _frames(20, 7))
    out = tmp_path / "feats.npy"
    _ok("embed", folder, *EMBED, "--out", out)
    result = invoke("embed", other, *EMBED, "--out", out)
    line = _one_error_line(result.output)
    assert result.exit_code == 2 and "holds a run over other inputs: 2 of its 2 inputs are not in" in line
    assert np.load(out).shape == (2, 64)  # untouched
    _ok("embed", other, *EMBED, "--out", out, "--no-resume")
    assert [Path(r["video"]).name for r in _csv(tmp_path / "feats.videos.csv")] == ["c.mp4"]


# --------------------------------------------------------------------------- 7. non-finite outputs


def test_non_finite_features_fail_their_video_not_the_run(tiny_catalog: Path, folder: Path, tmp_path: Path) -> None:
    model = vm.load_model("tiny_vit", device="cpu")
    with torch.no_grad():
        model.norm.weight[0] = float("nan")
    settings = EmbedSettings.for_model(vm.get_model_entry("tiny_vit"), sampling_rate=2)
    run = embed_videos([folder / "a.mp4"], tmp_path / "feats.npy", settings, model=model, workers=0, device="cpu")
    assert run.failed == [(str(folder / "a.mp4"), run.failed[0][1])] and "not finite" in run.failed[0][1]
    assert np.load(tmp_path / "feats.npy").shape == (0, 64)


# --------------------------------------------------------------------------- 10. Ctrl-C


def test_ctrl_c_says_what_was_kept_and_workers_stay_quiet(tiny_catalog: Path, folder: Path, tmp_path: Path) -> None:
    write_video(folder / "c.mp4", _frames(20, 3))
    out = tmp_path / "feats.npy"
    proc = _start(folder, "--model", "tiny_vit", "--sampling-rate", "2", "--workers", "2", "--out", out, pause=60)
    while not committed(tmp_path / "feats.parts", "*.json"):
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal does: the whole process group, workers too
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted: 1 of 3 inputs finished and kept in" in stderr and "run the same command again" in stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr


def test_killed_parent_leaves_no_worker_tracebacks(tiny_catalog: Path, folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "feats.npy"
    proc = _start(folder, "--model", "tiny_vit", "--sampling-rate", "2", "--workers", "2", "--out", out, pause=60)
    while not committed(tmp_path / "feats.parts", "*.json"):
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    proc.kill()
    time.sleep(3)  # orphaned workers notice and go
    _, stderr = proc.communicate(timeout=60)
    assert "Traceback" not in stderr, stderr


# --------------------------------------------------------------------------- 11, 13. one-line errors, real paths


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
@pytest.mark.parametrize("command", ["embed", "attend", "complete"])
def test_cuda_without_a_gpu_is_one_line(tiny_catalog: Path, folder: Path, command: str, tmp_path: Path) -> None:
    model = "tiny_mae" if command == "complete" else "tiny_vit"
    result = invoke(command, folder, "--model", model, "--device", "cuda", "--out", tmp_path / "o.npy")
    assert result.exit_code == 2 and "--device: cuda: this machine has no CUDA GPU" in _one_error_line(result.output)


def test_a_folder_named_like_the_output_fails_before_any_work(
    tiny_catalog: Path, folder: Path, tmp_path: Path, hub_server
) -> None:
    (tmp_path / "x.npy").mkdir()
    result = invoke("embed", folder, *EMBED, "--out", tmp_path / "x.npy")
    assert result.exit_code == 2 and "x.npy is a folder" in _one_error_line(result.output)
    assert not any("/resolve/" in r.path for r in hub_server.requests)
    (tmp_path / "plain").write_text("a file")
    result = invoke("attend", folder, "--model", "tiny_vit", "--out", tmp_path / "plain" / "maps")
    assert result.exit_code == 2 and "plain is a file, not a folder" in _one_error_line(result.output)


def test_write_failures_name_the_real_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "feats.npy"

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "save", full)
    with pytest.raises(OSError) as caught, atomic_path(target) as tmp, tmp.open("wb") as handle:
        np.save(handle, np.zeros(3))
    assert caught.value.filename == str(target) and "No space left on device" in str(caught.value)
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind
    from vidmenagerie.cli._errors import format_error

    message, _ = format_error(caught.value)
    assert message.startswith(f"{target}: ") and ".tmp" not in message


# --------------------------------------------------------------------------- 14. merge, skipped folders, terminals


def test_merged_record_names_the_merged_files(tiny_catalog: Path, folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.npy"
    for i in range(2):
        _ok("embed", folder, *EMBED, "--out", out, "--shard", f"{i}/2")
    _ok("embed", "--merge", out)
    files = json.loads((tmp_path / "m.run.json").read_text())["files"]
    assert files == {"index": "m.index.csv", "videos": "m.videos.csv", "run": "m.run.json", "features": "m.npy"}


def test_unreadable_subfolders_are_counted(
    tiny_catalog: Path, folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("locked", "private"):
        (folder / name).mkdir()
        write_video(folder / name / "x.mp4", _frames(20, 5))
    real = find_module.is_frame_folder

    def refuse(path: Path, mode: str = "auto") -> bool:
        if path.name in ("locked", "private"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path, mode)  # type: ignore[arg-type]

    monkeypatch.setattr(find_module, "is_frame_folder", refuse)
    output = _ok("embed", folder, *EMBED, "--out", tmp_path / "feats.npy")
    assert "skipped 2 unreadable folders" in output and "Permission denied" in output
    assert len(_csv(tmp_path / "feats.videos.csv")) == 2


def test_control_characters_never_reach_the_terminal(tiny_catalog: Path, tmp_path: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    evil = root / "a\x1b]0;pwned\x07\x1b[2J.mp4"
    write_video(evil, _frames(20, 1))
    (root / "bad\x1b[31m.mp4").write_bytes(b"not a video")
    result = invoke("embed", root, *EMBED, "--out", tmp_path / "feats.npy")
    assert result.exit_code == 1
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "a\\x1b]0;pwned\\x07\\x1b[2J.mp4" in result.output and "bad\\x1b[31m.mp4" in result.output


# --------------------------------------------------------------------------- 8. stored precision


def test_an_fp16_checkpoint_is_said_to_be_upcast(tiny_catalog: Path, folder: Path, tmp_path: Path) -> None:
    state = torch.load(write_checkpoint(tmp_path / "f32.pth", "mae", seed=5), weights_only=True)
    half = {k: v.half() if v.is_floating_point() else v for k, v in state["model"].items()}
    torch.save({"model": half}, tmp_path / "f16.pth")
    out = tmp_path / "feats.npy"
    output = _ok("embed", folder / "a.mp4", *EMBED, "--checkpoint", tmp_path / "f16.pth", "--out", out)
    assert output.count("stores float16 weights; they are upcast to float32") == 1
    assert json.loads((tmp_path / "feats.run.json").read_text())["checkpoint_dtype"] == "float16"
    attend = _ok("attend", folder / "a.mp4", "--model", "tiny_vit", *FAST, "--checkpoint", tmp_path / "f16.pth",
                 "--out", tmp_path / "maps")  # fmt: skip
    assert "stores float16 weights" in attend
    assert json.loads((tmp_path / "maps" / "run.json").read_text())["model"]["checkpoint_dtype"] == "float16"


def test_catalogue_text_is_shown_escaped(tmp_path: Path) -> None:
    write_checkpoint(tmp_path / "m.pth", "mae")
    catalog = tmp_path / "c.toml"
    catalog.write_text(
        '[models.odd]\nkind = "vit"\ncheckpoint = "m.pth"\nimg_size = 56\nnum_frames = 4\nembed_dim = 64\n'
        'depth = 2\nnum_heads = 4\ndescription = "nice \\u001b]0;pwned\\u0007 model \\u001b[2J"\n'
    )
    for args in (("info", "odd"), ("list", "odd*"), ("list", "odd*", "--json")):
        result = invoke(*args, "--catalog", catalog)
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.output and "\x07" not in result.output
    assert "nice \\x1b]0;pwned\\x07 model" in invoke("info", "odd", "--catalog", catalog).output


def test_a_folder_where_an_output_file_goes_is_refused_up_front(
    tiny_catalog: Path, folder: Path, tmp_path: Path
) -> None:
    (tmp_path / "feats.run.json").mkdir()
    result = invoke("embed", folder, *EMBED, "--out", tmp_path / "feats.npy")
    line = _one_error_line(result.output)
    assert result.exit_code == 2 and "feats.run.json is a folder where a file must go" in line
    (tmp_path / "maps" / "run.json").mkdir(parents=True)
    result = invoke("attend", folder, "--model", "tiny_vit", *FAST, "--out", tmp_path / "maps")
    assert result.exit_code == 2 and "run.json is a folder where a file must go" in _one_error_line(result.output)


# --------------------------------------------------------------------------- round 2 (issue 19)
# 1. an input that was not selected is never overwritten


@pytest.mark.parametrize(("command", "theirs"), [("complete", "a.complete.mp4"), ("attend", "a.attend.mp4"),
                                                  ("complete", "a.complete.jpg")])  # fmt: skip
def test_an_input_that_was_not_selected_is_not_overwritten(
    tiny_catalog: Path, folder: Path, command: str, theirs: str
) -> None:
    from PIL import Image

    from vidmenagerie.batch.outputs import select_videos

    (folder / "b.mp4").unlink()
    if theirs.endswith(".jpg"):
        Image.fromarray(_frames(1, 8)[0]).save(folder / theirs)
    else:
        write_video(folder / theirs, _frames(20, 8))
    before = (folder / theirs).read_bytes()
    seed = next(s for s in range(100) if select_videos(sorted(folder.iterdir()), 1, s) == [folder / "a.mp4"])
    model = "tiny_vit" if command == "attend" else "tiny_mae"
    result = invoke(command, folder, "--model", model, *FAST, "--animate", "--num-vids", "1", "--seed", seed,
                    "--out", folder)  # fmt: skip
    line = _one_error_line(result.output)
    assert result.exit_code == 2 and f"{folder / theirs} would overwrite the input" in line, result.output
    assert (folder / theirs).read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == sorted(["a.mp4", theirs])  # nothing written at all


# 2. a page vidm did not write is never replaced

MINE = "<html><body>my own page</body></html>\n"


def test_a_users_index_html_is_never_replaced(tiny_catalog: Path, folder: Path, tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text(MINE)
    output = _ok("embed", folder, *EMBED, "--out", tmp_path / "feats.npy")  # the run's page has its own name
    assert (tmp_path / "index.html").read_text() == MINE
    assert f"report: {tmp_path / 'feats.html'}" in output
    assert (
        'content="vidmenagerie"' in (tmp_path / "feats.html").read_text()
        and "Features: feats.npy" in (tmp_path / "feats.html").read_text()
    )
    out = tmp_path / "pictures"
    out.mkdir()
    (out / "index.html").write_text(MINE)
    output = _ok("complete", folder / "a.mp4", "--model", "tiny_mae", *FAST, "--out", out)  # the run keeps its results
    assert f"no report: {out / 'index.html'} was not written by vidm, so it is left as it is" in output
    assert (out / "index.html").read_text() == MINE and (out / "a.complete.jpg").is_file()
    result = invoke("report", out)
    assert result.exit_code == 2 and "was not written by vidm" in _one_error_line(result.output)
    assert (out / "index.html").read_text() == MINE
    (out / "index.html").unlink()
    _ok("report", out)  # a page of ours is rebuilt, again and again
    _ok("report", out)
    assert "a.complete.jpg" in (out / "index.html").read_text()
    _ok("report", tmp_path / "feats.npy")
    assert (tmp_path / "index.html").read_text() == MINE


# 3. a full disk is one line, leaves no temporary file or lock, and resumes byte-identical


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB tmpfs of its own, unmounted afterwards (mounting needs root and a kernel that allows it)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs to fill needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        yield disk
    finally:
        if subprocess.run(["umount", str(disk)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(disk)], check=True)  # still busy: detach it all the same


def test_a_full_disk_is_one_line_and_resumes_byte_identical(
    tiny_catalog: Path, tmp_path: Path, small_disk: Path
) -> None:
    root = tmp_path / "long"
    root.mkdir()
    write_video(root / "a.mp4", _frames(48, 1))
    write_video(root / "b.mp4", _frames(48, 2))
    args = (root, *EMBED, "--pool", "tokens", "--clips", "uniform:16", "--no-report")
    _ok("embed", *args, "--out", tmp_path / "ref" / "feats.npy")
    expected = (tmp_path / "ref" / "feats.npy").read_bytes()
    size = len(expected)  # 256 KB: the parts of finished videos fit, the final file beside them does not
    ballast = small_disk / "ballast"
    ballast.write_bytes(b"\0" * (shutil.disk_usage(small_disk).free - size * 3 // 2 - 64_000))
    out = small_disk / "feats.npy"
    failed = run_vidm("embed", *args, "--out", out)
    assert failed.returncode == 1, (failed.returncode, failed.stderr)  # not -7 (SIGBUS)
    line = _one_error_line(failed.stderr)
    assert line.startswith(f"Error: {out}: cannot write: No space left on device (it needs {size / 1000:.1f} kB")
    left = sorted(p.name for p in small_disk.iterdir())
    assert left == ["ballast", "feats.parts", "feats.run.json"], left  # no temporary file, no lock
    ballast.unlink()
    resumed = run_vidm("embed", *args, "--out", out)
    assert resumed.returncode == 0 and "2 resumed" in resumed.stderr, resumed.stderr
    assert out.read_bytes() == expected


# 4. links are followed, but each real folder and file is taken once


def test_symlink_loops_count_each_real_file_once(tiny_catalog: Path, tmp_path: Path) -> None:
    classes = tmp_path / "d"
    (classes / "one").mkdir(parents=True)
    write_video(classes / "one" / "a.mp4", _frames(20, 1))
    write_video(classes / "one" / "b.mp4", _frames(20, 2))
    (classes / "one" / "sub").mkdir()
    (classes / "one" / "sub" / "up").symlink_to("..")  # a loop: one/sub/up/sub/up/... is one/ again
    output = _ok("embed", classes, *EMBED, "--out", tmp_path / "feats.npy")
    assert "skipped 1 repeat: links to a folder or file already found" in output
    assert [Path(r["video"]).name for r in _csv(tmp_path / "feats.videos.csv")] == ["a.mp4", "b.mp4"]
    (classes / "one" / "sub" / "again").symlink_to("../sub")  # a second loop: it hung
    (classes / "two").mkdir()
    (classes / "two" / "c.mp4").symlink_to("../one/a.mp4")  # a real file reached twice counts once
    result = run_vidm("evaluate", classes, "--model", "tiny_cls", *FAST, "--out", tmp_path / "e", timeout=120)
    assert result.returncode == 0, result.stderr
    assert "skipped 3 repeats: links to a folder or file already found" in result.stderr
    record = json.loads((tmp_path / "e" / "eval.json").read_text())
    assert record["scores"]["videos"] == 2 and "2 inputs scored;" in result.stderr


# 6. an input listed twice is scored once; two labels for one input is one clear line


def test_duplicate_rows_are_scored_once(tiny_catalog: Path, folder: Path, tmp_path: Path) -> None:
    table = tmp_path / "l.csv"
    table.write_text(f"path,label\n{folder / 'a.mp4'},one\n{folder / 'b.mp4'},two\n{folder / 'a.mp4'},one\n")
    kinetics = tmp_path / "k.csv"  # two segments of one file
    kinetics.write_text("label,youtube_id,time_start,time_end,split\none,a,0,10,val\none,a,10,20,val\ntwo,b,0,5,val\n")
    ssv2 = tmp_path / "s.json"
    ssv2.write_text(json.dumps([{"id": "a", "template": "one"}, {"id": "b", "template": "two"}] * 2))
    for source, extra, twice in ((table, (), "1 row names"), (kinetics, ("--videos", folder), "1 row names"),
                                 (ssv2, ("--videos", folder), "2 rows name")):  # fmt: skip
        out = tmp_path / f"e-{source.stem}"
        for _ in range(2):  # and again: the output is never "incomplete or damaged"
            result = invoke("evaluate", source, *extra, "--model", "tiny_cls", *FAST, "--out", out)
            assert result.exit_code == 0, result.output
            assert f"{twice} an input already listed (with the same label): each input is scored once" in result.output
        record = json.loads((out / "eval.json").read_text())
        assert record["scores"]["videos"] == 2 and record["labels"]["duplicates"] == int(twice[0])
        assert len(_csv(out / "eval.predictions.csv")) == 2
    settings = EmbedSettings.for_model(vm.get_model_entry("tiny_vit"), sampling_rate=2)  # the library too
    embed_videos([folder / "a.mp4", folder / "b.mp4", folder / "a.mp4"], tmp_path / "f.npy", settings, workers=0)
    assert [Path(v.video).name for v in vm.load_features(tmp_path / "f.npy").videos] == ["a.mp4", "b.mp4"]
    table.write_text(f"path,label\n{folder / 'a.mp4'},one\n{folder / 'b.mp4'},two\n{folder / 'a.mp4'},three\n")
    result = invoke("evaluate", table, "--model", "tiny_cls", *FAST, "--out", tmp_path / "conflict")
    line = _one_error_line(result.output)
    assert (
        result.exit_code == 1
        and f"{folder / 'a.mp4'}: listed with two labels, 'one' (l.csv:2) and 'three' (l.csv:4)" in line
    )
    assert not (tmp_path / "conflict").exists()


# 7. a file name that is not UTF-8 is recorded losslessly and stops nothing

ODD_NAME = os.fsdecode(b"a\xff.mp4")  # "a\udcff.mp4": the undecodable byte, as Python holds it


def test_a_non_utf8_name_is_recorded_and_stops_nothing(tiny_catalog: Path, tmp_path: Path) -> None:
    root = tmp_path / "d"
    (root / "one").mkdir(parents=True)
    write_video(root / "one" / ODD_NAME, _frames(20, 1))
    write_video(root / "one" / "b.mp4", _frames(20, 2))
    odd = root / "one" / ODD_NAME
    _ok("embed", root, *EMBED, "--out", tmp_path / "feats.npy")
    escaped = str(odd).replace(ODD_NAME, "a\\xff.mp4")  # the manifests are UTF-8: the byte is written \xff
    rows = _csv(tmp_path / "feats.videos.csv")  # (read as text, which fails on any byte that is not UTF-8)
    assert [(r["video"], r["status"]) for r in rows] == [(escaped, "ok"), (str(root / "one" / "b.mp4"), "ok")]
    assert vm.load_features(tmp_path / "feats.npy").videos[0].video == str(odd)  # read back as it was
    assert "2 resumed" in _ok("embed", root, *EMBED, "--out", tmp_path / "feats.npy")
    assert "a\\xff.mp4" in (tmp_path / "feats.html").read_text()
    _ok("complete", root, "--model", "tiny_mae", *FAST, "--out", tmp_path / "c")
    assert (tmp_path / "c" / os.fsdecode(b"a\xff.complete.jpg")).is_file()
    _ok("classify", root, "--model", "tiny_cls", *FAST, "--out", tmp_path / "k")
    assert [r["video"] for r in _csv(tmp_path / "k" / "classify.csv")] == [escaped, str(root / "one" / "b.mp4")]
    _ok("evaluate", root, "--model", "tiny_cls", *FAST, "--out", tmp_path / "e")
    assert json.loads((tmp_path / "e" / "eval.json").read_text())["scores"]["videos"] == 2
    assert escaped in [r["video"] for r in _csv(tmp_path / "e" / "eval.predictions.csv")]
    proc = run_vidm("embed", root, *EMBED, "--out", tmp_path / "again.npy")  # the real entry point, stdout too
    assert proc.returncode == 0 and "a\\xff.mp4" in proc.stderr, proc.stderr


# 8. a .txt list with a missing entry: the others go on, the missing one is listed as failed


def test_a_missing_list_entry_fails_alone(tiny_catalog: Path, folder: Path, tmp_path: Path) -> None:
    listing = tmp_path / "list.txt"
    listing.write_text(f"{folder / 'a.mp4'}\n{folder / 'gone.mp4'}\n{folder / 'b.mp4'}\n")
    result = invoke("embed", listing, *EMBED, "--out", tmp_path / "feats.npy")
    assert result.exit_code == 1 and f"{folder / 'gone.mp4'}: no such file" in result.output, result.output
    rows = {Path(r["video"]).name: r for r in _csv(tmp_path / "feats.videos.csv")}
    assert [rows[n]["status"] for n in ("a.mp4", "gone.mp4", "b.mp4")] == ["ok", "failed", "ok"]
    assert "no such file" in rows["gone.mp4"]["reason"] and np.load(tmp_path / "feats.npy").shape == (2, 64)
    result = invoke("complete", listing, "--model", "tiny_mae", *FAST, "--out", tmp_path / "c")
    assert result.exit_code == 1 and "2 of 3 inputs done, 1 failed" in result.output, result.output
    assert sorted(p.name for p in (tmp_path / "c").glob("*.jpg")) == ["a.complete.jpg", "b.complete.jpg"]


# 9. clear lines, not Python errors

BROKEN_RECORDS = [  # hand edits: lists for objects, strings for numbers
    ("eval.json", lambda r: []),
    ("eval.json", lambda r: {**r, "scores": []}),
    ("eval.json", lambda r: {**r, "scores": {**r["scores"], "acc1_video": "high"}}),
    ("eval.json", lambda r: {**r, "labels": "a list", "excluded": []}),
    ("run.json", lambda r: []),
    ("run.json", lambda r: {**r, "clips": {"a": 1}}),
    ("run.json", lambda r: {**r, "clips": [{**c, "mse": "low", "times": "0"} for c in r["clips"]]}),
    ("run.json", lambda r: {**r, "settings": [], "seconds": "ten", "model": "tiny"}),
]


@pytest.mark.parametrize(("name", "edit"), BROKEN_RECORDS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(BROKEN_RECORDS)])
def test_a_hand_edited_record_gives_a_page_that_says_so(
    tiny_catalog: Path, folder: Path, tmp_path: Path, name: str, edit: object
) -> None:
    out = tmp_path / "out"
    if name == "eval.json":
        table = tmp_path / "l.csv"
        table.write_text(f"{folder / 'a.mp4'},one\n{folder / 'b.mp4'},two\n")
        _ok("evaluate", table, "--model", "tiny_cls", *FAST, "--out", out)
    else:
        _ok("complete", folder, "--model", "tiny_mae", *FAST, "--out", out)
    record = out / name
    record.write_text(json.dumps(edit(json.loads(record.read_text()))))  # type: ignore[operator]
    (out / "index.html").unlink()
    result = invoke("report", out)
    assert result.exit_code == 0, result.output
    page = (out / "index.html").read_text()
    assert ": could not be read</h2>" in page and f"{name}: " in page, page[-3000:]


def test_unreadable_pictures_are_one_line_each(tiny_catalog: Path, folder: Path, tmp_path: Path) -> None:
    from PIL import Image

    Image.new("L", (200000, 1), 128).save(folder / "thin.png")
    Image.new("L", (12000, 12000), 128).save(folder / "huge.png")  # over PIL's decompression-bomb limit
    for model in ("tiny_vit", "tiny_img"):  # both recipes: area scaling and bicubic
        result = run_vidm("embed", folder, "--model", model, *FAST, "--out", tmp_path / f"{model}.npy")
        assert result.returncode == 1 and "Traceback" not in result.stderr and "Warning" not in result.stderr
        reasons = {Path(r["video"]).name: r["reason"] for r in _csv(tmp_path / f"{model}.videos.csv")}
        assert reasons["thin.png"].startswith("a 200000x1 picture is too thin to read"), reasons
        assert "Image size (144000000 pixels) exceeds limit of" in reasons["huge.png"], reasons
        assert reasons["a.mp4"] == reasons["b.mp4"] == ""  # the others went on
    result = invoke("embed", "/dev/zero", *EMBED, "--out", tmp_path / "z.npy")
    assert result.exit_code == 1 and "/dev/zero: a character device, not a video, image or folder" in _one_error_line(
        result.output
    )


def test_ssv2_annotations_with_a_bom_or_deep_nesting(tiny_catalog: Path, folder: Path, tmp_path: Path) -> None:
    ssv2 = tmp_path / "s.json"
    ssv2.write_bytes(b"\xef\xbb\xbf" + json.dumps([{"id": "a", "template": "one"}]).encode())  # a BOM, as the CSVs
    _ok("evaluate", ssv2, "--videos", folder, "--model", "tiny_cls", *FAST, "--out", tmp_path / "e")
    ssv2.write_text("[" * 100_000 + "]" * 100_000)
    result = invoke("evaluate", ssv2, "--videos", folder, "--model", "tiny_cls", *FAST, "--out", tmp_path / "e2")
    line = _one_error_line(result.output)
    assert result.exit_code == 1 and f"{ssv2}: cannot read the SSv2 annotations (nested too deeply)" in line


def test_views_and_merges_are_named_as_evaluate_knows_them(tiny_catalog: Path, folder: Path, tmp_path: Path) -> None:
    table = tmp_path / "l.csv"
    table.write_text(f"{folder / 'a.mp4'},one\n{folder / 'b.mp4'},two\n")
    result = invoke("evaluate", table, "--model", "tiny_cls", "--views", "100001x1", "--out", tmp_path / "e")
    line = _one_error_line(result.output)
    assert result.exit_code == 2 and line == "Error: --views: 100001x1: at most 100000 clips per video, got 100001"
    out = tmp_path / "sharded"
    for i in range(2):
        _ok("evaluate", table, "--model", "tiny_cls", *FAST, "--out", out, "--shard", f"{i}/2")
    other = tmp_path / "other.csv"
    other.write_text(f"{folder / 'b.mp4'},two\n")
    result = invoke("evaluate", other, "--model", "tiny_cls", "--merge", "--out", out)
    line = _one_error_line(result.output)
    assert result.exit_code == 2 and f"holds views of other inputs than {other}: 1 of its 2 inputs" in line, line
    _ok("evaluate", table, "--model", "tiny_cls", "--merge", "--out", out)  # the source it was run on


# 10. the evaluate page says a missing file is missing


def test_the_evaluate_page_says_missing_files_are_missing(tiny_catalog: Path, folder: Path, tmp_path: Path) -> None:
    table = tmp_path / "l.csv"
    table.write_text(f"{folder / 'a.mp4'},one\n{folder / 'b.mp4'},two\n")
    out = tmp_path / "e"
    _ok("evaluate", table, "--model", "tiny_cls", *FAST, "--out", out)
    for name in ("eval.predictions.csv", "eval.per_class.csv", "eval.confusion.png"):
        (out / name).unlink()
    _ok("report", out)
    page = (out / "index.html").read_text()
    assert "No input was misclassified" not in page and "No per-class table" not in page
    for name in ("eval.predictions.csv", "eval.per_class.csv", "eval.confusion.png"):
        assert f"{name} is missing, so this cannot be shown" in page
    assert "<h3>Misclassified</h3>" in page  # no count it cannot know


# 11. Ctrl-C: one line and 130, always


def _interrupt(args: tuple[object, ...], *, after: float | None = None, when: Path | None = None) -> tuple[int, str]:
    """Run ``vidm ARGS``, send its process group a Ctrl-C ``after`` seconds (or once ``when`` exists),
    return its exit code and stderr."""
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "vidmenagerie", *map(str, args)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while when is not None and not list(when.parent.glob(when.name)):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.02)
        time.sleep(after or 0)
        os.killpg(proc.pid, signal.SIGINT)  # as a terminal does: the whole group, decoding workers too
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    return proc.returncode, stderr


@pytest.mark.parametrize("after", [0.3, 1.0, 2.0])  # importing, loading the model, starting the workers
def test_ctrl_c_in_the_first_seconds_is_one_line_and_130(
    tiny_catalog: Path, folder: Path, tmp_path: Path, after: float
) -> None:
    write_video(folder / "c.mp4", _frames(20, 3))
    code, stderr = _interrupt(("embed", folder, "--model", "tiny_vit", "--sampling-rate", "2", "--workers", "2",
                               "--out", tmp_path / "f.npy"), after=after)  # fmt: skip
    lines = [line for line in stderr.splitlines() if not line.startswith("done ")]
    assert code == 130 and len(lines) == 1 and lines[0].startswith("interrupted"), (code, stderr)
    assert "Traceback" not in stderr and "exited unexpectedly" not in stderr


def test_ctrl_c_during_a_download_is_one_line_and_force_clears_what_killed_runs_left(
    tiny_catalog: Path, hub_server
) -> None:
    from conftest import TINY_REPO

    blobs = Path(os.environ["HF_HUB_CACHE"]) / "models--me--tiny-models" / "blobs"
    hub_server.hang(TINY_REPO, "mae.pth", at=10_000, times=None)
    code, stderr = _interrupt(("download", "tiny_mae"), after=0.2, when=blobs / "*.incomplete")
    assert code == 130 and stderr.splitlines()[-1].startswith("interrupted"), (code, stderr)
    assert "Traceback" not in stderr
    env = {**os.environ, "NO_COLOR": "1"}
    killed = subprocess.Popen([sys.executable, "-m", "vidmenagerie", "download", "tiny_mae"], env=env,
                              stderr=subprocess.DEVNULL)  # fmt: skip
    while len(list(blobs.glob("*.incomplete"))) < 1:
        time.sleep(0.02)
    killed.kill()  # a killed download leaves its partial file behind
    killed.wait()
    assert list(blobs.glob("*.incomplete")), "nothing to clear: the test proves nothing"
    hub_server.clear_faults()
    hub_server.release_hung()
    assert invoke("download", "tiny_mae", "--force").exit_code == 0
    assert not list(blobs.glob("*.incomplete")) and len(list(blobs.iterdir())) == 1


def test_a_decoding_worker_hit_by_ctrl_c_goes_on_quietly(
    folder: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """A terminal's Ctrl-C reaches the workers too; one hit while starting printed a traceback and failed
    the run ("worker exited unexpectedly"). Here each worker sends itself a SIGINT as it starts reading."""
    from vidmenagerie.batch.clips import ClipPlan, iter_clip_batches
    from vidmenagerie.preprocess import Preprocessing
    from vidmenagerie.video import dataset

    real = dataset._decoder_threads

    def interrupted_worker() -> int:
        if dataset.get_worker_info() is not None:
            os.kill(os.getpid(), signal.SIGINT)
        return real()

    monkeypatch.setattr(dataset, "_decoder_threads", interrupted_worker)
    pre = Preprocessing(img_size=56, short_side=64, num_frames=4, sampling_rate=2)
    batches = list(iter_clip_batches([folder / "a.mp4", folder / "b.mp4"], pre, ClipPlan(), batch_size=1, workers=2))
    assert sorted(v.name for b in batches for v in b.finished) == ["a.mp4", "b.mp4"]
    assert not any(b.failures for b in batches)
    assert "Traceback" not in capfd.readouterr().err
