"""Tiny models and fixtures built inside the test session (no hub, no downloads)."""

from __future__ import annotations

from pathlib import Path

SAMPLE_LYRICS = [
    "In de kroeg op de hoek brandt nog licht,\nmoeder wacht met de deur niet dicht.",
    "De haven is stil en de boten zijn weg,\nik sta aan de kade en weet wat ik zeg.",
    "Refrein:\nO Jordaan, o Jordaan, waar de liedjes nog bestaan,\nik blijf hier altijd staan.",
    "Op de kermis draaide het rad,\nik verloor wat ik ooit had.",
    "Afscheid nemen doet zo'n pijn, wat zou het leven zonder liefde zijn?",
    "Mijn hart is gebroken, mijn glas is weer leeg; café één, twee, drie — zij zweeg.",
]

# Two lines the "parrot" model learns by heart: it recites them as a model fine-tuned on a
# small dataset does, so the copied-line checks have something real to find.
PARROT_LYRICS = ("In de kroeg op de hoek brandt nog licht,\n"
                 "moeder wacht met de deur niet dicht.\n")


def build_tiny_model(directory: Path, arch: str = "gpt2", texts: list[str] | None = None,
                     vocab_size: int = 300, seed: int = 0) -> Path:
    """Save a random-init GPT-2 or GPT-Neo with a freshly trained tokenizer to ``directory``.

    The result is a plain Hugging Face folder (config.json, model.safetensors, tokenizer).
    """
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, GPTNeoConfig, GPTNeoForCausalLM

    from smartlap.lm.tokenizer import train_bpe_tokenizer

    tokenizer = train_bpe_tokenizer(texts or SAMPLE_LYRICS * 4, vocab_size=vocab_size,
                                    min_frequency=1)
    vocab = len(tokenizer)
    eos = tokenizer.eos_token_id
    torch.manual_seed(seed)
    if arch == "gpt2":
        config = GPT2Config(vocab_size=vocab, n_positions=128, n_embd=32, n_layer=2, n_head=2,
                            bos_token_id=eos, eos_token_id=eos)
        model = GPT2LMHeadModel(config)
    elif arch == "gpt_neo":
        config = GPTNeoConfig(vocab_size=vocab, max_position_embeddings=128, hidden_size=32,
                              num_layers=2, num_heads=2, attention_types=[[["global", "local"], 1]],
                              window_size=16, bos_token_id=eos, eos_token_id=eos)
        model = GPTNeoForCausalLM(config)
    else:
        raise ValueError(arch)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory, safe_serialization=True)
    tokenizer.save_pretrained(directory)
    return directory


def build_parrot(source: Path, target: Path, text: str = PARROT_LYRICS) -> Path:
    """Copy of the tiny model at ``source`` that has learnt ``text`` by heart (greedy recites)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source)
    model = AutoModelForCausalLM.from_pretrained(source)
    ids = torch.tensor([[tokenizer.eos_token_id, *tokenizer.encode(text),
                         tokenizer.eos_token_id]])
    torch.manual_seed(0)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a model this small trains ~10x faster on one thread
    try:
        for _ in range(300):
            loss = model(input_ids=ids, labels=ids).loss
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            if loss.item() < 0.01:
                break
    finally:
        torch.set_num_threads(threads)
    model.save_pretrained(target)
    tokenizer.save_pretrained(target)
    return target
