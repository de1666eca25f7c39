"""Checkpoint files: where each one comes from, whether it is in the Hub cache, and fetching it.

Everything goes through ``huggingface_hub`` and its cache, so ``HF_HOME``, ``HF_HUB_CACHE``,
``HF_ENDPOINT``, ``HF_TOKEN`` and ``HF_HUB_OFFLINE`` behave as in every other Hugging Face tool.

- A file in the cache is final (the catalogue pins no other revision): it is returned without
  any network call, so loading never waits on a Hub that drops packets.
- A missing file is fetched after one quick question to the Hub (``HEAD``, ``PROBE_TIMEOUT``
  seconds unless ``HF_HUB_ETAG_TIMEOUT`` says otherwise, asked once more when it times out; a
  refused connection is not retried): an unreachable Hub fails in one line within seconds
  instead of after huggingface_hub's ~25 s of retries.
- A fresh download is compared with the SHA-256 the Hub published for it (the LFS blob's
  name): huggingface_hub 2.4 checks only the size. A mismatch removes the file from the cache
  and raises a damaged :class:`CheckpointError`; a match is remembered (``verify.py``), so the
  first load skips its own CRC pass over the same bytes.
- Failures are ``DownloadError``s whose ``problem`` says what went wrong.

``huggingface_hub`` is imported on first use, so the catalogue and ``vidm list`` stay light.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from .errors import CatalogError, CheckpointError, DownloadError, DownloadProblem

__all__ = ["CheckpointSource", "cached_checkpoint", "check_download", "fetch_checkpoint"]

PROBE_TIMEOUT = 5.0  # seconds the Hub has to answer the first question before a fetch gives up


@dataclass(frozen=True)
class CheckpointSource:
    """Where a checkpoint lives: a file in a Hub model repo, or a local path (exactly one of the two)."""

    repo_id: str | None = None
    filename: str | None = None
    local_path: Path | None = None

    def __post_init__(self) -> None:
        """Reject half-filled sources; normalise ``local_path`` to an expanded ``Path``."""
        on_hub = self.repo_id is not None or self.filename is not None
        if self.local_path is not None:
            if on_hub:
                raise CatalogError("a checkpoint source is either repo_id + filename or local_path, not both")
            object.__setattr__(self, "local_path", Path(self.local_path).expanduser())
        elif not (self.repo_id and self.filename):
            raise CatalogError("a checkpoint source needs both repo_id and filename (or a local_path)")

    @property
    def label(self) -> str:
        """Human-readable location, e.g. ``eminorhan/video-models/s_none.pth`` or the local path."""
        return str(self.local_path) if self.local_path is not None else f"{self.repo_id}/{self.filename}"


def cached_checkpoint(source: CheckpointSource) -> Path | None:
    """The fully downloaded file in the Hub cache (or the existing local file), without any network call."""
    if source.local_path is not None:
        return source.local_path if source.local_path.is_file() else None
    from huggingface_hub import try_to_load_from_cache

    assert source.repo_id is not None and source.filename is not None
    # Only finished downloads reach `snapshots/`: huggingface_hub writes `blobs/<etag>.<id>.incomplete`,
    # renames it when complete and only then links the snapshot entry. A cached 404 marker is not a str.
    found = try_to_load_from_cache(source.repo_id, source.filename)
    return Path(found) if isinstance(found, str) else None


def fetch_checkpoint(
    source: CheckpointSource, *, force: bool = False, progress: bool = True, name: str | None = None
) -> Path:
    """The checkpoint's local path: the cached file, else downloaded into the Hub cache.

    ``force`` downloads again even when cached; ``name`` (the model) labels the progress bar
    and travels with a ``DownloadError`` so the CLI can say what to run.
    """
    if source.local_path is not None:
        where = str(source.local_path)
        if not source.local_path.exists():
            raise CheckpointError(f"checkpoint file {where} does not exist", path=where, model=name, local=True)
        if not source.local_path.is_file():
            raise CheckpointError(f"checkpoint path {where} is not a file", path=where, model=name, local=True)
        return source.local_path
    cached = None if force else cached_checkpoint(source)
    if cached is not None:
        return cached
    from huggingface_hub import constants, hf_hub_download

    def failed(message: str, problem: DownloadProblem) -> DownloadError:
        return DownloadError(message, source=source.label, problem=problem, model=name)

    if constants.HF_HUB_OFFLINE:
        if force:
            message = f"cannot download {source.label} again: offline mode is on (HF_HUB_OFFLINE=1)"
            raise failed(message, "offline-force")
        raise failed(f"{source.label} is not cached and offline mode is on (HF_HUB_OFFLINE=1)", "offline")
    assert source.repo_id is not None and source.filename is not None
    try:
        _probe(source.repo_id, source.filename)
        path = hf_hub_download(
            source.repo_id,
            source.filename,
            force_download=force,
            tqdm_class=_progress_bar(name or source.filename) if progress else _silent_bar(),
        )
    except Exception as exc:  # every failure becomes one line; the cause stays chained
        message, problem = describe_failure(source, exc)
        raise failed(message, problem) from exc
    check_download(Path(path), source, name=name)
    _remove_stale_partials(Path(path))
    return Path(path)


def _remove_stale_partials(path: Path) -> None:
    """Remove what killed downloads of this file left in the cache: huggingface_hub writes each
    download to its own ``blobs/<etag>.<id>.incomplete``, removes it on an error but not when the
    process is killed, and never reuses it (``--force`` did not remove them either). Done under the
    cache's lock for the file, so a download in progress elsewhere keeps its file."""
    import glob

    from huggingface_hub import constants
    from huggingface_hub.utils._fixes import WeakFileLock

    blob = path.resolve()  # the snapshot entry links to blobs/<etag>
    lock = Path(constants.HF_HUB_CACHE) / ".locks" / blob.parent.parent.name / f"{blob.name}.lock"
    try:
        with WeakFileLock(lock, timeout=5):
            for stale in blob.parent.glob(f"{glob.escape(blob.name)}*.incomplete"):
                stale.unlink(missing_ok=True)
    except (OSError, TimeoutError):  # another process holds the lock (or the cache is read-only): leave them
        pass


def check_download(path: Path, source: CheckpointSource, *, name: str | None = None) -> None:
    """Compare a downloaded file with the SHA-256 the Hub published; on a mismatch remove it and raise.

    Files the Hub publishes no SHA-256 for (not in LFS) pass unchecked, and so does a blob
    already checked at this size and mtime (a second snapshot entry for the same bytes).
    """
    from . import verify

    expected = verify.hub_sha256(path)
    if expected is None:
        return
    stamp = verify.FileStamp.of(path)
    if verify.recall(stamp).get("sha256") == expected:
        return
    actual = verify.sha256_of(path)
    if actual == expected:
        verify.remember(stamp, sha256=actual)
        return
    blob = Path(stamp.path)
    path.unlink(missing_ok=True)  # the snapshot entry first: a dangling one would read as cached
    blob.unlink(missing_ok=True)
    verify.forget(blob)
    raise CheckpointError(
        f"the download of {source.label} is corrupt (SHA-256 {actual[:12]}..., the Hub published "
        f"{expected[:12]}...); it was removed from the cache",
        path=str(path),
        damaged=True,
        model=name,
    )


def _probe(repo_id: str, filename: str, attempts: int = 2) -> None:
    """Ask the Hub about the file, quickly: raises what the fetch would. A slow answer (a timeout)
    is asked once more, since a busy Hub or proxy can miss one deadline; a refusal is final."""
    from huggingface_hub import constants, get_hf_file_metadata, hf_hub_url

    timeout = float(os.environ["HF_HUB_ETAG_TIMEOUT"]) if "HF_HUB_ETAG_TIMEOUT" in os.environ else PROBE_TIMEOUT
    for attempt in range(1, attempts + 1):
        try:
            get_hf_file_metadata(hf_hub_url(repo_id, filename), timeout=timeout, endpoint=constants.ENDPOINT)
            return
        except Exception as exc:
            slow = _named(_exception_chain(exc), "ReadTimeout", "ConnectTimeout", "TimeoutException", "Timeout")
            if attempt == attempts or not slow:
                raise


def _progress_bar(label: str) -> Any:
    """huggingface_hub's tqdm class with the bar labelled by ``label`` (the model) instead of a cut URL."""
    from huggingface_hub.utils import tqdm

    class Labelled(tqdm):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["desc"] = label
            super().__init__(*args, **kwargs)

    return Labelled


def _silent_bar() -> Any:
    """A progress bar class that shows nothing (per call: no global progress-bar state)."""
    from huggingface_hub.utils import silent_tqdm

    return silent_tqdm


def describe_failure(source: CheckpointSource, exc: BaseException) -> tuple[str, DownloadProblem]:
    """One line saying why ``source`` could not be fetched, and the kind of problem."""
    from huggingface_hub import constants
    from huggingface_hub.errors import (
        EntryNotFoundError,
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    chain = _exception_chain(exc)
    where = constants.ENDPOINT
    repo, filename, label = source.repo_id, source.filename, source.label

    if _find(chain, OfflineModeIsEnabled):
        return f"{label} is not cached and offline mode is on (HF_HUB_OFFLINE=1)", "offline"
    if any(isinstance(e, OSError) and e.errno == errno.ENOSPC for e in chain):
        return f"disk full while downloading {label} into {constants.HF_HUB_CACHE}", "disk"
    if _find(chain, GatedRepoError):
        return f"repo {repo} on {where} is gated: accept its terms on the Hub, then set HF_TOKEN", "denied"
    if _find(chain, RepositoryNotFoundError):
        private = "if it is private, set HF_TOKEN to a token that reads it"
        return f"repo {repo} not found on {where} ({private})", "not-found"
    if _find(chain, RevisionNotFoundError):
        return f"revision main not found in repo {repo} on {where}", "not-found"
    entry = _find(chain, EntryNotFoundError)
    if entry is not None and not isinstance(entry, LocalEntryNotFoundError):
        outdated = "the catalogue entry may be out of date"
        return f"file {filename} not found in repo {repo} on {where}: {outdated}", "not-found"
    http = _find(chain, HfHubHTTPError)
    if http is not None and http.response is not None:
        status = http.response.status_code
        if status in (401, 403):
            return f"the Hub refused access to {label} (HTTP {status}): check HF_TOKEN", "denied"
        if status >= 500:
            return f"the Hub at {where} failed with HTTP {status} for {label}", "server"
        return f"the Hub at {where} answered HTTP {status} for {label}", "other"
    # Transport errors are matched by class name: huggingface_hub went from `requests` to `httpx` to `httpx2`.
    if _named(chain, "RemoteProtocolError", "ReadError", "ChunkedEncodingError", "IncompleteRead") or any(
        "Consistency check failed" in str(e) for e in chain
    ):
        return f"download of {label} was interrupted (connection dropped)", "interrupted"
    if _named(chain, "ConnectError", "ConnectionError", "ConnectTimeout", "ProxyError"):
        return f"cannot reach the Hub at {where} to fetch {label}", "unreachable"
    if _named(chain, "TimeoutException", "Timeout", "TimeoutError"):
        return f"the Hub at {where} did not answer in time while fetching {label}", "timeout"
    detail = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    return f"could not fetch {label}: {type(exc).__name__}" + (f": {detail}" if detail else ""), "other"


_E = TypeVar("_E", bound=BaseException)


def _find(chain: list[BaseException], kind: type[_E]) -> _E | None:
    """The first exception of type ``kind`` in ``chain``."""
    return next((e for e in chain if isinstance(e, kind)), None)


def _exception_chain(exc: BaseException) -> list[BaseException]:
    """``exc`` followed by its causes/contexts, each once."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _named(chain: list[BaseException], *names: str) -> bool:
    """Whether any exception in ``chain`` is an instance of a class called one of ``names``."""
    return any(cls.__name__ in names for e in chain for cls in type(e).__mro__)
