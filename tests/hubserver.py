"""A small, real HTTP stand-in for the Hugging Face Hub, and the pytest fixtures that point the client at it.

It answers what ``huggingface_hub.hf_hub_download`` (2.4) sends: ``HEAD`` and ``GET`` on
``/{repo_id}/resolve/{revision}/{filename}``. Success responses carry ``X-Repo-Commit``, an ``ETag``
(sha256 of the content, as the Hub does for LFS files), ``Content-Length`` and ``Accept-Ranges``; ``GET``
honours ``Range``. Errors carry ``X-Error-Code`` (``RepoNotFound``, ``RevisionNotFound``, ``EntryNotFound``)
like the real Hub, so the client raises its own exception types. No Xet headers are ever sent, so the
client always takes the plain HTTP download path.

Faults for tests: ``fail`` (HTTP status), ``truncate`` (the connection drops after N bytes),
``hang`` (sends N bytes, then blocks until released), ``stall`` (no answer for a while, then the
normal one) and ``corrupt`` (flipped bytes under the true ETag and length), each for a number
of requests or for good.

Use it from pytest through the ``hub_server`` fixture, which also isolates the Hub cache under
``tmp_path`` and patches ``huggingface_hub.constants`` (read once at import) for in-process calls, and
sets the ``HF_*`` environment variables for subprocesses (``server.env`` holds them).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

DOWNLOAD_CHUNK_SIZE = 64 * 1024  # what `hub_server` sets `constants.DOWNLOAD_CHUNK_SIZE` to
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass(frozen=True)
class Request:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]  # names lower-cased


@dataclass
class _Fault:
    kind: str  # "fail" | "truncate" | "hang" | "corrupt" | "stall"
    value: int  # status code, the byte offset where the transfer stops, or milliseconds of silence
    remaining: int | None  # requests left to affect; None = every request


class HubServer:
    """A Hub stand-in on ``127.0.0.1`` serving ``{repo_id: {filename: bytes}}`` from a background thread."""

    def __init__(self, repos: Mapping[str, Mapping[str, bytes]] | None = None) -> None:
        self._lock = threading.Lock()
        self._repos: dict[str, dict[str, bytes]] = {r: dict(files) for r, files in (repos or {}).items()}
        self._faults: dict[tuple[str, str], _Fault] = {}
        self._release = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.requests: list[Request] = []
        self.env: dict[str, str] = {}

    # -- lifecycle ---------------------------------------------------------------------------------------
    def start(self) -> HubServer:
        """Bind a free port and serve in a daemon thread."""
        handler = type("_BoundHandler", (_Handler,), {"hub": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="hub-stand-in", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release hung transfers, stop serving and close the port (later connections are refused)."""
        self._release.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The endpoint, e.g. ``http://127.0.0.1:41234`` (what ``HF_ENDPOINT`` must be set to)."""
        if self._httpd is None:
            raise RuntimeError("HubServer is not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    # -- content -----------------------------------------------------------------------------------------
    def add_file(self, repo_id: str, filename: str, content: bytes) -> None:
        """Add or replace a file (creates the repo); the repo's commit hash changes."""
        with self._lock:
            self._repos.setdefault(repo_id, {})[filename] = bytes(content)

    def remove_file(self, repo_id: str, filename: str) -> None:
        """Delete a file from a repo (the repo stays, possibly empty)."""
        with self._lock:
            del self._repos[repo_id][filename]

    def add_repo(self, repo_id: str) -> None:
        """Create an empty repo."""
        with self._lock:
            self._repos.setdefault(repo_id, {})

    def commit(self, repo_id: str) -> str:
        """The repo's current commit hash: derived from its content, so any change gives a new one."""
        with self._lock:
            return self._commit_locked(repo_id)

    def _commit_locked(self, repo_id: str) -> str:
        files = self._repos[repo_id]
        state = "\n".join(f"{name}\0{hashlib.sha256(data).hexdigest()}" for name, data in sorted(files.items()))
        return hashlib.sha1(f"{repo_id}\n{state}".encode()).hexdigest()

    @staticmethod
    def etag(content: bytes) -> str:
        """The ETag the server sends for ``content`` (also the blob name in the Hub cache)."""
        return hashlib.sha256(content).hexdigest()

    # -- faults ------------------------------------------------------------------------------------------
    def fail(self, repo_id: str, filename: str, status: int = 500, *, times: int | None = None) -> None:
        """Answer HEAD and GET for this file with HTTP ``status`` (for ``times`` requests, or always)."""
        self._set_fault(repo_id, filename, _Fault("fail", status, times))

    def truncate(self, repo_id: str, filename: str, at: int, *, times: int | None = None) -> None:
        """Make GETs drop the connection once byte offset ``at`` of the file is reached.

        Headers still announce the full length, so the client sees a short body. A resumed request
        (``Range`` starting at or after ``at``) gets its headers and then no bytes at all: with
        ``times=None`` the file can never be fetched, like a network that dies at the same point.
        """
        self._set_fault(repo_id, filename, _Fault("truncate", at, times))

    def hang(self, repo_id: str, filename: str, at: int, *, times: int | None = 1) -> None:
        """Make a GET send the first ``at`` bytes, then block until ``release_hung()`` or ``stop()``."""
        self._release.clear()
        self._set_fault(repo_id, filename, _Fault("hang", at, times))

    def corrupt(self, repo_id: str, filename: str, at: int, *, times: int | None = 1) -> None:
        """Make GETs send the file with byte ``at`` flipped: same length and ETag, so only a hash check notices."""
        self._set_fault(repo_id, filename, _Fault("corrupt", at, times))

    def stall(self, repo_id: str, filename: str, milliseconds: int, *, times: int | None = 1) -> None:
        """Make HEAD and GET wait ``milliseconds`` before answering at all (a slow, not a refused, connection)."""
        self._set_fault(repo_id, filename, _Fault("stall", milliseconds, times))

    def release_hung(self) -> None:
        """Unblock hung transfers (they then drop the connection)."""
        self._release.set()

    def clear_faults(self) -> None:
        """Serve everything normally again."""
        with self._lock:
            self._faults.clear()

    def _set_fault(self, repo_id: str, filename: str, fault: _Fault) -> None:
        with self._lock:
            self._faults[(repo_id, filename)] = fault

    def _take_fault(self, repo_id: str, filename: str, method: str) -> _Fault | None:
        with self._lock:
            fault = self._faults.get((repo_id, filename))
            if fault is None or (fault.kind not in ("fail", "stall") and method != "GET"):
                return None
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    del self._faults[(repo_id, filename)]
            return fault

    # -- request log -------------------------------------------------------------------------------------
    def calls(self, method: str | None = None, filename: str | None = None) -> list[Request]:
        """Requests received so far, optionally only one method and/or paths ending in ``/filename``."""
        with self._lock:
            log = list(self.requests)
        return [
            r
            for r in log
            if (method is None or r.method == method)
            and (filename is None or unquote(urlsplit(r.path).path).endswith("/" + filename))
        ]

    def clear_log(self) -> None:
        """Forget the recorded requests."""
        with self._lock:
            self.requests.clear()


class _Handler(BaseHTTPRequestHandler):
    hub: HubServer
    protocol_version = "HTTP/1.0"  # one request per connection: a dropped transfer is a closed socket
    server_version = "HubStandIn/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence the default stderr log
        pass

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(head=True)

    def do_GET(self) -> None:  # noqa: N802
        self._serve(head=False)

    def _serve(self, *, head: bool) -> None:
        hub = self.hub
        with hub._lock:
            hub.requests.append(Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
        path = unquote(urlsplit(self.path).path)
        repo_id, sep, rest = path.lstrip("/").partition("/resolve/")
        revision, _, filename = rest.partition("/")
        if not sep or not repo_id or not filename:
            return self._error(404, None, "Not Found", head=head)

        with hub._lock:
            files = hub._repos.get(repo_id)
            commit = hub._commit_locked(repo_id) if files is not None else None
            content = files.get(filename) if files is not None else None
        if files is None or commit is None:
            return self._error(404, "RepoNotFound", "Repository not found", head=head)
        if revision not in ("main", commit):
            return self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}", head=head)
        if content is None:
            return self._error(
                404,
                "EntryNotFound",
                f"{filename} does not exist on {revision}",
                head=head,
                extra={"X-Repo-Commit": commit},
            )

        fault = hub._take_fault(repo_id, filename, self.command)
        if fault is not None and fault.kind == "fail":
            return self._error(fault.value, None, f"Injected HTTP {fault.value}", head=head)
        if fault is not None and fault.kind == "stall":
            hub._release.wait(fault.value / 1000)  # silence, then an ordinary answer (the client may be gone)
            fault = None

        total = len(content)
        start, end = 0, total - 1
        status = 200
        headers = {
            "X-Repo-Commit": commit,
            "ETag": f'"{HubServer.etag(content)}"',
            "Accept-Ranges": "bytes",
            "Content-Type": "application/octet-stream",
            "Content-Disposition": f'inline; filename="{filename.rsplit("/", 1)[-1]}"',
        }
        range_header = self.headers.get("Range")
        if range_header and not head:
            match = _RANGE.match(range_header.strip())
            if match is None or match.groups() == ("", ""):
                return self._error(416, None, "Invalid range", head=head, extra={"Content-Range": f"bytes */{total}"})
            first, last = match.groups()
            if first == "":  # suffix range: the last N bytes
                start, end = max(total - int(last), 0), total - 1
            else:
                start, end = int(first), min(int(last), total - 1) if last else total - 1
            if start >= total or start > end:
                return self._error(
                    416, None, "Range not satisfiable", head=head, extra={"Content-Range": f"bytes */{total}"}
                )
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end}/{total}"
        body = content[start : end + 1]
        if fault is not None and fault.kind == "corrupt":
            if start <= fault.value <= end:
                flipped = bytearray(body)
                flipped[fault.value - start] ^= 0xFF
                body = bytes(flipped)
            fault = None  # otherwise sent whole, like any transfer
        headers["Content-Length"] = str(len(body))

        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if head:
            return
        if fault is None:
            self.wfile.write(body)
            return
        # truncate / hang: the transfer stops once absolute offset `fault.value` is reached.
        sent = body[: max(fault.value - start, 0)]
        self.wfile.write(sent)
        self.wfile.flush()
        if fault.kind == "hang":
            hub._release.wait(timeout=60)
        self.close_connection = True

    def _error(
        self,
        status: int,
        code: str | None,
        message: str,
        *,
        head: bool,
        extra: Mapping[str, str] | None = None,
    ) -> None:
        body = json.dumps({"error": message}).encode()
        self.send_response(status)
        if code is not None:
            self.send_header("X-Error-Code", code)
        self.send_header("X-Error-Message", message)
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)


# -- pytest fixtures -------------------------------------------------------------------------------------


def set_hub_offline(monkeypatch: pytest.MonkeyPatch, offline: bool = True) -> None:
    """Switch offline mode for in-process calls (``constants.HF_HUB_OFFLINE``) and for subprocesses (env)."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", offline)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1" if offline else "0")


@pytest.fixture
def hf_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Make huggingface_hub's retry back-off instant; the list collects the waits it asked for.

    ``hf_hub_download`` retries a failed HEAD on 5xx/network errors with 1, 2, 4, 8, 8 s waits and sleeps
    1 s before resuming a dropped transfer. Only the ``time`` seen by those two modules is replaced.
    """
    import huggingface_hub.file_download as file_download
    import huggingface_hub.utils._http as hf_http

    sleeps: list[float] = []
    fake_time = types.SimpleNamespace(**vars(time))
    fake_time.sleep = sleeps.append
    for module in (file_download, hf_http):
        assert module.time is time, f"{module.__name__} no longer uses `time.sleep` for its retries"
        monkeypatch.setattr(module, "time", fake_time)
    return sleeps


@pytest.fixture
def hub_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hf_sleeps: list[float]) -> Iterator[HubServer]:
    """A started ``HubServer`` with an empty, private Hub cache under ``tmp_path / "hf_home"``.

    In-process: patches the ``huggingface_hub.constants`` that ``hf_hub_download`` reads (endpoint, URL
    template, HF_HOME, HF_HUB_CACHE, token paths, offline flag, timeouts, download chunk size).
    Subprocesses: sets ``HF_ENDPOINT``, ``HF_HOME``, ``HF_HUB_CACHE``, ``HF_HUB_OFFLINE=0`` and
    ``HF_HUB_DISABLE_TELEMETRY=1`` in ``os.environ`` and drops any ``HF_TOKEN``; ``server.env`` holds them.
    """
    from huggingface_hub import constants
    from huggingface_hub.utils import _cache_manager

    with HubServer() as server:
        hf_home = tmp_path / "hf_home"
        hub_cache = hf_home / "hub"
        hub_cache.mkdir(parents=True)
        server.env = {
            "HF_ENDPOINT": server.url,
            "HF_HOME": str(hf_home),
            "HF_HUB_CACHE": str(hub_cache),
            "HF_HUB_OFFLINE": "0",
            "HF_HUB_DISABLE_TELEMETRY": "1",
        }
        for name in (
            "HF_TOKEN",
            "HUGGING_FACE_HUB_TOKEN",
            "HF_HUB_ETAG_TIMEOUT",
            "HF_HUB_DOWNLOAD_TIMEOUT",
            "HUGGINGFACE_HUB_CACHE",
            "HF_ASSETS_CACHE",
            "HF_XET_CACHE",
            "HF_TOKEN_PATH",
        ):
            monkeypatch.delenv(name, raising=False)
        for name, value in server.env.items():
            monkeypatch.setenv(name, value)

        patched = {
            "ENDPOINT": server.url,
            "HUGGINGFACE_CO_URL_TEMPLATE": server.url + "/{repo_id}/resolve/{revision}/{filename}",
            "HF_HOME": str(hf_home),
            "HF_HUB_CACHE": str(hub_cache),
            "HUGGINGFACE_HUB_CACHE": str(hub_cache),
            "HF_ASSETS_CACHE": str(hf_home / "assets"),
            "HF_XET_CACHE": str(hf_home / "xet"),
            "HF_TOKEN_PATH": str(hf_home / "token"),
            "HF_STORED_TOKENS_PATH": str(hf_home / "stored_tokens"),
            "HF_HUB_OFFLINE": False,
            "HF_HUB_DISABLE_TELEMETRY": True,
            "HF_HUB_ETAG_TIMEOUT": constants.DEFAULT_ETAG_TIMEOUT,
            "HF_HUB_DOWNLOAD_TIMEOUT": constants.DEFAULT_DOWNLOAD_TIMEOUT,
            # Stream in small chunks so small test files take the multi-chunk (resumable) path of real
            # multi-GB checkpoints; with the 10 MiB default a dropped small transfer restarts at byte 0.
            "DOWNLOAD_CHUNK_SIZE": DOWNLOAD_CHUNK_SIZE,
        }
        for name, value in patched.items():
            monkeypatch.setattr(constants, name, value)
        monkeypatch.setattr(_cache_manager, "HF_HUB_CACHE", str(hub_cache))  # bound at import by scan_cache_dir
        yield server
