"""Checkpoint access through the real ``hf_hub_download`` path, served by the local Hub stand-in."""

from __future__ import annotations

import errno
import hashlib
import importlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vidmenagerie.cli._errors import format_error
from vidmenagerie.errors import CatalogError, CheckpointError, DownloadError
from vidmenagerie.hub import CheckpointSource, cached_checkpoint, fetch_checkpoint

from hubserver import DOWNLOAD_CHUNK_SIZE, HubServer, set_hub_offline

# The fixtures, for as long as tests/conftest.py does not import them.

REPO = "eminorhan/video-models"
# Distinct contents: the cache is content-addressed, identical bytes would share one blob.
S_NONE = hashlib.sha256(b"s").digest() * 9000  # 288 000 bytes: several download chunks
SAY = hashlib.sha256(b"say").digest() * 7000
S = CheckpointSource(REPO, "s_none.pth")
SAY_SRC = CheckpointSource(REPO, "say_ssv2-50shot.pth")


@pytest.fixture
def hub(hub_server: HubServer) -> HubServer:
    """The stand-in with two checkpoints in ``eminorhan/video-models``."""
    hub_server.add_file(REPO, "s_none.pth", S_NONE)
    hub_server.add_file(REPO, "say_ssv2-50shot.pth", SAY)
    return hub_server


def blobs_dir() -> Path:
    return Path(os.environ["HF_HUB_CACHE"]) / "models--eminorhan--video-models" / "blobs"


def test_first_download_then_cache_hit(hub: HubServer) -> None:
    assert cached_checkpoint(S) is None
    assert hub.requests == []  # looking at the cache never touches the network

    path = fetch_checkpoint(S, progress=False)

    assert path.read_bytes() == S_NONE
    assert path.is_relative_to(os.environ["HF_HUB_CACHE"])
    assert [(r.method, r.path) for r in hub.requests] == [
        ("HEAD", f"/{REPO}/resolve/main/s_none.pth"),  # our quick probe: is the Hub there at all?
        ("HEAD", f"/{REPO}/resolve/main/s_none.pth"),
        ("GET", f"/{REPO}/resolve/main/s_none.pth"),
    ]
    assert cached_checkpoint(S) == path and path.stat().st_size == len(S_NONE)
    assert (blobs_dir() / HubServer.etag(S_NONE)).is_file()

    hub.clear_log()
    assert fetch_checkpoint(S, progress=False) == path
    assert hub.requests == []  # a cached file is final: no request at all


def test_force_downloads_again_and_repairs_a_damaged_blob(hub: HubServer) -> None:
    path = fetch_checkpoint(S, progress=False)
    path.resolve().write_bytes(b"garbage")

    assert fetch_checkpoint(S, force=True, progress=False) == path

    assert path.read_bytes() == S_NONE
    assert len(hub.calls("GET", "s_none.pth")) == 2


def test_progress_flag(hub: HubServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    hf_tqdm = importlib.import_module("huggingface_hub.utils.tqdm")  # the package attribute is the class

    monkeypatch.setattr(hf_tqdm, "HF_HUB_DISABLE_PROGRESS_BARS", None)
    monkeypatch.setattr(hf_tqdm, "progress_bar_states", {})
    monkeypatch.setenv("TQDM_POSITION", "-1")  # huggingface_hub's switch to show bars on a non-terminal

    fetch_checkpoint(S)
    assert "s_none.pth" in capsys.readouterr().err

    fetch_checkpoint(S, force=True, progress=False)
    assert capsys.readouterr().err == ""
    assert len(hub.calls("GET")) == 2
    assert hf_tqdm.progress_bar_states == {}  # per-call switch: no global state left behind


def test_offline_uses_the_cache_and_explains_what_is_missing(hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    path = fetch_checkpoint(S, progress=False)
    hub.clear_log()
    set_hub_offline(monkeypatch)

    assert fetch_checkpoint(S, progress=False) == path
    with pytest.raises(DownloadError) as info:
        fetch_checkpoint(SAY_SRC, progress=False, name="say_ssv2")
    assert str(info.value) == f"{REPO}/say_ssv2-50shot.pth is not cached and offline mode is on (HF_HUB_OFFLINE=1)"
    assert (info.value.problem, info.value.model) == ("offline", "say_ssv2")
    assert format_error(info.value)[0] == f"{info.value}: run `vidm download say_ssv2` with network access"
    with pytest.raises(DownloadError, match=r"^cannot download .*s_none\.pth again: offline mode is on"):
        fetch_checkpoint(S, force=True, progress=False)
    assert hub.requests == []  # nothing left the process
    assert cached_checkpoint(SAY_SRC) is None


def test_missing_file(hub: HubServer) -> None:
    with pytest.raises(DownloadError) as info:
        fetch_checkpoint(CheckpointSource(REPO, "hvm1@448_none.pth"), progress=False)
    assert str(info.value).startswith(f"file hvm1@448_none.pth not found in repo {REPO} on {hub.url}")
    assert "\n" not in str(info.value)
    # huggingface_hub caches the 404 as a `.no_exist` marker: that must not read as a cached file.
    assert cached_checkpoint(CheckpointSource(REPO, "hvm1@448_none.pth")) is None

    hub.add_file(REPO, "hvm1@448_none.pth", b"late upload")
    late = fetch_checkpoint(CheckpointSource(REPO, "hvm1@448_none.pth"), progress=False)
    assert late.read_bytes() == b"late upload"


def test_unknown_repo(hub: HubServer) -> None:
    with pytest.raises(DownloadError, match=rf"^repo eminorhan/nope not found on {hub.url} \(if it is priv"):
        fetch_checkpoint(CheckpointSource("eminorhan/nope", "s_none.pth"), progress=False)


def test_dropped_transfer_is_resumed_with_a_range_request(hub: HubServer, hf_sleeps: list[float]) -> None:
    hub.truncate(REPO, "s_none.pth", at=100_000, times=1)

    assert fetch_checkpoint(S, progress=False).read_bytes() == S_NONE

    first, second = hub.calls("GET")
    assert "range" not in first.headers
    written = DOWNLOAD_CHUNK_SIZE  # only whole chunks reach the file before the drop
    assert second.headers["range"] == f"bytes={written}-"
    assert hf_sleeps == [1]


def test_interrupted_download_never_counts_as_done(hub: HubServer) -> None:
    hub.truncate(REPO, "s_none.pth", at=100_000)  # every attempt dies at the same byte

    with pytest.raises(DownloadError) as info:
        fetch_checkpoint(S, progress=False, name="s")
    assert str(info.value) == f"download of {REPO}/s_none.pth was interrupted (connection dropped)"
    assert format_error(info.value)[0] == f"{info.value}: run `vidm download s` again"
    assert len(hub.calls("GET")) > 1  # the client did retry
    assert cached_checkpoint(S) is None
    assert list(blobs_dir().iterdir()) == []  # no blob, no `.incomplete` left behind

    hub.clear_faults()
    assert fetch_checkpoint(S, progress=False).read_bytes() == S_NONE


def test_killed_download_leaves_only_an_incomplete_file(hub: HubServer, tmp_path: Path) -> None:
    hub.hang(REPO, "s_none.pth", at=10_000)
    # The same call fetch_checkpoint makes, without importing vidmenagerie (and torch) in the child.
    script = f"from huggingface_hub import hf_hub_download; hf_hub_download({REPO!r}, 's_none.pth')"
    # The fixture exported HF_ENDPOINT, HF_HOME, HF_HUB_CACHE and HF_HUB_OFFLINE=0 into os.environ.
    proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while not (hub.calls("GET") and list(blobs_dir().glob("*.incomplete"))):
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "the subprocess never started downloading"
            time.sleep(0.02)
    finally:
        proc.kill()
        proc.communicate()

    assert [p.suffix for p in blobs_dir().iterdir()] == [".incomplete"]
    assert cached_checkpoint(S) is None
    hub.release_hung()
    assert fetch_checkpoint(S, progress=False).read_bytes() == S_NONE
    assert cached_checkpoint(S) is not None


def test_server_error(hub: HubServer, hf_sleeps: list[float]) -> None:
    cached = fetch_checkpoint(S, progress=False)
    hub.fail(REPO, "s_none.pth", 500)
    hub.fail(REPO, "say_ssv2-50shot.pth", 503)
    hub.clear_log()

    assert fetch_checkpoint(S, progress=False) == cached  # a cached file survives a Hub outage
    assert hf_sleeps == []
    with pytest.raises(DownloadError) as info:
        fetch_checkpoint(SAY_SRC, progress=False)
    assert str(info.value) == f"the Hub at {hub.url} failed with HTTP 503 for {REPO}/say_ssv2-50shot.pth"
    assert format_error(info.value)[0].endswith(": try again later")
    assert hf_sleeps == []  # one quick question, no back-off: the answer comes at once
    assert len(hub.calls("HEAD", "say_ssv2-50shot.pth")) == 1
    assert cached_checkpoint(SAY_SRC) is None


def test_hub_unreachable(hub: HubServer) -> None:
    cached = fetch_checkpoint(S, progress=False)
    url = hub.url
    hub.stop()  # the port is closed: connections are refused

    assert fetch_checkpoint(S, progress=False) == cached
    with pytest.raises(DownloadError, match=rf"^cannot reach the Hub at {url} to fetch {REPO}/say_ssv2"):
        fetch_checkpoint(SAY_SRC, progress=False)


def test_timeout(hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_DOWNLOAD_TIMEOUT", 0.1)
    hub.hang(REPO, "s_none.pth", at=0, times=None)  # headers, then silence

    with pytest.raises(DownloadError, match=rf"^the Hub at {hub.url} did not answer in time while fetching {REPO}/s_n"):
        fetch_checkpoint(S, progress=False)
    assert cached_checkpoint(S) is None


def test_a_slow_first_answer_is_asked_once_more(hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_ETAG_TIMEOUT", "0.3")
    hub.stall(REPO, "s_none.pth", 1500, times=1)  # the first question misses its deadline, the second is answered
    assert fetch_checkpoint(S, progress=False) == cached_checkpoint(S)
    assert len(hub.calls("HEAD", "s_none.pth")) >= 2
    hub.clear_log()
    hub.stall(REPO, "say_ssv2-50shot.pth", 1500, times=None)  # slow every time: two questions, then one line
    with pytest.raises(DownloadError, match=rf"^the Hub at {hub.url} did not answer in time"):
        fetch_checkpoint(SAY_SRC, progress=False)
    assert len(hub.calls("HEAD", "say_ssv2-50shot.pth")) == 2
    hub.release_hung()


def test_disk_full(hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = Path.open

    class FullDisk:
        """A file object whose writes fail like a full filesystem."""

        def __init__(self, f):
            self._f = f

        def write(self, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self._f.close()

        def __getattr__(self, name):
            return getattr(self._f, name)

    def open_on_full_disk(self, mode="r", *args, **kwargs):
        f = real_open(self, mode, *args, **kwargs)
        return FullDisk(f) if self.name.endswith(".incomplete") and "w" in mode else f

    monkeypatch.setattr(Path, "open", open_on_full_disk)

    with pytest.raises(DownloadError, match=r"^disk full while downloading .*s_none\.pth into .*") as info:
        fetch_checkpoint(S, progress=False)
    assert "free some space" in format_error(info.value)[0]
    assert cached_checkpoint(S) is None
    assert list(blobs_dir().iterdir()) == []


def test_local_checkpoint(tmp_path: Path, hub: HubServer) -> None:
    weights = tmp_path / "my weights [v2].pth"
    weights.write_bytes(b"local")
    local = CheckpointSource(local_path=weights)

    assert fetch_checkpoint(local) == weights
    assert cached_checkpoint(local) == weights
    assert local.label == str(weights)

    gone = CheckpointSource(local_path=tmp_path / "gone.pth")
    assert cached_checkpoint(gone) is None
    with pytest.raises(CheckpointError, match=rf"^checkpoint file {tmp_path / 'gone.pth'} does not exist$"):
        fetch_checkpoint(gone)
    with pytest.raises(CheckpointError, match="is not a file"):
        fetch_checkpoint(CheckpointSource(local_path=tmp_path))
    assert hub.requests == []


def test_checkpoint_source() -> None:
    assert S.label == "eminorhan/video-models/s_none.pth"
    assert CheckpointSource(local_path="~/w.pth").local_path == Path("~/w.pth").expanduser()  # type: ignore[arg-type]
    with pytest.raises(CatalogError):
        CheckpointSource(REPO)
    with pytest.raises(CatalogError):
        CheckpointSource()
    with pytest.raises(CatalogError):
        CheckpointSource(REPO, "s_none.pth", Path("x.pth"))
