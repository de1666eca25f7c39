"""The exceptions vidmenagerie raises on purpose: each message is one line a user can act on."""

from __future__ import annotations


class VidmError(Exception):
    """Base class: the CLI prints these as one ``Error: ...`` line instead of a traceback."""

    exit_code: int = 1


class CatalogError(VidmError):
    """A catalogue file or entry is malformed."""

    exit_code = 2


class UnknownModelError(CatalogError):
    """A model name that is not in the catalogue (the message lists close matches)."""


class CheckpointError(VidmError):
    """A checkpoint file cannot be read, is unsafe, or does not fit the model."""


class DownloadError(VidmError):
    """A checkpoint could not be fetched from the Hub (network, 404, disk, offline)."""


class VideoError(VidmError):
    """A video cannot be read; the message names the file and the reason."""
