"""The CLI answers at once (no torch, timm or PyAV for --help, list, info, download), cached
models load without any request, an unreachable Hub fails fast, and every option is checked
before a model is fetched."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from cli import invoke, run_vidm
from hubserver import HubServer

HEAVY = ("torch", "timm", "av", "torchvision")


def heavy_modules_after(*args: str, env: dict[str, str] | None = None) -> list[str]:
    """Run ``vidm ARGS`` in a fresh interpreter and list the heavy modules it imported."""
    code = (
        "import sys\nfrom vidmenagerie.cli import main\n"
        f"sys.argv = ['vidm', *{list(args)!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print('HEAVY=' + ','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    line = next(x for x in result.stderr.splitlines() if x.startswith("HEAVY="))
    return [m for m in line.removeprefix("HEAVY=").split(",") if m]


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("list",),
        ("list", "vit_s*", "--json"),
        ("info", "vit_hvm1@448_none"),
        ("download", "--help"),
        ("embed", "--help"),
        ("complete", "--help"),
        ("attend", "--help"),
    ],
)
def test_light_commands_do_not_import_torch_timm_or_av(args: tuple[str, ...]) -> None:
    assert heavy_modules_after(*args) == []


def test_a_download_that_cannot_happen_imports_nothing_heavy(tmp_path: Path) -> None:
    env = {"HF_HOME": str(tmp_path), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    assert heavy_modules_after("download", "vit_s_none", env=env) == []


def test_import_vidmenagerie_is_cheap_until_used() -> None:
    code = (
        "import sys, vidmenagerie as vm\n"
        "names = vm.list_models('vit_*')\n"
        "print(len(names), [m for m in ('torch', 'timm', 'av') if m in sys.modules])\n"
        "vm.Preprocessing\n"
        "print('torch' in sys.modules)\n"
        "vm.read_clip\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out == ["38 []", "False", "True"]


class SilentHub:
    """A TCP server that accepts connections and never answers (a firewall that drops packets)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections.append(conn)  # held open, never read from or written to

    def close(self) -> None:
        for conn in self.connections:
            conn.close()
        self.sock.close()


@pytest.fixture
def silent_hub() -> Iterator[SilentHub]:
    hub = SilentHub()
    yield hub
    hub.close()


def test_a_cached_model_loads_without_asking_the_hub(
    tiny_catalog: Path, hub_server: HubServer, silent_hub: SilentHub, tmp_path: Path
) -> None:
    assert invoke("download", "tiny_cls").exit_code == 0  # now in the cache
    env = {**hub_server.env, "HF_ENDPOINT": silent_hub.url, "VIDM_CATALOG": str(tiny_catalog)}
    code = "import vidmenagerie as vm; print(vm.load_model('tiny_cls', device='cpu').head.weight.shape)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "torch.Size([5, 64])" in result.stdout
    assert silent_hub.connections == []  # not even a HEAD: a cached file is final
    offline = run_vidm("download", "tiny_cls", env={**env, "HF_HUB_OFFLINE": "1"})
    assert offline.returncode == 0 and silent_hub.connections == []


def test_an_unreachable_hub_fails_in_one_line_after_one_more_question(
    tiny_catalog: Path, hub_server: HubServer, silent_hub: SilentHub
) -> None:
    env = {
        **hub_server.env,
        "HF_ENDPOINT": silent_hub.url,
        "VIDM_CATALOG": str(tiny_catalog),
        "HF_HUB_ETAG_TIMEOUT": "1",
    }
    result = run_vidm("download", "tiny_cls", env=env)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and errors[0].startswith(f"Error: the Hub at {silent_hub.url} did not answer in time")
    assert "HF_HUB_OFFLINE=1" in errors[0] and "Retrying" not in result.stderr
    assert len(silent_hub.connections) == 2  # a slow question is asked once more, no back-off


def test_a_torchvision_built_for_another_torch_is_one_line_saying_what_to_reinstall(
    tiny_catalog: Path, hub_server: HubServer, tmp_path: Path
) -> None:
    fake = tmp_path / "site" / "torchvision"  # what importing a mismatched torchvision raises
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('raise RuntimeError("operator torchvision::nms does not exist")\n')
    env = {**hub_server.env, "VIDM_CATALOG": str(tiny_catalog), "PYTHONPATH": str(tmp_path / "site")}
    result = run_vidm("embed", "--model", "tiny_cls", "--out", tmp_path / "f.npy", env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "are not a matching pair" in errors[0]
    assert "pip install --force-reinstall torch torchvision" in errors[0]


NO_GPU = not torch.cuda.is_available()
BAD_OPTIONS = [
    ("complete", "--mask", "diagonal"),
    ("complete", "--ratio", "1.5"),
    ("complete", "--clip", "sideways"),
    ("complete", "--format", "gif"),
    ("complete", "--dtype", "fp8"),
    ("complete", "--model", "tiny_vit"),
    ("complete", "--checkpoint", "missing.pth"),
    ("complete", "--frame-folders", "maybe"),
    ("attend", "--clip", "bogus"),
    ("attend", "--format", "tiff"),
    ("attend", "--heads", "9"),
    ("attend", "--layer", "5"),
    ("attend", "--threshold", "2"),
    ("attend", "--style", "sketch"),
    ("attend", "--colormap", "rainbow-unicorn"),
    ("attend", "--heads", "0,1", "--rollout"),
    ("embed", "--pool", "max"),
    ("embed", "--reduce", "median"),
    ("embed", "--crops", "2"),
    ("embed", "--clips", "random:3"),
    ("embed", "--stride", "2"),
    ("embed", "--layer", "7"),
    ("embed", "--logits"),
    ("embed", "--out", "feats.txt"),
    ("embed", "--shard", "3/2"),
    ("embed", "--dtype", "float16", "--device", "cpu"),
    ("embed", "--frame-folders", "maybe"),
    ("embed", "--checkpoint", "missing.pth"),
    *([("complete", "--device", "cuda"), ("embed", "--device", "cuda:3")] if NO_GPU else []),
]


@pytest.mark.parametrize("args", BAD_OPTIONS, ids=" ".join)
def test_every_option_is_checked_before_the_model_is_fetched(
    tiny_catalog: Path, hub_server: HubServer, tmp_path: Path, args: tuple[str, ...]
) -> None:
    command, *options = args
    model = [] if "--model" in options else ["--model", "tiny_mae" if command == "complete" else "tiny_vit"]
    result = invoke(command, *model, *options, "--workers", "0")
    assert result.exit_code == 2, result.output
    line = result.output.strip().splitlines()[-1]
    assert line.startswith("Error: --") or "Usage:" in result.output, line  # names the option
    assert hub_server.requests == []  # nothing was fetched, not even asked about
    assert not list(Path(hub_server.env["HF_HUB_CACHE"]).rglob("*.pth"))


def test_list_json_and_pipe_output_stay_whole(tiny_catalog: Path) -> None:
    rows = json.loads(invoke("list", "--json").stdout)
    assert {"expected_bytes", "downloaded"} <= set(rows[0])
    plain = invoke("list").stdout.splitlines()
    assert plain[0].split() == ["name", "classes", "px", "params", "file", "cached"]
    assert sum(line.split()[0] == "vit_s_none" for line in plain[1:]) == 1  # one line per model, never wrapped
    assert all(len(line.split()) == 6 for line in plain)
