"""The LM head and the cross-entropy in one pass over row chunks, never holding all logits.

A causal LM's loss normally materialises ``batch x block x vocab`` logits, their
log-softmax for the backward pass, and in the backward pass their gradient: for GPT-2
(50,257 tokens) at 8 x 512 that is ~820 MB per copy in fp32, the largest tensors of a
training step. Here the loss is computed chunk by chunk of rows, and since the gradient of
cross-entropy with respect to the logits is known in closed form (softmax minus the one-hot
target), each chunk's gradients with respect to the hidden states and the head's weight are
computed right away, from the same logits, and kept instead: the same three matrix products
as the usual forward and backward, with one chunk of logits (and, briefly, its softmax)
alive at a time (the approach of Liger-Kernel's fused linear cross-entropy and Apple's Cut
Cross-Entropy, in plain torch).

The result equals ``model(**batch).loss`` (shifted labels, ``-100`` ignored, mean over the
counted tokens) and its gradients; ``tests/test_train_loss.py`` checks both.
"""

from __future__ import annotations

from typing import Any

import torch

IGNORE_INDEX = -100
CHUNK_BYTES = 128 * 2**20  # fp32 logits alive at a time, and as much for their softmax
MIN_CHUNK_ROWS = 256  # fewer rows and the matrix products slow down
ALIGN_ROWS = 64  # the head is padded to a multiple of this many vocabulary rows


class _LinearCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, hidden: torch.Tensor, weight: torch.Tensor, labels: torch.Tensor,
                chunk_rows: int) -> torch.Tensor:
        counted = labels != IGNORE_INDEX
        count = int(counted.sum())
        need_hidden, need_weight = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        vocab = weight.shape[0]
        head = _aligned(weight)
        grad_hidden = torch.zeros_like(hidden) if need_hidden else None
        grad_head = torch.zeros_like(head, dtype=torch.float32) if need_weight else None
        loss_sum = torch.zeros((), dtype=torch.float32, device=hidden.device)
        for start in range(0, hidden.shape[0], chunk_rows):
            rows = slice(start, start + chunk_rows)
            keep = counted[rows]
            if not bool(keep.any()):
                continue
            h, targets = hidden[rows][keep], labels[rows][keep]
            logits = (h @ head.t()).float()
            logits[:, vocab:] = float("-inf")  # the padding rows are no tokens
            # loss = logsumexp − picked = (max − picked) − log(softmax at the max): one
            # softmax pass gives both the loss and the gradient, and nothing underflows.
            top, top_index = logits.max(dim=-1)
            picked = logits.gather(1, targets[:, None])[:, 0]
            probs = torch.softmax(logits, dim=-1)
            del logits
            loss_sum += (top - picked - probs.gather(1, top_index[:, None])[:, 0].log()).sum()
            if grad_hidden is None and grad_head is None:
                continue
            # d(loss sum)/d(logits) = softmax - one_hot
            probs[torch.arange(len(targets), device=probs.device), targets] -= 1.0
            grad = probs.to(h.dtype)
            if grad_hidden is not None:
                grad_hidden[start:start + chunk_rows][keep] = (grad @ head).to(hidden.dtype)
            if grad_head is not None:
                grad_head.addmm_(grad.t().float(), h.float())
        scale = 1.0 / max(count, 1)
        ctx.save_for_backward(
            grad_hidden.mul_(scale) if grad_hidden is not None else None,
            grad_head[:vocab].mul_(scale).to(weight.dtype) if grad_head is not None else None)
        return loss_sum * scale

    @staticmethod
    def backward(ctx: Any, grad_loss: torch.Tensor) -> tuple[Any, ...]:
        grad_hidden, grad_weight = ctx.saved_tensors
        scale = grad_loss.to(torch.float32)
        return (grad_hidden * scale.to(grad_hidden.dtype) if grad_hidden is not None else None,
                grad_weight * scale.to(grad_weight.dtype) if grad_weight is not None else None,
                None, None)


def _aligned(weight: torch.Tensor) -> torch.Tensor:
    """The head with zero rows up to a multiple of ALIGN_ROWS vocabulary rows.

    BLAS kernels run far below peak when a matrix's leading dimension is odd, as GPT-2's
    50,257 tokens are: the logits' product ran 1.2-1.7x faster padded (measured with MKL
    on CPU, docs/benchmarks.md). The padded logits are set to -inf, so they get no
    probability and no gradient.
    """
    padding = -weight.shape[0] % ALIGN_ROWS
    if not padding:
        return weight
    return torch.cat([weight.detach(), weight.new_zeros(padding, weight.shape[1])])


def linear_cross_entropy(hidden: torch.Tensor, weight: torch.Tensor, labels: torch.Tensor,
                         chunk_rows: int | None = None) -> torch.Tensor:
    """Next-token loss of ``hidden`` (batch, block, d) under the head ``weight`` (vocab, d).

    ``labels`` are the block's labels as transformers takes them (not shifted; ``-100``
    where a position does not count).
    """
    d = hidden.shape[-1]
    shifted_hidden = hidden[:, :-1].reshape(-1, d)
    shifted_labels = labels[:, 1:].reshape(-1)
    if chunk_rows is None:  # ≤ 667 rows with GPT-2's vocabulary; small ones in one chunk
        chunk_rows = max(MIN_CHUNK_ROWS, CHUNK_BYTES // (4 * weight.shape[0]))
    rows = max(len(shifted_labels), 1)
    even_rows = -(-rows // -(-rows // chunk_rows))  # the same count, no small last chunk
    return _LinearCrossEntropy.apply(shifted_hidden, weight, shifted_labels, even_rows)


HEAD_LOSS_MODEL_TYPES = {"gpt2", "gpt_neo"}


def supports_head_loss(model: Any) -> bool:
    """True for the architectures whose loss is exactly the head + cross-entropy done here.

    (Others may add a bias, logit scaling or soft-capping to their head; they keep their own
    loss.)
    """
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    head = inner.get_output_embeddings()
    return (getattr(inner.config, "model_type", None) in HEAD_LOSS_MODEL_TYPES
            and head is not None and getattr(head, "bias", None) is None)


class HiddenStates:
    """Catch the trunk's last hidden state during a forward of the (possibly wrapped) model.

    The forward still goes through whatever wraps the model (accelerate, DDP, peft), so
    gradient synchronisation and adapters work as usual; ``logits_to_keep`` set to no
    position makes the LM head project nothing.
    """

    def __init__(self, model: Any) -> None:
        inner = model.get_base_model() if hasattr(model, "get_base_model") else model
        self.trunk = inner.base_model
        self.head = inner.get_output_embeddings()
        self.value: torch.Tensor | None = None
        self._handle = self.trunk.register_forward_hook(self._catch)

    def _catch(self, module: Any, args: Any, output: Any) -> None:
        self.value = output.last_hidden_state if hasattr(output, "last_hidden_state") \
            else output[0]

    def loss(self, model: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        no_position = torch.empty(0, dtype=torch.long, device=batch["input_ids"].device)
        model(input_ids=batch["input_ids"], attention_mask=batch.get("attention_mask"),
              use_cache=False, logits_to_keep=no_position)
        hidden, self.value = self.value, None
        assert hidden is not None, "the trunk's forward hook did not run"
        return linear_cross_entropy(hidden, self.head.weight, batch["labels"])

    def close(self) -> None:
        self._handle.remove()
