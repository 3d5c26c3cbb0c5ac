"""The seed models smartlap knows how to pull, with what a person needs to choose one.

Pure data, no torch. Memory guides are for fine-tuning on a 12 GB GPU (RTX 3060): full
fine-tuning with mixed-precision AdamW needs about 18 bytes per parameter before
activations; LoRA or embeddings-only training needs far less.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

BYTES_PER_PARAM_FULL_FINETUNE = 18  # fp32 master + grads + Adam moments + bf16 copy


@dataclass(frozen=True)
class CatalogEntry:
    hub_id: str
    name: str  # the registry name it gets when pulled
    architecture: str
    params: int
    download_mb: int
    licence: str
    language: str
    notes: str
    paper: str | None = None  # the publication that describes the model, where there is one

    @property
    def hub_url(self) -> str:
        return f"https://huggingface.co/{self.hub_id}"

    @property
    def full_finetune_gb(self) -> float:
        """Weights, gradients and optimizer state for full fine-tuning (before activations)."""
        return round(self.params * BYTES_PER_PARAM_FULL_FINETUNE / 1e9, 1)

    @property
    def memory_guide(self) -> str:
        need = self.full_finetune_gb
        if need <= 4:
            return (f"full fine-tuning ~{need} GB + activations: fits a 12 GB GPU with "
                    "batch 8 x 512 tokens; CPU training works but is slow")
        return (f"full fine-tuning ~{need} GB + activations: on a 12 GB GPU use gradient "
                "checkpointing and batch 2-4, or LoRA (~2-3 GB)")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["full_finetune_gb"] = self.full_finetune_gb
        data["memory_guide"] = self.memory_guide
        data["hub_url"] = self.hub_url
        return data


RECYCLE_PAPER = ("W. de Vries and M. Nissim (2021), As Good as New. How to Successfully "
                 "Recycle English GPT-2 to Make Models for Other Languages, Findings of "
                 "ACL-IJCNLP 2021, arXiv:2012.05628")

CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry("GroNLP/gpt2-small-dutch", "gpt2-small-dutch", "GPT2LMHeadModel",
                 124_000_000, 500, "unspecified on the hub (research release by GroNLP)",
                 "Dutch", "GPT-2 small retrained for Dutch with its own 40k tokenizer; the "
                 "best starting point for fine-tuning on lyrics.", paper=RECYCLE_PAPER),
    CatalogEntry("GroNLP/gpt2-small-dutch-embeddings", "gpt2-small-dutch-embeddings",
                 "GPT2LMHeadModel", 124_000_000, 500,
                 "unspecified on the hub (research release by GroNLP)", "Dutch",
                 "English GPT-2 small with only the lexical embeddings retrained for Dutch.",
                 paper=RECYCLE_PAPER),
    CatalogEntry("GroNLP/gpt2-medium-dutch-embeddings", "gpt2-medium-dutch-embeddings",
                 "GPT2LMHeadModel", 355_000_000, 1_400,
                 "unspecified on the hub (research release by GroNLP)", "Dutch",
                 "English GPT-2 medium with Dutch embeddings; better text, needs more memory.",
                 paper=RECYCLE_PAPER),
    CatalogEntry("yhavinga/gpt-neo-125M-dutch", "gpt-neo-125M-dutch", "GPTNeoForCausalLM",
                 125_000_000, 500, "Apache-2.0", "Dutch",
                 "GPT-Neo 125M trained from scratch on cleaned Dutch mC4.",
                 paper="architecture: S. Black, L. Gao, P. Wang, C. Leahy and S. Biderman "
                 "(2021), GPT-Neo: Large Scale Autoregressive Language Modeling with "
                 "Mesh-Tensorflow, Zenodo, doi:10.5281/zenodo.5297715"),
    CatalogEntry("openai-community/gpt2", "gpt2", "GPT2LMHeadModel", 124_000_000, 550,
                 "MIT", "English", "The original GPT-2 small (117M/124M); English only, "
                 "a baseline.",
                 paper="A. Radford, J. Wu, R. Child, D. Luan, D. Amodei and I. Sutskever "
                 "(2019), Language Models are Unsupervised Multitask Learners, OpenAI"),
)


def catalog_entry(hub_id: str) -> CatalogEntry | None:
    """The catalog entry for a hub id (case-insensitive), or None for an unknown model."""
    wanted = hub_id.strip().lower()
    for entry in CATALOG:
        if entry.hub_id.lower() == wanted or entry.name.lower() == wanted:
            return entry
    return None
