"""Checkpoint files: where each one comes from, whether it is in the Hub cache, and fetching it.

Everything goes through ``huggingface_hub.hf_hub_download`` and its cache, so ``HF_HOME``,
``HF_HUB_CACHE``, ``HF_ENDPOINT``, ``HF_TOKEN`` and ``HF_HUB_OFFLINE`` behave as in every other Hugging Face
tool. Failures come out as one-line ``DownloadError``/``CheckpointError`` messages that say what to do next.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from huggingface_hub import constants, hf_hub_download, try_to_load_from_cache
from huggingface_hub.errors import (
    EntryNotFoundError,
    GatedRepoError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import silent_tqdm

from .errors import CatalogError, CheckpointError, DownloadError

__all__ = ["CheckpointSource", "cached_checkpoint", "fetch_checkpoint"]


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
    assert source.repo_id is not None and source.filename is not None
    # Only finished downloads reach `snapshots/`: huggingface_hub writes `blobs/<etag>.<id>.incomplete`,
    # renames it when complete and only then links the snapshot entry. A cached 404 marker is not a str.
    found = try_to_load_from_cache(source.repo_id, source.filename)
    return Path(found) if isinstance(found, str) else None


def fetch_checkpoint(
    source: CheckpointSource, *, force: bool = False, progress: bool = True, name: str | None = None
) -> Path:
    """The checkpoint's local path, downloaded into the Hub cache if needed (``name`` is for hints)."""
    if source.local_path is not None:
        if not source.local_path.exists():
            raise CheckpointError(f"checkpoint file {source.local_path} does not exist")
        if not source.local_path.is_file():
            raise CheckpointError(f"checkpoint path {source.local_path} is not a file")
        return source.local_path
    assert source.repo_id is not None and source.filename is not None
    try:
        path = hf_hub_download(
            source.repo_id,
            source.filename,
            force_download=force,
            tqdm_class=None if progress else silent_tqdm,  # per call: no global progress-bar state
        )
    except Exception as exc:  # every failure becomes one actionable line; the cause stays chained
        raise DownloadError(_describe_failure(source, exc, name=name, force=force)) from exc
    return Path(path)


def _describe_failure(source: CheckpointSource, exc: BaseException, *, name: str | None, force: bool) -> str:
    """One line saying why ``source`` could not be fetched and what to do about it."""
    chain = _exception_chain(exc)
    where = constants.ENDPOINT
    retry = f"vidm download {name}" if name else "vidm download <model>"
    repo, filename, label = source.repo_id, source.filename, source.label

    offline = constants.HF_HUB_OFFLINE and _find(chain, LocalEntryNotFoundError)
    if offline or _find(chain, OfflineModeIsEnabled):
        if force:
            return f"cannot re-download {label}: offline mode is on (HF_HUB_OFFLINE=1); unset it and retry"
        return f"{label} is not cached and offline mode is on (HF_HUB_OFFLINE=1): run `{retry}` with network access"
    if any(isinstance(e, OSError) and e.errno == errno.ENOSPC for e in chain):
        return (
            f"disk full while downloading {label} into {constants.HF_HUB_CACHE}: "
            "free some space or point HF_HOME at a larger disk"
        )
    if _find(chain, GatedRepoError):
        return f"repo {repo} on {where} is gated: accept its terms on the Hub, then set HF_TOKEN"
    if _find(chain, RepositoryNotFoundError):
        return f"repo {repo} not found on {where} (if it is private, set HF_TOKEN to a token that reads it)"
    if _find(chain, RevisionNotFoundError):
        return f"revision main not found in repo {repo} on {where}"
    entry = _find(chain, EntryNotFoundError)
    if entry is not None and not isinstance(entry, LocalEntryNotFoundError):
        return f"file {filename} not found in repo {repo} on {where}: the catalogue entry may be out of date"
    http = _find(chain, HfHubHTTPError)
    if http is not None and http.response is not None:
        status = http.response.status_code
        if status in (401, 403):
            return f"the Hub refused access to {label} (HTTP {status}): check HF_TOKEN"
        if status >= 500:
            return f"the Hub at {where} failed with HTTP {status} for {label}: try again later"
        return f"the Hub at {where} answered HTTP {status} for {label}"
    # Transport errors are matched by class name: huggingface_hub went from `requests` to `httpx` to `httpx2`.
    if _named(chain, "RemoteProtocolError", "ReadError", "ChunkedEncodingError", "IncompleteRead") or any(
        "Consistency check failed" in str(e) for e in chain
    ):
        return f"download of {label} was interrupted (connection dropped): run `{retry}` again"
    if _named(chain, "ConnectError", "ConnectionError", "ConnectTimeout", "ProxyError"):
        return f"cannot reach the Hub at {where} to fetch {label}: check your network (or HF_ENDPOINT)"
    if _named(chain, "TimeoutException", "Timeout", "TimeoutError"):
        return (
            f"timed out talking to {where} while fetching {label}: try again "
            "(HF_HUB_ETAG_TIMEOUT and HF_HUB_DOWNLOAD_TIMEOUT raise the limits)"
        )
    detail = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    return f"could not fetch {label}: {type(exc).__name__}" + (f": {detail}" if detail else "")


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
