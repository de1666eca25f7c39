"""The one place that turns exceptions into one-line ``Error: ...`` messages (never a traceback).

The library's exceptions carry fields (the model, the setting, the kind of problem); this
table adds what to type next, as huggingface_hub's ``cli/_errors.py`` does.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable

from ..errors import (
    CheckpointError,
    CompareError,
    DownloadError,
    Interrupted,
    InvalidSetting,
    OutputError,
    UnknownModelError,
    VidmError,
)
from ._output import clean

DEBUG_ENV = "VIDM_DEBUG"
# Settings whose option is not simply --the-setting-name.
OPTION_NAMES: dict[str, str] = {
    "folder_fps": "--fps",
    "image_format": "--format",
    "clips": "--clips",
    "metrics": "--metric",
}


def option_name(setting: str) -> str:
    """The command-line option of a settings field (``sampling_rate`` -> ``--sampling-rate``)."""
    return OPTION_NAMES.get(setting, "--" + setting.replace("_", "-"))


def _download(exc: DownloadError) -> str:
    run = f"vidm download {exc.model or '<model>'}"
    advice = {
        "offline": f"run `{run}` with network access",
        "offline-force": "unset HF_HUB_OFFLINE and try again",
        "unreachable": "check the network or HF_ENDPOINT (files already cached load with HF_HUB_OFFLINE=1)",
        "timeout": "try again, raise HF_HUB_ETAG_TIMEOUT, or set HF_HUB_OFFLINE=1 to use only the cache",
        "interrupted": f"run `{run}` again",
        "disk": "free some space or point HF_HOME at a larger disk",
        "server": "try again later",
    }.get(exc.problem)
    return f"{exc}: {advice}" if advice else str(exc)


def _checkpoint(exc: CheckpointError) -> str:
    if exc.damaged and exc.local:  # the user's own file: downloading cannot repair it
        where = "" if exc.path and exc.path in str(exc) else f" at {exc.path}"
        return f"{exc}; replace the file{where} with a good copy (downloading cannot repair a local file)"
    if exc.damaged and exc.model:  # the message's Python remedy, as a command
        return f"{exc.reason}; fetch it again with `vidm download {exc.model} --force`"
    return str(exc)


def _unknown(exc: UnknownModelError) -> str:
    return str(exc) if exc.close else f"{exc}; run `vidm list` to see every model"


def _output(exc: OutputError) -> str:
    if exc.problem == "no-shards" and str(exc).startswith("no shards"):
        return f"{exc}: run `vidm embed ... --out {exc.path} --shard I/N` first"
    advice = {
        "other-settings": "write to a new --out, or pass --no-resume to replace it",
        "other-inputs": "write to a new --out, or pass --no-resume to replace it",
        "locked": "wait for that run to end (or remove the lock file if it is gone)",
        "not-a-record": "use another --out, or pass --no-resume to replace it",
    }.get(exc.problem)
    return f"{exc}: {advice}" if advice else str(exc)


def _compare(exc: CompareError) -> str:
    if exc.problem == "too-few":
        return f"{exc}; embed the same input list into every output (vidm embed LIST --out ...)"
    return str(exc)


def _interrupted(exc: Interrupted) -> str:
    return f"{exc}; run the same command again to resume" if exc.resumable else f"{exc}; rerun the rest to finish"


def _setting(exc: InvalidSetting) -> str:
    return f"{option_name(exc.setting)}: {exc.message}"


# What importing torchvision raises when its compiled operators were built for another torch (a
# CPU-only torch beside a CUDA torchvision, as a mixed install can leave them).
_TORCHVISION_MISMATCH = "operator torchvision::"


def _mismatched_pair(exc: BaseException) -> str | None:
    """One line on reinstalling torch and torchvision together, when ``exc`` says they do not match."""
    if not (isinstance(exc, RuntimeError) and _TORCHVISION_MISMATCH in str(exc) and "does not exist" in str(exc)):
        return None
    from importlib.metadata import PackageNotFoundError, version

    try:
        pair = f"torch {version('torch')} and torchvision {version('torchvision')}"
    except PackageNotFoundError:
        pair = "torch and torchvision"
    return (
        f"{pair} are not a matching pair (torchvision's compiled operators do not load: {exc}); "
        "reinstall them together: pip install --force-reinstall torch torchvision "
        "(CPU only: add --index-url https://download.pytorch.org/whl/cpu)"
    )


# Exception type -> message with advice; the first matching entry wins (subclasses first).
CLI_ERROR_MAPPINGS: list[tuple[type[BaseException], Callable[..., str]]] = [
    (UnknownModelError, _unknown),
    (DownloadError, _download),
    (CheckpointError, _checkpoint),
    (OutputError, _output),
    (CompareError, _compare),
    (InvalidSetting, _setting),
    (Interrupted, _interrupted),
]


def format_error(exc: BaseException) -> tuple[str, int]:
    """Message and exit code for an exception that reached the top of a command."""
    for kind, describe in CLI_ERROR_MAPPINGS:
        if isinstance(exc, kind):
            return describe(exc), getattr(exc, "exit_code", 1)
    if isinstance(exc, VidmError):
        return str(exc), exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted (Ctrl-C); finished results were kept", 130
    mismatch = _mismatched_pair(exc)
    if mismatch is not None:
        return mismatch, 1
    if isinstance(exc, MemoryError):
        return "out of memory; try a smaller --batch-size or --dtype bfloat16", 1
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        return f"{where}{exc.strerror or exc}", 1
    if isinstance(exc, ValueError):
        return str(exc), 2
    return f"unexpected {type(exc).__name__}: {exc} (set {DEBUG_ENV}=1 to see the traceback)", 1


def report(exc: BaseException) -> int:
    """Print the error line to stderr (and the traceback when ``VIDM_DEBUG`` is set); return the exit code."""
    message, code = format_error(exc)
    if os.environ.get(DEBUG_ENV):
        traceback.print_exception(exc)
    first = message.strip().splitlines()[0] if message.strip() else type(exc).__name__
    prefix = "" if isinstance(exc, (Interrupted, KeyboardInterrupt)) else "Error: "  # the user's Ctrl-C is no error
    print(f"{prefix}{clean(first)}", file=sys.stderr)
    return code
