"""A lean one-sequence decoder for GPT-2 and GPT-Neo: the forward pass of ``stream_generate``.

At batch size one a token's cost is reading every weight once, so what matters is how fast
the matrix-vector products stream the weights and how little runs around them. transformers'
forward builds masks, cache objects and output classes per call (~46 ms per GPT-2 124M token
on one CPU thread against ~28 ms of matrix-vector work); this decoder runs only the
arithmetic, on the model's own weights:

- a key/value cache allocated once per sample (no per-token concatenation);
- each weight matrix in the layout MKL's GEMV streams fastest for its shape (``x @ W`` with
  W (in, out), or ``F.linear`` with (out, in); see ``_linear``), re-laid-out in place on CPU
  so no weight is held twice and transformers' forward still works;
- a single query's attention as three small ops, the prompt's through
  ``scaled_dot_product_attention``; GPT-Neo's local layers see only their window, and its
  attention runs in fp32 with no scaling, as transformers does.

It covers exactly the configurations it reproduces (the tests compare its logits with
transformers' for both architectures); anything else — another architecture, an adapter,
cross-attention — gets ``None`` from ``fast_decoder_for`` and the caller uses transformers.
``SMARTLAP_FAST_DECODE=0`` turns it off.

Its weights come from a transformers model (``_gpt2_weights``/``_gptneo_weights``) or
straight from the files as a ``LeanModel`` (``smartlap.lm.fast_load``), which needs no
transformers at all: that is generation's fast first token.
"""

from __future__ import annotations

import os
import threading
import weakref
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

FAST_DECODE_VARIABLE = "SMARTLAP_FAST_DECODE"
_SUPPORTED = {"GPT2LMHeadModel", "GPTNeoForCausalLM"}


@dataclass
class _Linear:
    weight: Any  # (in, out) for ``x @ weight``, or (out, in) for ``F.linear`` when out_in
    bias: Any | None
    out_in: bool

    def __call__(self, x: Any) -> Any:
        import torch

        if self.out_in:
            return torch.nn.functional.linear(x, self.weight, self.bias)
        if self.bias is None:
            return torch.mm(x, self.weight)
        return torch.addmm(self.bias, x, self.weight)


@dataclass
class _Block:
    ln_1: Any
    ln_2: Any
    qkv: list[_Linear]  # one fused projection (GPT-2) or q, k, v (GPT-Neo)
    out: _Linear
    fc: _Linear
    proj: _Linear
    scale: float
    window: int | None  # GPT-Neo local attention: keys within the last ``window`` positions
    upcast: bool  # attention in fp32 whatever the weights' dtype


@dataclass
class _Weights:
    wte: Any  # (vocab, d), possibly a strided view
    wpe: Any
    blocks: list[_Block]
    ln_f: Any
    head: _Linear
    heads: int
    act: Any


def enabled(environ: dict[str, str] | None = None) -> bool:
    value = (os.environ if environ is None else environ).get(FAST_DECODE_VARIABLE, "1")
    return value.strip().lower() not in {"0", "false", "no", "off"}


def _linear(module: Any, *, conv1d: bool = False, bias: bool = True) -> _Linear:
    """``module``'s projection with its weight in the layout MKL's GEMV streams fastest.

    Measured per matrix on one thread (docs/benchmarks.md): ``x @ W`` with W (in, out)
    contiguous is fastest where the output is at least as wide as the input (GPT-2's LM head:
    23 against 12 GB/s), ``F.linear`` with (out, in) where it is narrower (the MLP's down
    projection: 18 against 15 GB/s). On CPU a parameter in the other layout is replaced in
    place by a view of a contiguous copy: same values, so transformers' forward and the
    tie between GPT-2's embedding and LM head keep working, and no weight is held twice.
    Elsewhere (GPU) the weight is used as it is.
    """
    import torch

    weight = module.weight
    in_out = weight if conv1d else weight.t()  # the logical (in, out) view
    bias_value = module.bias if bias else None
    if weight.device.type != "cpu":
        return _Linear(in_out.t(), bias_value, out_in=True)
    out_in = in_out.shape[0] > in_out.shape[1]
    target = in_out.t() if out_in else in_out
    if not target.is_contiguous():
        with torch.no_grad():
            target = target.detach().contiguous()
            value = target.t() if conv1d == out_in else target
            module.weight = torch.nn.Parameter(value, requires_grad=weight.requires_grad)
    return _Linear(target, bias_value, out_in)


def _place(in_out: Any, bias: Any | None) -> _Linear:
    """A projection from its logical (in, out) weight, in the layout ``_linear`` picks.

    For weights read from a file: the contiguous copy is the only one kept."""
    if in_out.device.type != "cpu":
        return _Linear(in_out.t(), bias, out_in=True)
    out_in = in_out.shape[0] > in_out.shape[1]
    target = in_out.t() if out_in else in_out
    return _Linear(target.contiguous(), bias, out_in)


# The activations computed here; any other name is one transformers' ACT2FN knows.
LEAN_ACTIVATIONS = {"gelu_new", "gelu_pytorch_tanh", "gelu_fast", "gelu", "relu"}


def _activation(name: str) -> Any:
    import torch.nn.functional as F

    if name in {"gelu_new", "gelu_pytorch_tanh", "gelu_fast"}:
        return lambda x: F.gelu(x, approximate="tanh")
    if name == "gelu":
        return F.gelu
    if name == "relu":
        return F.relu
    from transformers.activations import ACT2FN

    return ACT2FN[name]


def _layer_norm(module: Any) -> tuple[Any, Any, float]:
    return module.weight, module.bias, module.eps


def _gpt2_weights(model: Any) -> _Weights | None:
    config = model.config
    if getattr(config, "add_cross_attention", False):
        return None
    body = model.transformer
    blocks = []
    for block in body.h:
        attn, mlp = block.attn, block.mlp
        blocks.append(_Block(
            ln_1=_layer_norm(block.ln_1), ln_2=_layer_norm(block.ln_2),
            qkv=[_linear(attn.c_attn, conv1d=True)],
            out=_linear(attn.c_proj, conv1d=True),
            fc=_linear(mlp.c_fc, conv1d=True),
            proj=_linear(mlp.c_proj, conv1d=True),
            scale=float(attn.scaling), window=None,
            upcast=bool(getattr(config, "reorder_and_upcast_attn", False))))
    return _with_head(model, body, blocks, config.n_head, config.activation_function)


def _gptneo_weights(model: Any) -> _Weights | None:
    config = model.config
    body = model.transformer
    blocks = []
    for block in body.h:
        attn, mlp = block.attn.attention, block.mlp
        local = block.attn.attention_type == "local"
        blocks.append(_Block(
            ln_1=_layer_norm(block.ln_1), ln_2=_layer_norm(block.ln_2),
            qkv=[_linear(attn.q_proj), _linear(attn.k_proj), _linear(attn.v_proj)],
            out=_linear(attn.out_proj),
            fc=_linear(mlp.c_fc),
            proj=_linear(mlp.c_proj),
            scale=1.0, window=int(config.window_size) if local else None, upcast=True))
    return _with_head(model, body, blocks, config.num_heads, config.activation_function)


def _with_head(model: Any, body: Any, blocks: list[_Block], heads: int,
               activation: str) -> _Weights | None:
    head_module = model.lm_head
    if getattr(head_module, "bias", None) is not None:
        return None
    tied = head_module.weight is body.wte.weight
    head = _linear(head_module, bias=False)
    if tied:  # keep the tie: the embedding reads the re-laid-out parameter too
        body.wte.weight = head_module.weight
    return _Weights(wte=body.wte.weight, wpe=body.wpe.weight, blocks=blocks,
                    ln_f=_layer_norm(body.ln_f), head=head, heads=heads,
                    act=_activation(activation))


_CACHE: weakref.WeakKeyDictionary[Any, _Weights | None] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _weights_for(model: Any) -> _Weights | None:
    with _LOCK:
        if model not in _CACHE:
            builder = {"GPT2LMHeadModel": _gpt2_weights,
                       "GPTNeoForCausalLM": _gptneo_weights}[type(model).__name__]
            _CACHE[model] = builder(model)
        return _CACHE[model]


class FastDecoder:
    """One sequence's decoding state: its key/value cache and how far it has got."""

    def __init__(self, weights: _Weights, max_length: int, device: Any) -> None:
        import torch

        self.torch = torch
        self.w = weights
        d = weights.wte.shape[1]
        self.heads = weights.heads
        self.head_dim = d // weights.heads
        dtype = weights.wte.dtype
        shape = (weights.heads, max_length, self.head_dim)
        self.keys = [torch.empty(shape, dtype=dtype, device=device) for _ in weights.blocks]
        self.values = [torch.empty(shape, dtype=dtype, device=device) for _ in weights.blocks]
        self.device = device
        self.length = 0
        self.max_length = max_length

    def __call__(self, ids: list[int], every: bool = False) -> Any:
        """Feed the next ids (the whole prompt, then one token at a time); next-token logits.

        With ``every``, the logits after each of ``ids`` (one row per id), for scoring.
        """
        return self._forward(self.torch.tensor(ids, dtype=self.torch.long, device=self.device),
                             every)

    def rewind(self, length: int) -> None:
        """Forget the positions from ``length`` on: many continuations share one prompt."""
        if not 0 <= length <= self.length:
            raise ValueError(f"cannot rewind to {length}: the decoder holds {self.length}")
        self.length = length

    def _forward(self, ids: Any, every: bool = False) -> Any:
        torch = self.torch
        F = torch.nn.functional
        n = ids.shape[0]
        start, end = self.length, self.length + n
        if end > self.max_length:
            raise ValueError(f"the decoder holds {self.max_length} positions, asked for {end}")
        w = self.w
        x = w.wte[ids] + w.wpe[start:end]
        d = x.shape[1]
        for index, block in enumerate(w.blocks):
            h = F.layer_norm(x, (d,), *block.ln_1[:2], eps=block.ln_1[2])
            if len(block.qkv) == 1:
                q, k, v = block.qkv[0](h).split(d, dim=1)
            else:
                q, k, v = (projection(h) for projection in block.qkv)
            keys, values = self.keys[index], self.values[index]
            keys[:, start:end] = k.view(n, self.heads, self.head_dim).transpose(0, 1)
            values[:, start:end] = v.view(n, self.heads, self.head_dim).transpose(0, 1)
            attended = self._attend(block, q.view(n, self.heads, self.head_dim).transpose(0, 1),
                                    keys, values, start, end)
            x = x + block.out(attended.transpose(0, 1).reshape(n, d))
            h = F.layer_norm(x, (d,), *block.ln_2[:2], eps=block.ln_2[2])
            x = x + block.proj(w.act(block.fc(h)))
        self.length = end
        last = F.layer_norm(x if every else x[-1:], (d,), *w.ln_f[:2], eps=w.ln_f[2])
        logits = w.head(last)
        return logits if every else logits[0]

    def _attend(self, block: _Block, q: Any, keys: Any, values: Any, start: int,
                end: int) -> Any:
        torch = self.torch
        # Keys the earliest query may see: all of them, or the local window's.
        first = 0 if block.window is None else max(0, start - block.window + 1)
        k, v = keys[:, first:end], values[:, first:end]
        dtype = q.dtype
        if block.upcast and dtype != torch.float32:
            q, k, v = q.float(), k.float(), v.float()
        if q.shape[1] == 1:
            # One query sees every cached key: three small ops, where SDPA's CPU path costs
            # ~0.2 ms per layer in checks and dispatch.
            scores = torch.baddbmm(q.new_empty(()), q, k.transpose(1, 2), beta=0,
                                   alpha=block.scale)
            return torch.bmm(torch.softmax(scores, dim=-1), v).to(dtype)
        rows = torch.arange(start, end, device=q.device)[:, None]
        cols = torch.arange(first, end, device=q.device)[None, :]
        mask = cols <= rows  # prefill: causal, and within the window for local layers
        if block.window is not None:
            mask &= cols > rows - block.window
        out = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask,
                                                               scale=block.scale)
        return out.to(dtype)


class LeanModel:
    """GPT-2 or GPT-Neo weights read from the files for the lean decoder, no transformers.

    It offers the little of a transformers model that generation, line scoring and
    ``compare``'s validation loss use: a ``config``, ``training``,
    ``get_input_embeddings().num_embeddings`` and a call on ``input_ids`` whose ``.logits``
    cover every position of every row.
    """

    training = False

    def __init__(self, architecture: str, weights: _Weights, config: dict[str, Any]) -> None:
        self.architecture = architecture  # the transformers class it stands in for
        self.weights = weights
        self.config = SimpleNamespace(**config)

    @property
    def device(self) -> Any:
        return self.weights.wte.device

    def get_input_embeddings(self) -> Any:
        return SimpleNamespace(num_embeddings=int(self.weights.wte.shape[0]),
                               weight=self.weights.wte)

    def __call__(self, input_ids: Any, **_: Any) -> Any:
        """Logits for each row, one row at a time. The attention mask is not needed: smartlap
        pads only after a row's real tokens, and causal attention never looks ahead."""
        import torch

        rows = []
        for ids in input_ids:
            decoder = FastDecoder(self.weights, int(ids.shape[0]), self.device)
            rows.append(decoder._forward(ids, every=True))
        return SimpleNamespace(logits=torch.stack(rows))


def fast_decoder_for(model: Any, max_length: int) -> FastDecoder | None:
    """A decoder for ``model`` holding ``max_length`` positions, or None to use transformers."""
    if isinstance(model, LeanModel):  # it has no other forward
        return FastDecoder(model.weights, max_length, model.device)
    if not enabled() or type(model).__name__ not in _SUPPORTED or model.training:
        return None
    weights = _weights_for(model)
    if weights is None:
        return None
    _save_contiguous(model)
    return FastDecoder(weights, max_length, weights.wte.device)


def _contiguous_state_dict(module: Any, state_dict: dict[str, Any], prefix: str,
                           local_metadata: Any) -> None:
    """Hand out the re-laid-out weights as ordinary contiguous tensors (one copy per shared
    tensor, so a tied embedding and LM head stay one tensor), for save_pretrained and any
    other state_dict() consumer; the decoder keeps its fast layout."""
    import torch

    copies: dict[tuple[int, tuple[int, ...], tuple[int, ...]], Any] = {}
    for key, value in state_dict.items():
        if isinstance(value, torch.Tensor) and not value.is_contiguous():
            ident = (value.data_ptr(), tuple(value.shape), tuple(value.stride()))
            if ident not in copies:
                copies[ident] = value.contiguous()
            state_dict[key] = copies[ident]


def _save_contiguous(model: Any) -> None:
    """Once per model: its state_dict() sees contiguous weights (see _contiguous_state_dict)."""
    if not getattr(model, "_smartlap_contiguous_state_dict", False):
        model.register_state_dict_post_hook(_contiguous_state_dict)
        model._smartlap_contiguous_state_dict = True
