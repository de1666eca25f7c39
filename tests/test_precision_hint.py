"""bfloat16 on CPUs that compute it in hardware: detection from the CPU flags, and the one hint."""

from __future__ import annotations

from pathlib import Path

import pytest

import vidmenagerie.cpu as cpu_module
from vidmenagerie.batch.outputs import versions
from vidmenagerie.cpu import CpuInfo, native_bf16, parse_cpuinfo

from cli import invoke
from videos import write_gray_video

# /proc/cpuinfo excerpts of real machines (first processor, flags shortened to what matters plus neighbours).
SAPPHIRE_RAPIDS = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz
flags\t\t: fpu sse2 avx avx2 avx512f avx512bw avx512_vnni avx512_bf16 amx_bf16 amx_tile amx_int8
"""
ZEN4 = """processor\t: 0
model name\t: AMD EPYC 9B14
flags\t\t: fpu sse2 avx avx2 avx512f avx512bw avx512_vnni avx512_bf16
"""
ZEN3 = """processor\t: 0
model name\t: AMD EPYC 7B13
flags\t\t: fpu sse2 avx avx2 fma
"""
CASCADE_LAKE = """processor\t: 0
model name\t: Intel(R) Xeon(R) CPU @ 2.80GHz
flags\t\t: fpu sse2 avx avx2 avx512f avx512bw avx512_vnni
"""
GRAVITON3 = """processor\t: 0
BogoMIPS\t: 2100.00
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid sve svebf16 i8mm bf16
CPU implementer\t: 0x41
"""
GRAVITON2 = """processor\t: 0
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp
"""


@pytest.mark.parametrize(
    ("text", "bf16", "name"),
    [
        (SAPPHIRE_RAPIDS, True, "Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz"),
        (ZEN4, True, "AMD EPYC 9B14"),
        (ZEN3, False, "AMD EPYC 7B13"),
        (CASCADE_LAKE, False, "Intel(R) Xeon(R) CPU @ 2.80GHz"),
        (GRAVITON3, True, None),
        (GRAVITON2, False, None),
    ],
)
def test_bfloat16_hardware_is_read_from_the_flags(text: str, bf16: bool, name: str | None) -> None:
    info = parse_cpuinfo(text)
    assert info.bf16 is bf16 and native_bf16(info.flags) is bf16
    if name is not None:
        assert info.name == name
    assert ("bfloat16 in hardware" if bf16 else "no bfloat16 hardware") in info.describe()


def test_run_records_name_the_cpu_and_its_bfloat16() -> None:
    assert versions()["cpu"] == cpu_module.this_cpu().describe()


@pytest.fixture
def video(tmp_path: Path) -> Path:
    return write_gray_video(tmp_path / "v.mp4", 20)


def _embed(tmp_path: Path, video: Path, *extra: str) -> str:
    out = tmp_path / f"f{len(list(tmp_path.glob('f*.npy')))}.npy"
    result = invoke("embed", video, "--model", "tiny_cls", "--device", "cpu", "--workers", "0", *extra, "--out", out)
    assert result.exit_code == 0, result.output
    return result.stderr


HINT = "hint this CPU computes bfloat16 in hardware"


def test_the_hint_comes_only_when_every_condition_holds(
    tiny_catalog: Path, video: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VIDM_NO_HINTS", raising=False)
    monkeypatch.setattr(cpu_module, "this_cpu", lambda: CpuInfo("Test CPU", frozenset({"avx512_bf16"})))
    said = _embed(tmp_path, video)
    assert said.count(HINT) == 1 and cpu_module.BF16_GAIN in said and "(Test CPU)" in said
    assert HINT not in _embed(tmp_path, video, "--dtype", "float32")  # the user chose
    assert HINT not in _embed(tmp_path, video, "--dtype", "bfloat16")
    monkeypatch.setenv("VIDM_NO_HINTS", "1")
    assert HINT not in _embed(tmp_path, video)
    monkeypatch.delenv("VIDM_NO_HINTS")
    monkeypatch.setattr(cpu_module, "this_cpu", lambda: CpuInfo("Old CPU", frozenset({"avx2", "avx512f"})))
    assert HINT not in _embed(tmp_path, video)  # no hardware: bfloat16 would gain nothing
