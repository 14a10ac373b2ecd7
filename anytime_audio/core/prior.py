"""CodePrior: a causal Transformer over ordered code sequences.

The prior models ``p(c_1..c_L | y) = prod_i p(c_i | c_<i, y)`` with a small
GPT: pre-norm blocks, ``scaled_dot_product_attention``, learned positions and
input/output embeddings tied. A start token (index ``K``) plus an optional
class embedding ``y`` (e.g. the spoken digit) opens every sequence.

Sampling uses a preallocated key/value cache in the gpt-fast manner: a
``prefill`` of the start position, then one token per step written at
``input_pos``. :meth:`CodePrior.logits_full` recomputes the whole prefix each
step (the nanoGPT way) and is kept as the reference the cached logits must
match. Because codes are ordered, stopping after ``k`` steps yields an exact
sample of the first ``k`` codes: the anytime property needs nothing more from
the prior.
"""

from __future__ import annotations

import math
from typing import Iterator

import torch
import torch.nn.functional as F
from torch import nn


class KVCache(nn.Module):
    """Preallocated keys and values ``[B, H, max_len, Dh]`` for one layer."""

    def __init__(self, batch: int, heads: int, max_len: int, head_dim: int, device, dtype) -> None:
        super().__init__()
        shape = (batch, heads, max_len, head_dim)
        self.register_buffer("k", torch.zeros(shape, device=device, dtype=dtype), persistent=False)
        self.register_buffer("v", torch.zeros(shape, device=device, dtype=dtype), persistent=False)

    def update(self, input_pos: torch.Tensor, k: torch.Tensor, v: torch.Tensor):
        self.k[:, :, input_pos] = k
        self.v[:, :, input_pos] = v
        end = int(input_pos[-1]) + 1
        return self.k[:, :, :end], self.v[:, :, :end]


class CausalSelfAttention(nn.Module):
    def __init__(self, d_model: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model {d_model} is not divisible by n_heads {n_heads}")
        self.n_heads = n_heads
        self.head_dim = d_model // n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.dropout = dropout
        self.cache: KVCache | None = None

    def forward(self, x: torch.Tensor, input_pos: torch.Tensor | None = None) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(x).split(d, dim=2)
        q, k, v = (y.view(b, t, self.n_heads, self.head_dim).transpose(1, 2) for y in (q, k, v))
        dropout = self.dropout if self.training else 0.0
        if self.cache is not None and input_pos is not None:
            k, v = self.cache.update(input_pos, k, v)
            if t == 1:
                y = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout)
            else:
                # prefill of several positions starting at input_pos[0]
                start = int(input_pos[0])
                mask = torch.ones(t, k.shape[2], dtype=torch.bool, device=x.device).tril(start)
                y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout)
        else:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=dropout)
        return self.proj(y.transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    def __init__(self, d_model: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads, dropout)
        self.norm2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(
            nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model), nn.Dropout(dropout)
        )

    def forward(self, x: torch.Tensor, input_pos: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.attn(self.norm1(x), input_pos)
        return x + self.mlp(self.norm2(x))


def filter_logits(logits: torch.Tensor, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0) -> torch.Tensor:
    """Temperature, top-k and nucleus (top-p) filtering of ``[..., K]`` logits."""
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    logits = logits / temperature
    if top_k and top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
        cumulative = sorted_logits.softmax(-1).cumsum(-1)
        remove = cumulative - sorted_logits.softmax(-1) > top_p
        sorted_logits = sorted_logits.masked_fill(remove, float("-inf"))
        logits = torch.full_like(logits, float("-inf")).scatter(-1, order, sorted_logits)
    return logits


def drop_labels(labels: torch.Tensor | None, conditional: bool, p: float = 0.1) -> torch.Tensor | None:
    """Training labels for a prior: None when unconditional, else labels with a
    fraction ``p`` replaced by -1 ("no class"), so one model also samples
    unconditionally."""
    if labels is None or not conditional:
        return None
    drop = torch.rand(labels.shape, device=labels.device) < p
    return torch.where(drop, torch.full_like(labels, -1), labels)


class CodePrior(nn.Module):
    """Causal Transformer prior over ``L`` codes from a ``K``-entry codebook.

    Args:
        num_codes: ``K``; token ``K`` is the start token.
        length: ``L``, the code sequence length.
        num_classes: > 0 enables class conditioning; label -1 means unconditional
            (a learned "no class" embedding, so one model serves both).
    """

    def __init__(
        self,
        num_codes: int,
        length: int,
        num_classes: int = 0,
        d_model: int = 256,
        n_layers: int = 4,
        n_heads: int = 4,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.num_codes = num_codes
        self.length = length
        self.num_classes = num_classes
        self.d_model = d_model
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.dropout = dropout
        self.token_emb = nn.Embedding(num_codes + 1, d_model)
        self.pos_emb = nn.Embedding(length, d_model)
        self.class_emb = nn.Embedding(num_classes + 1, d_model) if num_classes > 0 else None
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList([Block(d_model, n_heads, dropout) for _ in range(n_layers)])
        self.norm = nn.LayerNorm(d_model)
        self.apply(self._init_weights)
        for name, p in self.named_parameters():
            if name.endswith("proj.weight") or name.endswith("mlp.2.weight"):
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * n_layers))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, std=0.02)

    def config(self) -> dict:
        return dict(
            num_codes=self.num_codes, length=self.length, num_classes=self.num_classes,
            d_model=self.d_model, n_layers=self.n_layers, n_heads=self.n_heads, dropout=self.dropout,
        )

    # ----------------------------------------------------------- network
    def _class_vector(self, labels: torch.Tensor | None, batch: int, device) -> torch.Tensor | None:
        if self.class_emb is None:
            return None
        if labels is None:
            labels = torch.full((batch,), -1, dtype=torch.long, device=device)
        labels = labels.to(device=device, dtype=torch.long)
        if int(labels.max()) >= self.num_classes:
            raise ValueError(f"label {int(labels.max())} out of range for {self.num_classes} classes")
        index = torch.where(labels < 0, torch.full_like(labels, self.num_classes), labels)
        return self.class_emb(index)

    def _inputs(self, codes: torch.Tensor) -> torch.Tensor:
        """Shift right: [start, c_1, ..., c_{T-1}]."""
        start = torch.full((codes.shape[0], 1), self.num_codes, dtype=torch.long, device=codes.device)
        return torch.cat([start, codes[:, :-1]], dim=1)

    def _forward_tokens(self, tokens: torch.Tensor, positions: torch.Tensor, class_vec, input_pos=None):
        x = self.token_emb(tokens) + self.pos_emb(positions)[None]
        if class_vec is not None:
            x = x + class_vec[:, None, :]
        x = self.drop(x)
        for block in self.blocks:
            x = block(x, input_pos)
        x = self.norm(x)
        return x @ self.token_emb.weight[: self.num_codes].t()

    def forward(self, codes: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Teacher-forced logits ``[B, T, K]`` for ``codes [B, T]``, ``T <= L``."""
        if codes.shape[1] > self.length:
            raise ValueError(f"sequence of {codes.shape[1]} codes is longer than the prior's {self.length}")
        tokens = self._inputs(codes)
        positions = torch.arange(tokens.shape[1], device=codes.device)
        return self._forward_tokens(tokens, positions, self._class_vector(labels, codes.shape[0], codes.device))

    def loss(self, codes: torch.Tensor, labels: torch.Tensor | None = None):
        """Mean negative log-likelihood per code (nats) and stats in bits."""
        logits = self(codes, labels)
        nll = F.cross_entropy(logits.reshape(-1, self.num_codes).float(), codes.reshape(-1))
        value = float(nll.detach())
        return nll, {"loss": value, "bits_per_code": value / math.log(2)}

    def training_loss(self, batch, step: int = 0):
        """Trainer entry point: ``batch = (codes, labels)``."""
        codes, labels = batch
        return self.loss(codes, drop_labels(labels, self.class_emb is not None))

    @torch.no_grad()
    def bits_per_code(self, codes: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Per-example negative log2-likelihood per code ``[B]``."""
        logits = self(codes, labels if self.class_emb is not None else None).float()
        nll = F.cross_entropy(logits.transpose(1, 2), codes, reduction="none")
        return nll.mean(1) / math.log(2)

    # ------------------------------------------------------------ decoding
    def setup_cache(self, batch: int, device, dtype=torch.float32) -> None:
        for block in self.blocks:
            block.attn.cache = KVCache(batch, self.n_heads, self.length, self.d_model // self.n_heads, device, dtype)

    def clear_cache(self) -> None:
        for block in self.blocks:
            block.attn.cache = None

    def _step_logits(self, token: torch.Tensor, pos: int, class_vec) -> torch.Tensor:
        input_pos = torch.tensor([pos], device=token.device)
        return self._forward_tokens(token[:, None], input_pos, class_vec, input_pos)[:, -1]

    @torch.no_grad()
    def logits_full(self, prefix: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Reference next-code logits ``[B, K]`` by recomputing the whole prefix."""
        n = prefix.shape[0]
        padded = torch.cat([prefix, torch.zeros(n, 1, dtype=torch.long, device=prefix.device)], 1)
        was_training = self.training
        self.eval()
        try:
            return self(padded, labels)[:, -1]
        finally:
            self.train(was_training)

    @torch.no_grad()
    def generate(
        self,
        n: int,
        max_codes: int | None = None,
        labels: torch.Tensor | None = None,
        temperature: float = 1.0,
        top_k: int = 0,
        top_p: float = 1.0,
        use_cache: bool = True,
        generator: torch.Generator | None = None,
    ) -> Iterator[torch.Tensor]:
        """Yield codes one position at a time: ``[n]`` tensors for positions 1..max_codes.

        Stopping the iteration early is the anytime mechanism: whatever has been
        yielded is an exact sample of that prefix.
        """
        max_codes = self.length if max_codes is None else max_codes
        if not 1 <= max_codes <= self.length:
            raise ValueError(f"max_codes must lie in 1..{self.length}, got {max_codes}")
        device = self.token_emb.weight.device
        was_training = self.training
        self.eval()
        class_vec = self._class_vector(labels, n, device)
        token = torch.full((n,), self.num_codes, dtype=torch.long, device=device)
        codes = torch.zeros(n, 0, dtype=torch.long, device=device)
        if use_cache:
            self.setup_cache(n, device, self.token_emb.weight.dtype)
        try:
            for pos in range(max_codes):
                if use_cache:
                    logits = self._step_logits(token, pos, class_vec)
                else:
                    logits = self.logits_full(codes, labels)
                probs = filter_logits(logits.float(), temperature, top_k, top_p).softmax(-1)
                token = torch.multinomial(probs, 1, generator=generator).squeeze(1)
                codes = torch.cat([codes, token[:, None]], 1)
                yield token
        finally:
            if use_cache:
                self.clear_cache()
            self.train(was_training)

    @torch.no_grad()
    def sample(self, n: int, k: int | None = None, labels=None, **kwargs) -> torch.Tensor:
        """Codes ``[n, L]``: the first ``k`` sampled, the rest zero (never read)."""
        k = self.length if k is None else k
        device = self.token_emb.weight.device
        out = torch.zeros(n, self.length, dtype=torch.long, device=device)
        for i, token in enumerate(self.generate(n, k, labels, **kwargs)):
            out[:, i] = token
        return out
