"""Spatiotemporal ViT and MAE, parameter-compatible with the published mae_st checkpoints.

A video ``[B, 3, T, H, W]`` is cut into ``t_patch x patch x patch`` tubes by a Conv3d, a CLS
token is prepended, and separate spatial, temporal and class position embeddings are added.
Tokens are ordered time-major (time slot, then row, then column), as in the reference code.
Parameter names and shapes equal the published files (``q``/``k``/``v`` separate linears,
``pos_embed_spatial``/``pos_embed_temporal``/``pos_embed_class``, ``decoder_*`` for the MAE).

Attention runs through ``F.scaled_dot_product_attention``; :meth:`Attention.cls_attention`
computes only the CLS row of a block's attention, so attention maps never build the N x N matrix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .config import Architecture


class PatchEmbed(nn.Module):
    """Video to token grid with one Conv3d: ``[B, 3, T, H, W] -> [B, T/t, H/p * W/p, C]``."""

    def __init__(self, arch: Architecture) -> None:
        super().__init__()
        self.grid = arch.grid
        kernel = (arch.t_patch_size, arch.patch_size, arch.patch_size)
        self.proj = nn.Conv3d(arch.in_chans, arch.embed_dim, kernel_size=kernel, stride=kernel)

    def forward(self, x: Tensor) -> Tensor:
        x = self.proj(x)  # [B, C, t, h, w]
        return x.flatten(3).permute(0, 2, 3, 1)  # [B, t, h*w, C]


class Attention(nn.Module):
    """Multi-head self-attention with separate q, k, v projections (the checkpoints' layout)."""

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim**-0.5
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)

    def _heads(self, x: Tensor) -> Tensor:
        b, n, _ = x.shape
        return x.view(b, n, self.num_heads, self.head_dim).transpose(1, 2)  # [B, h, N, d]

    def forward(self, x: Tensor) -> Tensor:
        b, n, c = x.shape
        q, k, v = self._heads(self.q(x)), self._heads(self.k(x)), self._heads(self.v(x))
        out = F.scaled_dot_product_attention(q, k, v)
        return self.proj(out.transpose(1, 2).reshape(b, n, c))

    def cls_attention(self, x: Tensor) -> Tensor:
        """Softmax attention of the first (CLS) query over the normed tokens ``x`` ``[B, N, C]``: ``[B, heads, N]``.

        Only that query row exists, and not even the keys: ``q . (W_k x + b_k) = (W_k^T q) . x +
        q . b_k``, and the last term is the same for every key, so it drops out of the softmax.
        Memory ``heads x N`` instead of ``heads x N x N``; float32 whatever the autocast.
        """
        b, _, c = x.shape
        with torch.autocast(device_type=x.device.type, enabled=False):
            q = linear_fp32(self.q, x[:, 0]).view(b, self.num_heads, self.head_dim) * self.scale
            folded = torch.einsum("bhd,hdc->bhc", q, self.k.weight.float().view(self.num_heads, self.head_dim, c))
            return torch.bmm(folded, x.float().transpose(1, 2)).softmax(dim=-1)


def _timm_layers() -> ModuleType:
    """``timm.layers``, imported when the first model is built: importing timm registers its
    whole model zoo (about a second), which commands that build no model should not pay."""
    import timm.layers

    return timm.layers


def linear_fp32(layer: nn.Linear, x: Tensor) -> Tensor:
    """``layer(x)`` in float32, whatever the weights' dtype."""
    bias = None if layer.bias is None else layer.bias.float()
    return F.linear(x.float(), layer.weight.float(), bias)


def resolve_layer(layer: int, depth: int) -> int:
    """The block index ``layer`` names (negative counts from the end), or a ValueError naming the range."""
    index = layer + depth if layer < 0 else layer
    if not 0 <= index < depth:
        raise ValueError(
            f"layer {layer} is out of range: the model has {depth} blocks (0..{depth - 1}, or -1..-{depth})"
        )
    return index


class Block(nn.Module):
    """Pre-norm transformer block: attention then GELU MLP, each with a residual."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float, eps: float, drop_path: float = 0.0) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = Attention(dim, num_heads)
        layers = _timm_layers()
        self.drop_path = layers.DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = layers.Mlp(in_features=dim, hidden_features=int(dim * mlp_ratio), act_layer=nn.GELU)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.drop_path(self.attn(self.norm1(x)))
        return x + self.drop_path(self.mlp(self.norm2(x)))


def _blocks(dim: int, depth: int, heads: int, arch: Architecture, drop_path_rate: float) -> nn.ModuleList:
    rates = [drop_path_rate * i / max(depth - 1, 1) for i in range(depth)]
    return nn.ModuleList(Block(dim, heads, arch.mlp_ratio, arch.norm_eps, rates[i]) for i in range(depth))


class VideoEncoder(nn.Module):
    """The shared encoder: patch embedding, CLS token, position embeddings, blocks, final norm."""

    def __init__(self, arch: Architecture) -> None:
        super().__init__()
        self.arch = arch
        t, h, w = arch.grid
        dim = arch.embed_dim
        self.patch_embed = PatchEmbed(arch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed_spatial = nn.Parameter(torch.zeros(1, h * w, dim))
        self.pos_embed_temporal = nn.Parameter(torch.zeros(1, t, dim))
        self.pos_embed_class = nn.Parameter(torch.zeros(1, 1, dim))
        self.blocks = _blocks(dim, arch.depth, arch.num_heads, arch, arch.drop_path_rate)
        self.norm = nn.LayerNorm(dim, eps=arch.norm_eps)

    @property
    def num_heads(self) -> int:
        return self.arch.num_heads

    def _check_input(self, x: Tensor) -> None:
        a = self.arch
        want = (a.in_chans, a.num_frames, a.img_size, a.img_size)
        if x.ndim != 5 or tuple(x.shape[1:]) != want:
            raise ValueError(f"expected a video batch of shape [B, {', '.join(map(str, want))}], got {list(x.shape)}")

    def patch_pos_embed(self) -> Tensor:
        """Position embedding of every patch token, time-major: ``[1, L, C]``."""
        t, h, w = self.arch.grid
        spatial = self.pos_embed_spatial.repeat(1, t, 1)
        temporal = torch.repeat_interleave(self.pos_embed_temporal, h * w, dim=1)
        return spatial + temporal

    def embed(self, x: Tensor, keep: Tensor | None = None) -> Tensor:
        """Tokens with CLS prepended and position embeddings added: ``[B, 1 + n, C]``.

        ``keep`` (``[B, n]`` token indices) selects the visible tokens, as an MAE encoder sees them.
        """
        self._check_input(x)
        tokens = self.patch_embed(x).flatten(1, 2)  # [B, L, C]
        pos = self.patch_pos_embed().expand(tokens.shape[0], -1, -1)
        tokens = tokens + pos
        if keep is not None:
            index = keep.unsqueeze(-1).expand(-1, -1, tokens.shape[-1])
            tokens = torch.gather(tokens, 1, index)
        cls = (self.cls_token + self.pos_embed_class).expand(tokens.shape[0], -1, -1)
        return torch.cat([cls, tokens], dim=1)

    def block_index(self, layer: int) -> int:
        """Index of block ``layer`` (negative counts from the end); out of range is a clear ValueError."""
        return resolve_layer(layer, len(self.blocks))

    def forward_tokens(self, x: Tensor, keep: Tensor | None = None, layer: int = -1) -> Tensor:
        """Output of block ``layer`` (default the last), before the final norm: ``[B, 1 + n, C]``."""
        tokens = self.embed(x, keep)
        for block in self.blocks[: self.block_index(layer) + 1]:
            tokens = block(tokens)
        return tokens

    def pool(self, tokens: Tensor, pool: str = "cls") -> Tensor:
        """Pool a block's output ``[B, 1 + n, C]``: norm(CLS), norm(mean patch token) or norm(every patch)."""
        if pool == "cls":
            return self.norm(tokens[:, 0])
        if pool == "mean":
            return self.norm(tokens[:, 1:].mean(dim=1))
        if pool == "tokens":
            return self.norm(tokens[:, 1:])
        raise ValueError(f"pool must be one of cls, mean, tokens, got {pool!r}")

    def forward_features(self, x: Tensor, pool: str = "cls", layer: int = -1) -> Tensor:
        """Pooled features of block ``layer`` (default the last), through the final norm (see :meth:`pool`)."""
        return self.pool(self.forward_tokens(x, layer=layer), pool)

    def forward_layers(self, x: Tensor, layers: Sequence[int], pool: str | Sequence[str] = "cls") -> list[Tensor]:
        """Pooled features (see :meth:`pool`) of every block in ``layers`` (each with its own ``pool``
        when a sequence is given), in their order, from ONE pass that stops after the deepest block.

        Each block's output is pooled as soon as the block is done, so only pooled features are kept.
        """
        indices = [self.block_index(layer) for layer in layers]
        pools = [pool] * len(indices) if isinstance(pool, str) else list(pool)
        if len(pools) != len(indices):
            raise ValueError(f"{len(indices)} layers but {len(pools)} pools")
        pooled: list[Tensor | None] = [None] * len(indices)
        tokens = self.embed(x)
        for i, block in enumerate(self.blocks[: max(indices) + 1]):
            tokens = block(tokens)
            for k, index in enumerate(indices):
                if index == i:
                    pooled[k] = self.pool(tokens, pools[k])
        return [t for t in pooled if t is not None]

    def checkpoint_filter(self, state_dict: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """The checkpoint entries this model takes (all of them; a plain ``vit`` drops an MAE's decoder)."""
        return dict(state_dict)

    def cls_attention(self, x: Tensor, layer: int = -1) -> Tensor:
        """CLS-query softmax attention of block ``layer`` over all tokens: ``[B, heads, 1 + L]``."""
        index = self.block_index(layer)
        tokens = self.embed(x)
        for block in self.blocks[:index]:
            tokens = block(tokens)
        block = cast(Block, self.blocks[index])
        return block.attn.cls_attention(block.norm1(tokens))

    def init_weights(self) -> None:
        """Random initialisation as in the reference training code (skipped when loading weights)."""
        for p in (self.cls_token, self.pos_embed_spatial, self.pos_embed_temporal, self.pos_embed_class):
            _timm_layers().trunc_normal_(p, std=0.02)
        w = self.patch_embed.proj.weight.data
        nn.init.xavier_uniform_(w.view(w.shape[0], -1))
        self.apply(_init_linear_and_norm)


def _init_linear_and_norm(m: nn.Module) -> None:
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.LayerNorm):
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)


class VisionTransformer(VideoEncoder):
    """``vit`` models: encoder, then LayerNorm of the CLS token, then the head (identity if none)."""

    kind = "vit"
    head_pool = "cls"  # the pooled feature the head reads

    def __init__(self, arch: Architecture) -> None:
        super().__init__(arch)
        self.head_drop = nn.Dropout(0.0)
        self.head: nn.Module = nn.Linear(arch.embed_dim, arch.num_classes) if arch.num_classes else nn.Identity()

    @property
    def has_head(self) -> bool:
        """Whether this is a finetuned model with a classification head."""
        return isinstance(self.head, nn.Linear)

    def forward_head(self, features: Tensor) -> Tensor:
        """Class scores from the pooled CLS feature (the identity for a plain encoder)."""
        return self.head(self.head_drop(features))

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_head(self.forward_features(x, pool=self.head_pool))

    def checkpoint_filter(self, state_dict: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """A plain encoder (``vit_*_none``) loads from the MAE file: its decoder entries are left out."""
        if self.has_head:
            return dict(state_dict)
        return {k: v for k, v in state_dict.items() if not is_decoder_key(k)}

    def init_weights(self) -> None:
        super().init_weights()
        if isinstance(self.head, nn.Linear):
            nn.init.normal_(self.head.weight, std=0.02)


class ProbeHeadTransformer(VisionTransformer):
    """A linear probe exported by ``vidm probe``: the encoder's blocks up to the probed one (``arch.depth``
    of them, so a head on a middle block runs no block past it), the pooled feature there through the
    final norm (``head_pool``: cls or mean, exactly what ``embed`` stores), then the linear head.

    Its weights come from two files: the backbone's checkpoint (an MAE's, a plain encoder's or a
    finetuned one's: decoder, own head and later blocks are left out) and the head's.
    """

    def __init__(self, arch: Architecture, pool: str = "cls") -> None:
        super().__init__(arch)
        if pool not in ("cls", "mean"):
            raise ValueError(f"a probe head reads the cls or mean feature, not {pool!r}")
        self.head_pool = pool

    def checkpoint_filter(self, state_dict: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """The backbone's encoder entries up to block ``depth - 1`` (the head comes from its own file)."""
        depth = self.arch.depth

        def wanted(key: str) -> bool:
            if is_decoder_key(key) or key.startswith("head."):
                return False
            parts = key.split(".")
            return not (parts[0] == "blocks" and parts[1].isdigit() and int(parts[1]) >= depth)

        return {k: v for k, v in state_dict.items() if wanted(k)}


class MaskedAutoencoder(VideoEncoder):
    """``mae`` models: the encoder sees only visible tokens; a light decoder predicts every token's pixels."""

    kind = "mae"

    def __init__(self, arch: Architecture) -> None:
        super().__init__(arch)
        t, h, w = arch.grid
        dim = arch.decoder_embed_dim
        self.decoder_cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.decoder_pos_embed_spatial = nn.Parameter(torch.zeros(1, h * w, dim))
        self.decoder_pos_embed_temporal = nn.Parameter(torch.zeros(1, t, dim))
        self.decoder_pos_embed_class = nn.Parameter(torch.zeros(1, 1, dim))
        self.decoder_embed = nn.Linear(arch.embed_dim, dim)
        self.decoder_blocks = _blocks(dim, arch.decoder_depth, arch.decoder_num_heads, arch, 0.0)
        self.decoder_norm = nn.LayerNorm(dim, eps=arch.norm_eps)
        self.decoder_pred = nn.Linear(dim, arch.patch_dim)

    def encode(self, x: Tensor, keep: Tensor) -> Tensor:
        """Encoder on the visible tokens ``keep`` (``[B, n]``): normed latents without CLS, ``[B, n, C]``."""
        tokens = self.embed(x, keep)
        for block in self.blocks:
            tokens = block(tokens)
        return self.norm(tokens)[:, 1:]

    def decode(self, latent: Tensor, keep: Tensor) -> Tensor:
        """Pixel prediction for every token: ``[B, L, t_patch * patch * patch * 3]`` (normalized space)."""
        b = latent.shape[0]
        t, h, w = self.arch.grid
        visible = self.decoder_embed(latent)
        dim = visible.shape[-1]
        full = self.mask_token.to(visible.dtype).expand(b, t * h * w, dim).clone()
        full.scatter_(1, keep.unsqueeze(-1).expand(-1, -1, dim), visible)
        pos = self.decoder_pos_embed_spatial.repeat(1, t, 1) + torch.repeat_interleave(
            self.decoder_pos_embed_temporal, h * w, dim=1
        )
        full = full + pos
        cls = (self.decoder_cls_token + self.decoder_pos_embed_class).expand(b, -1, -1)
        tokens = torch.cat([cls, full], dim=1)
        for block in self.decoder_blocks:
            tokens = block(tokens)
        return self.decoder_pred(self.decoder_norm(tokens))[:, 1:]

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        """Prediction for every token given a boolean ``mask`` ``[B, L]`` (True = hidden)."""
        keep = visible_indices(mask)
        return self.decode(self.encode(x, keep), keep)

    def patchify(self, video: Tensor) -> Tensor:
        """``[B, 3, T, H, W] -> [B, L, t_patch * p * p * 3]`` in the decoder's pixel order."""
        b, c, frames, height, width = video.shape
        p, u = self.arch.patch_size, self.arch.t_patch_size
        x = video.reshape(b, c, frames // u, u, height // p, p, width // p, p)
        x = torch.einsum("nctuhpwq->nthwupqc", x)
        return x.reshape(b, (frames // u) * (height // p) * (width // p), u * p * p * c)

    def unpatchify(self, tokens: Tensor) -> Tensor:
        """Inverse of :meth:`patchify`: ``[B, L, t_patch * p * p * 3] -> [B, 3, T, H, W]``."""
        a = self.arch
        t, h, w = a.grid
        p, u, c = a.patch_size, a.t_patch_size, a.in_chans
        x = tokens.reshape(tokens.shape[0], t, h, w, u, p, p, c)
        x = torch.einsum("nthwupqc->nctuhpwq", x)
        return x.reshape(tokens.shape[0], c, t * u, h * p, w * p)

    def init_weights(self) -> None:
        super().init_weights()
        for p in (
            self.decoder_cls_token,
            self.decoder_pos_embed_spatial,
            self.decoder_pos_embed_temporal,
            self.decoder_pos_embed_class,
        ):
            _timm_layers().trunc_normal_(p, std=0.02)
        nn.init.normal_(self.mask_token, std=0.02)


def visible_indices(mask: Tensor) -> Tensor:
    """Indices of visible tokens per row of a boolean ``[B, L]`` mask, ascending: ``[B, n_keep]``.

    Every row must hide the same number of tokens (as every masking rule here does).
    """
    counts = (~mask).sum(dim=1)
    if counts.numel() and bool((counts != counts[0]).any()):
        raise ValueError("every clip in a batch must keep the same number of tokens")
    n_keep = int(counts[0]) if counts.numel() else 0
    order = torch.argsort(mask.to(torch.int8), dim=1, stable=True)
    return order[:, :n_keep]


DECODER_PREFIXES: tuple[str, ...] = ("decoder_", "mask_token")


def is_decoder_key(name: str) -> bool:
    """Whether a checkpoint key belongs to the MAE decoder (ignored when loading a plain encoder)."""
    return name.startswith(DECODER_PREFIXES)
