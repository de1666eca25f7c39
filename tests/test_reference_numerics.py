"""Our model code against the reference implementation's outputs on the tiny checkpoints."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import vidmenagerie as vm

from attention_reference import full_attention


@pytest.fixture(scope="module")
def ref(reference: Path) -> dict:
    return torch.load(reference / "reference_outputs.pt", weights_only=True)


@pytest.fixture(scope="module")
def reference() -> Path:  # module-scoped twin of the conftest fixture
    from conftest import REFERENCE

    if not REFERENCE.is_dir():
        pytest.skip("../shared/reference is not available")
    return REFERENCE


def _arch(ref: dict, **extra: int) -> dict:
    return {**ref["arch"], **ref["decoder"], **extra}


def _mae(ref: dict, reference: Path, file: str = "mae_tiny.pth") -> vm.MaskedAutoencoder:
    model = vm.create_model("mae", **_arch(ref))
    return vm.load_checkpoint(model, reference / file).eval()


@pytest.mark.parametrize("kind", ["center", "temporal"])
@pytest.mark.parametrize("ratio", ["0.25", "0.5", "0.75"])
def test_mae_prediction_mask_and_loss_match_reference(ref: dict, reference: Path, kind: str, ratio: str) -> None:
    model = _mae(ref, reference)
    expected = ref[f"mae/{kind}/{ratio}"]
    x = ref["input"]
    mask = vm.make_mask(kind, float(ratio), model.arch.grid, batch=x.shape[0])
    assert torch.equal(mask.float(), expected["mask"])
    with torch.no_grad():
        pred = model(x, mask)
    torch.testing.assert_close(pred, expected["pred"], atol=1e-4, rtol=0)
    per_token = ((pred - model.patchify(x)) ** 2).mean(-1)
    loss = (per_token * mask).sum() / mask.sum()
    torch.testing.assert_close(loss, expected["loss"], atol=1e-5, rtol=0)


def test_random_mask_hides_the_reference_number_of_tokens(ref: dict) -> None:
    expected = ref["mae/random/0.9"]["mask"]
    mask = vm.make_mask("random", 0.9, (2, 4, 4), batch=2, generator=torch.Generator().manual_seed(0))
    assert mask.sum(1).tolist() == expected.sum(1).tolist() == [29, 29]


def test_training_style_checkpoint_gives_the_same_model(ref: dict, reference: Path) -> None:
    plain = _mae(ref, reference).state_dict()
    full = _mae(ref, reference, "mae_tiny_full.pth").state_dict()
    assert plain.keys() == full.keys()
    assert all(torch.equal(plain[k], full[k]) for k in plain)


def test_plain_encoder_from_mae_file_matches_reference_features_and_attention(ref: dict, reference: Path) -> None:
    model = vm.create_model("vit", **ref["arch"])
    vm.load_checkpoint(model, reference / "mae_tiny.pth").eval()
    with torch.no_grad():
        features = model(ref["input"])
        attn = model.cls_attention(ref["input"])
    torch.testing.assert_close(features, ref["vit_none/features"], atol=1e-4, rtol=0)
    torch.testing.assert_close(attn, ref["vit_none/last_attn"][:, :, 0], atol=1e-5, rtol=0)


def test_finetuned_encoder_matches_reference_logits_and_attention(ref: dict, reference: Path) -> None:
    model = vm.create_model("vit", **ref["arch"], num_classes=5)
    vm.load_checkpoint(model, reference / "vit_tiny_5cls.pth").eval()
    with torch.no_grad():
        logits = model(ref["input"])
        last = model.blocks[-1]
        full = full_attention(last.attn, last.norm1(model.forward_tokens(ref["input"], layer=-2)))
    torch.testing.assert_close(logits, ref["vit5/logits"], atol=1e-4, rtol=0)
    torch.testing.assert_close(full, ref["vit5/last_attn"], atol=1e-5, rtol=0)
