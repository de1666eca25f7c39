"""Every exception vidmenagerie raises on purpose, with the facts a caller needs as fields.

Messages say what happened, in one line that names the file, model or setting; what to do
next on the command line (``vidm download NAME --force``, ``--no-resume``) is added by the CLI
(``cli/_errors.py``), so the library reads the same from a notebook.
"""

from __future__ import annotations

from typing import Literal


class VidmError(Exception):
    """Base class: the CLI prints these as one ``Error: ...`` line instead of a traceback."""

    exit_code: int = 1


class CatalogError(VidmError):
    """A catalogue file or entry is malformed."""

    exit_code = 2


class UnknownModelError(CatalogError):
    """A model name that is not in the catalogue; ``close`` holds the nearest names."""

    def __init__(self, name: str, close: tuple[str, ...] = (), *, malformed: bool = False) -> None:
        self.name, self.close, self.malformed = name, close, malformed
        shape = " (names look like TYPE_DATA_TASK, e.g. vit_s_none)" if malformed else ""
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        super().__init__(f"unknown model {name!r}{shape}{hint}")


class InvalidSetting(VidmError, ValueError):
    """A setting no run can honour; ``setting`` names the field (the CLI shows it as its option)."""

    exit_code = 2

    def __init__(self, setting: str, message: str) -> None:
        self.setting, self.message = setting, message
        super().__init__(f"{setting}: {message}")


class CheckpointError(VidmError):
    """A checkpoint file cannot be read, is unsafe, or does not fit the model.

    ``damaged``: the file is truncated or corrupt (fetching it again repairs it); ``model``: the
    catalogue name it was loaded for, when known; ``local``: the file is the user's own (a
    catalogue ``local_path`` or ``--checkpoint``), so downloading cannot repair it. ``reason`` is
    what went wrong; the message adds, for a damaged Hub file, the Python call that fetches it
    again (the CLI gives its own command instead).
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        damaged: bool = False,
        model: str | None = None,
        local: bool = False,
    ):
        self.path, self.damaged, self.model, self.local = path, damaged, model, local
        self.reason = message
        if damaged and model and not local:
            message += f"; fetch it again with vm.load_model({model!r}, force_download=True)"
        super().__init__(message)


DownloadProblem = Literal[
    "offline",
    "offline-force",
    "unreachable",
    "timeout",
    "interrupted",
    "not-found",
    "denied",
    "server",
    "disk",
    "other",
]


class DownloadError(VidmError):
    """A checkpoint could not be fetched from the Hub; ``problem`` says which kind of failure."""

    def __init__(self, message: str, *, source: str, problem: DownloadProblem, model: str | None = None) -> None:
        self.source, self.problem, self.model = source, problem, model
        super().__init__(message)


class VideoError(VidmError):
    """An input (video, still or frame folder) cannot be read; the message names the file and the reason."""


OutputProblem = Literal[
    "other-settings",
    "other-inputs",
    "not-a-record",
    "no-output",
    "no-shards",
    "unreadable",
    "mismatch",
    "locked",
    "input",
    "not-ours",
    "several-layers",
    "no-such-layer",
]


class OutputError(VidmError):
    """An existing output cannot be resumed, merged or read; ``problem`` says why."""

    exit_code = 2

    def __init__(self, message: str, *, path: str, problem: OutputProblem) -> None:
        self.path, self.problem = path, problem
        super().__init__(message)


ComparisonProblem = Literal["inputs", "rdm", "nan", "too-few", "nothing"]


class CompareError(VidmError):
    """What ``compare`` was given cannot be compared (too few inputs, outputs of other inputs, a user's
    RDM that is not square, symmetric or about these inputs, features with NaN); ``path`` names the
    file (or output) and ``problem`` the kind."""

    exit_code = 2

    def __init__(self, message: str, *, path: str, problem: ComparisonProblem) -> None:
        self.path, self.problem = path, problem
        super().__init__(message)


ProbeProblem = Literal["classes", "labels", "features", "settings", "values"]


class ProbeError(VidmError):
    """Labelled inputs or features a probe cannot use (too few classes, labels without features, NaN
    features, features of another model...); ``path`` names the file, ``problem`` the kind."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None, problem: ProbeProblem = "labels") -> None:
        self.path, self.problem = path, problem
        super().__init__(message)


class Interrupted(VidmError):
    """A run stopped by Ctrl-C: the message says what was kept; ``resumable``: rerunning resumes it."""

    exit_code = 130

    def __init__(self, message: str, *, resumable: bool = False) -> None:
        self.resumable = resumable
        super().__init__(message)
