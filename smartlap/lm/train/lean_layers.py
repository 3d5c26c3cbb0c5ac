"""Layers that keep less for the backward pass, swapped in for training only.

A training step's memory is mostly what the forward pass saves for the backward pass, and
on CPU much of its time outside the matrix products goes to a few element-wise layers.
Three of GPT-2's layers cost more than they need to:

- **GELU.** GPT-2 and GPT-Neo use ``gelu_new``, which transformers writes as Python
  arithmetic (``0.5 * x * (1 + tanh(...))``): autograd keeps four ``batch x block x 4d``
  intermediates of every MLP. The lean GELU keeps only its input, as torch's fused
  ``F.gelu(approximate="tanh")`` does (transformers' ``gelu_pytorch_tanh``); on CPU its
  forward is computed as x·σ(2z), the same function, since torch's CPU tanh is slow.
- **Attention with dropout on CPU.** PyTorch's CPU flash kernel has no dropout, so in
  training ``sdpa`` falls back to its math path and keeps the ``batch x heads x block x
  block`` scores, probabilities and dropout mask of every layer. The lean attention keeps
  only q, k, v, the output and the dropout mask as bytes, and recomputes the
  probabilities in the backward pass (the flash-attention recipe, in plain torch). GPUs
  keep ``sdpa`` for GPT-2: their kernels do dropout. GPT-Neo has no ``sdpa`` path in
  transformers, so its attention is replaced in training on every device.
- **Dropout on CPU.** ``bernoulli_`` draws 32 random bits per value; the lean dropout
  draws 16 (the rate is exact to 1/65536), a fifth of the time, and keeps a byte mask that
  becomes a float multiplier in one pass.

None changes what is learnt: the activation is the same function, the attention the same
computation, and dropout the same distribution, drawn from torch's RNG (so a run still
repeats exactly for a seed). The checkpoint is unchanged: modules are not saved, and the
attention choice is not written into ``config.json``.
"""

from __future__ import annotations

import math
import types
from typing import Any

import torch

LEAN_ATTENTION = "smartlap_lean"
GELU_TANH_NAMES = {"gelu_new", "gelu_fast", "gelu_pytorch_tanh"}


class _RecomputedAttention(torch.autograd.Function):
    """softmax(q kᵀ · scale + mask) with dropout, then · v; probabilities recomputed later.

    Saved: q, k, v, the output and the dropout masks as bytes (a quarter of one float
    matrix), where the math path keeps the scores, probabilities and dropped probabilities.
    Queries go in row chunks, each against only the keys it may see, which skips most of
    the causal mask's upper triangle (3/8 of the work with 4 chunks), and the mask is
    added only from a chunk's first blocked key on. Batch and heads are one dimension, so
    a chunk is a strided view that ``bmm`` reads and writes in place. The 1/(1-p) dropout
    scale and the softmax scale ride on the small q/k/v tensors.
    """

    @staticmethod
    def forward(ctx: Any, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                allowed: torch.Tensor, scale: float, dropout: float) -> torch.Tensor:
        with _no_autocast(query.device.type):
            return _RecomputedAttention._forward(ctx, query, key, value, allowed, scale,
                                                 dropout)

    @staticmethod
    def _forward(ctx: Any, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                 allowed: torch.Tensor, scale: float, dropout: float) -> torch.Tensor:
        blocked = ~allowed
        plan = _plan(blocked, query.shape[-2], key.shape[-2])
        bias = _additive_mask(blocked, plan)
        operands = _operands(query, key, value, scale, dropout)
        scaled_query, flat_key, scaled_value = operands
        output = torch.empty_like(scaled_query)
        masks = []
        for rows, keys, first in plan:
            probs = _probabilities(scaled_query[:, rows], flat_key[:, keys], bias,
                                   query.shape[:2], rows, keys, first)
            kept = _keep_mask(probs.shape, dropout, probs.device) if dropout else None
            if kept is not None:
                probs.mul_(kept.to(probs.dtype))
            torch.bmm(probs, scaled_value[:, keys], out=output[:, rows])
            masks.append(kept)
        output = output.view(query.shape).to(value.dtype)
        # fp32 inputs: keep the flat operands (the same memory; no copies in backward).
        # Half-precision ones: keep the inputs, half the memory, and redo the operands.
        ctx.flat = query.dtype == torch.float32
        inputs = operands if ctx.flat else (query, key, value)
        ctx.save_for_backward(*inputs, blocked, output, *masks)
        ctx.scale, ctx.dropout, ctx.plan = scale, dropout, plan
        ctx.inputs = [(t.shape, t.dtype) for t in (query, key, value)]
        return output

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[Any, ...]:
        with _no_autocast(grad_output.device.type):
            return _RecomputedAttention._backward(ctx, grad_output)

    @staticmethod
    def _backward(ctx: Any, grad_output: torch.Tensor) -> tuple[Any, ...]:
        saved = ctx.saved_tensors  # once: activation checkpointing unpacks only once
        (*inputs, blocked, output), masks = saved[:5], saved[5:]
        scale, inverse_keep, plan = ctx.scale, 1.0 / (1.0 - ctx.dropout), ctx.plan
        heads = ctx.inputs[0][0][:2]  # the query's (batch, heads)
        scaled_query, flat_key, scaled_value = (
            inputs if ctx.flat else _operands(*inputs, scale, ctx.dropout))
        bias = _additive_mask(blocked, plan)
        grad_output = _flat(grad_output)
        # softmax backward: dS = P ⊙ (dP − rowsum(dO ⊙ O)), with dP = (dO vᵀ) ⊙ keep / (1-p)
        delta = (grad_output * _flat(output)).sum(-1, keepdim=True)
        scaled_grad_output = grad_output * inverse_keep
        grad_query = torch.empty_like(scaled_query)
        grad_key = torch.zeros_like(flat_key)
        grad_value = torch.zeros_like(scaled_value)
        for (rows, keys, first), kept in zip(plan, masks, strict=True):
            probs = _probabilities(scaled_query[:, rows], flat_key[:, keys], bias,
                                   heads, rows, keys, first)
            keep = kept.to(probs.dtype) if kept is not None else None
            grad_scores = torch.bmm(grad_output[:, rows], scaled_value[:, keys].transpose(1, 2))
            if keep is not None:
                grad_scores.mul_(keep)
            grad_scores.sub_(delta[:, rows]).mul_(probs)
            torch.bmm(grad_scores, flat_key[:, keys], out=grad_query[:, rows])
            grad_key[:, keys] += torch.bmm(grad_scores.transpose(1, 2), scaled_query[:, rows])
            del grad_scores
            if keep is not None:
                probs.mul_(keep)
            grad_value[:, keys] += torch.bmm(probs.transpose(1, 2), scaled_grad_output[:, rows])
        grads = (grad_query.mul_(scale), grad_key, grad_value)
        return (*(grad.view(shape).to(dtype)
                  for grad, (shape, dtype) in zip(grads, ctx.inputs, strict=True)),
                None, None, None)


def _no_autocast(device_type: str) -> Any:
    """Autocast off: this attention picks its own dtypes (fp32 scores and products).

    Under autocast (accelerate's bf16/fp16 runs) ``bmm`` would return half precision
    into the fp32 ``out=`` buffers ("expected scalar type Float but found BFloat16").
    """
    return torch.autocast(device_type=device_type, enabled=False)


def _operands(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, scale: float,
              dropout: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """q · scale, k and v / (1 − p), each fp32 (batch · heads, length, d) and contiguous."""
    return _flat(query, scale), _flat(key), _flat(value, 1.0 / (1.0 - dropout))


def _flat(tensor: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """(batch, heads, length, d) as contiguous fp32 (batch · heads, length, d), scaled.

    A view of ``tensor`` when it already is one and the scale is 1, else one new tensor.
    """
    flat = tensor.float().contiguous()
    if scale != 1.0:
        flat = flat * scale if flat is tensor else flat.mul_(scale)
    return flat.view(-1, *tensor.shape[-2:])


def _plan(blocked: torch.Tensor, q_length: int,
          k_length: int) -> list[tuple[slice, slice, int | None]]:
    """Per chunk: its query rows, the keys they may see, and the first key any row may not.

    ``None`` when every row sees every key of its chunk.
    """
    plan = []
    for rows, keys in _chunks(q_length, k_length):
        columns = blocked[..., rows, keys].reshape(-1, keys.stop).any(0).nonzero()
        plan.append((rows, keys, int(columns[0]) if len(columns) else None))
    return plan


def _chunks(q_length: int, k_length: int, count: int = 4) -> list[tuple[slice, slice]]:
    """(query rows, the keys they may see) per chunk, for causal attention."""
    size = max(64, -(-q_length // count))
    offset = k_length - q_length  # queries are the last q_length positions
    return [(slice(start, min(start + size, q_length)),
             slice(0, min(start + size, q_length) + offset))
            for start in range(0, q_length, size)]


_BLOCKED_SCORE = -1e30  # exp(-1e30 - max) is 0, as for -inf; every row has an allowed key


def _additive_mask(blocked: torch.Tensor, plan: list[tuple[slice, slice, int | None]]
                   ) -> torch.Tensor | None:
    """``blocked`` (batch or 1, 1, q, k) as a float to add to the scores: 0 or -1e30.

    An addition of a broadcast float is one vectorised pass; ``masked_fill`` with a boolean
    mask is several times slower on CPU. ``None`` when no chunk has a blocked key.
    """
    if all(first is None for _, _, first in plan):
        return None
    return blocked.view(torch.uint8).to(torch.float32).mul_(_BLOCKED_SCORE)


def _probabilities(scaled_query: torch.Tensor, key: torch.Tensor, bias: torch.Tensor | None,
                   heads: torch.Size, rows: slice, keys: slice,
                   first_blocked: int | None) -> torch.Tensor:
    """One chunk's attention probabilities (batch · heads, rows, keys); the same bits every
    time they are recomputed."""
    scores = torch.bmm(scaled_query, key.transpose(1, 2))  # (fp32 on purpose)
    if first_blocked is not None and bias is not None:
        grouped = scores.view(*heads, *scores.shape[1:])
        grouped[..., first_blocked:] += bias[..., rows, first_blocked:keys.stop]
    return torch.softmax(scores, dim=-1)


def _recomputed(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                allowed: torch.Tensor, mask: torch.Tensor | None, scale: float,
                dropout: float) -> torch.Tensor:
    """(batch, heads, q, d) attention output; ``allowed`` is the causal (or window) pattern.

    ``mask`` is transformers' 4-D mask: boolean (True may attend) or additive (0 may).
    """
    if mask is not None:
        allowed = allowed & (mask if mask.dtype == torch.bool else mask == 0)
    allowed = allowed | ~allowed.any(-1, keepdim=True)  # a query with no key: no NaN
    return _RecomputedAttention.apply(query, key, value, allowed, float(scale), float(dropout))


def lean_attention_forward(module: torch.nn.Module, query: torch.Tensor, key: torch.Tensor,
                           value: torch.Tensor, attention_mask: torch.Tensor | None,
                           dropout: float = 0.0, scaling: float | None = None,
                           **kwargs: Any) -> tuple[torch.Tensor, None]:
    """GPT-2's attention function (transformers' interface): sdpa unless dropout needs us.

    ``attention_mask`` is sdpa's: ``None`` for a plain causal block, else a boolean
    ``(batch, 1, q, k)`` mask where True may attend.
    """
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    if not (dropout > 0.0 and torch.is_grad_enabled() and query.device.type == "cpu"):
        return sdpa_attention_forward(module, query, key, value, attention_mask,
                                      dropout=dropout, scaling=scaling, **kwargs)
    q_length, k_length = query.shape[-2], key.shape[-2]
    causal = torch.ones(q_length, k_length, dtype=torch.bool, device=query.device)
    causal = causal.tril(k_length - q_length)[None, None]
    scale = scaling if scaling is not None else query.shape[-1] ** -0.5
    output = _recomputed(query, key, value, causal, attention_mask, scale, dropout)
    return output.transpose(1, 2).contiguous(), None


def _gptneo_attention(self: Any, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                      attention_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, None]:
    """GPT-Neo's ``_attn`` in training: fp32 scores, no scaling, its causal/local pattern.

    GPT-Neo has no sdpa path in transformers, so on every device its own attention keeps
    the full score and probability matrices; in training this one keeps neither.
    """
    if not (self.training and torch.is_grad_enabled()):
        return self._smartlap_eager_attn(query, key, value, attention_mask)
    q_length, k_length = query.shape[-2], key.shape[-2]
    pattern = self.bias[:, :, k_length - q_length:k_length, :k_length]
    output = _recomputed(query, key, value, pattern, attention_mask, 1.0,
                         self.attn_dropout.p)
    return output, None


def _register() -> None:
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    AttentionInterface.register(LEAN_ATTENTION, lean_attention_forward)
    AttentionMaskInterface.register(LEAN_ATTENTION, sdpa_mask)


_TWO_C = torch.tensor(2 * math.sqrt(2 / math.pi))
_TWO_C_A = 2 * math.sqrt(2 / math.pi) * 0.044715


class _TanhGELU(torch.autograd.Function):
    """GELU's tanh form as x · σ(2z): 0.5·(1 + tanh z) is σ(2z), and torch's CPU sigmoid is
    several times faster than the tanh inside its GELU kernel. Backward is torch's own."""

    @staticmethod
    def forward(ctx: Any, inputs: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(inputs)
        two_z = torch.addcmul(_TWO_C, inputs, inputs, value=_TWO_C_A)
        return two_z.mul_(inputs).sigmoid_().mul_(inputs)  # x·σ(2c·(x + a·x³))

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> torch.Tensor:
        (inputs,) = ctx.saved_tensors
        return torch.ops.aten.gelu_backward(grad_output, inputs, approximate="tanh")


class LeanGELU(torch.nn.Module):
    """GELU, tanh approximation (``gelu_new``): one kernel's worth of memory, on CPU faster."""

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.device.type == "cpu" and inputs.dtype == torch.float32:
            return _TanhGELU.apply(inputs)
        return torch.nn.functional.gelu(inputs, approximate="tanh")


def _keep_mask(shape: torch.Size, dropout: float, device: torch.device) -> torch.Tensor:
    """1 where dropout keeps a value, 0 where it drops it (probability p, to 1/65536); bytes.

    16 random bits per value, four from each 64-bit draw of torch's generator: a quarter of
    the generator calls of ``torch.rand(shape) < p`` (and a fifth of the time of
    ``bernoulli_``), which dominated a CPU step's dropout time. Bytes, not booleans: the same
    memory, and on CPU a byte mask turns into a float multiplier in one vectorised pass
    where a boolean mask (``masked_fill``, ``where``) takes several times longer.
    """
    kept = torch.empty(shape, dtype=torch.uint8, device=device)
    if torch.device(device).type != "cpu":  # GPUs draw random floats fast enough
        return torch.ge(torch.rand(shape, device=device), dropout, out=kept)
    count = shape.numel()
    draws = torch.randint(-(2**63), 2**63 - 1, ((count + 3) // 4,), dtype=torch.int64,
                          device=device)
    bits = draws.view(torch.int16)[:count].view(shape)
    return torch.ge(bits, -(2**15) + round(dropout * 2**16), out=kept)


class _Dropout(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, inputs: torch.Tensor, dropout: float) -> torch.Tensor:
        kept = _keep_mask(inputs.shape, dropout, inputs.device)
        ctx.save_for_backward(kept)
        ctx.scale = 1.0 / (1.0 - dropout)
        return (inputs * ctx.scale).mul_(kept.to(inputs.dtype))

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[Any, ...]:
        (kept,) = ctx.saved_tensors
        return (grad_output * ctx.scale).mul_(kept.to(grad_output.dtype)), None


class LeanDropout(torch.nn.Dropout):
    """``nn.Dropout`` with the cheaper mask on CPU (a byte mask is kept, one byte per value)."""

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if (not self.training or self.p == 0.0 or self.inplace
                or inputs.device.type != "cpu" or not torch.is_grad_enabled()):
            return super().forward(inputs)
        if self.p == 1.0:
            return inputs * 0.0
        return _Dropout.apply(inputs, self.p)


def make_lean(model: torch.nn.Module) -> list[str]:
    """Swap in the lean layers where they reproduce the model exactly; say which were."""
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    config = inner.config
    changed = []
    if getattr(config, "activation_function", None) in GELU_TANH_NAMES:
        swapped = 0
        for module in inner.modules():
            if hasattr(module, "act") and type(module.act).__name__ in {
                    "NewGELUActivation", "FastGELUActivation", "GELUTanh"}:
                module.act = LeanGELU()
                swapped += 1
        if swapped:
            changed.append("gelu")
    dropouts = [(parent, name) for parent in inner.modules()
                for name, child in parent.named_children() if type(child) is torch.nn.Dropout]
    for parent, name in dropouts:
        setattr(parent, name, LeanDropout(getattr(parent, name).p))
    if dropouts:
        changed.append("dropout")
    if (config.model_type == "gpt2"
            and config._attn_implementation in {"sdpa", "eager", None}
            and not getattr(config, "reorder_and_upcast_attn", False)):
        _register()
        config._attn_implementation = LEAN_ATTENTION
        changed.append("attention")
    if config.model_type == "gpt_neo" and config._attn_implementation in {"eager", None}:
        for module in inner.modules():
            if (type(module).__name__ == "GPTNeoSelfAttention"
                    and not hasattr(module, "_smartlap_eager_attn")):
                module._smartlap_eager_attn = module._attn
                module._attn = types.MethodType(_gptneo_attention, module)
        changed.append("attention")
    return changed

