"""The models registry (no torch), the seed catalog, hub pulls that cannot reach a hub, and
the `smartlap models` / `smartlap generate` commands run as real subprocesses."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from smartlap import events
from smartlap.errors import (
    AlreadyExistsError,
    DiskFullError,
    InputError,
    ModelError,
    NotFoundError,
    UsageError,
)
from smartlap.lm.catalog import CATALOG, catalog_entry
from smartlap.store import models as registry
from smartlap.store.models import (
    DEFAULT_MODEL,
    delete_model,
    get_model,
    list_models,
    read_safetensors_header,
    register_model,
    rename_model,
    update_metadata,
)


@pytest.fixture(autouse=True)
def no_bundled_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Registry tests start from an empty package, whether or not smartlap-mini is built."""
    empty = tmp_path / "no-bundled-models"
    empty.mkdir()
    monkeypatch.setattr(registry, "bundled_models_dir", lambda: empty)
    return empty


def _cli(*args: str, env: dict[str, str] | None = None, stdin: str | None = None,
         timeout: int = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "smartlap", *args], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, input=stdin,
                          timeout=timeout)


# --- registry ----------------------------------------------------------------------------------

def test_register_copy_describes_the_model_without_torch(tiny_gpt2_dir: Path,
                                                         smartlap_home: Path) -> None:
    info = register_model(tiny_gpt2_dir, "mijn-model")
    assert info.path == smartlap_home / "models" / "mijn-model"
    assert (info.path / "model.safetensors").is_file()
    assert info.origin == "local" and not info.linked
    assert info.architecture == "GPT2LMHeadModel" and info.model_type == "gpt2"
    assert info.vocab_size == 300 and info.context_length == 128
    assert info.dtype == "float32" and info.weights == "safetensors"
    header = read_safetensors_header(info.path / "model.safetensors")
    expected = 0
    for key, entry in header.items():
        if key != "__metadata__":
            numel = 1
            for dim in entry["shape"]:
                numel *= dim
            expected += numel
    assert info.params == expected > 30_000
    assert info.size_bytes > (info.path / "model.safetensors").stat().st_size
    assert [m.name for m in list_models()] == ["mijn-model"]
    code = ("import sys; from smartlap.store.models import list_models; list_models();"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=os.environ.copy())
    assert out.stdout.strip() == "False"


def test_register_link_keeps_the_folder_where_it_is(tiny_gptneo_dir: Path,
                                                    smartlap_home: Path) -> None:
    info = register_model(tiny_gptneo_dir, "neo", transfer="link")
    assert info.linked and info.path == tiny_gptneo_dir.resolve()
    entry = smartlap_home / "models" / "neo"
    assert sorted(p.name for p in entry.iterdir()) == ["smartlap.json"]
    assert info.architecture == "GPTNeoForCausalLM"
    delete_model("neo")
    assert not entry.exists()
    assert (tiny_gptneo_dir / "model.safetensors").is_file()  # the person's folder stays


def test_names_are_validated_and_never_overwritten(tiny_gpt2_dir: Path) -> None:
    with pytest.raises(UsageError):
        register_model(tiny_gpt2_dir, "../escape")
    register_model(tiny_gpt2_dir, "a")
    with pytest.raises(AlreadyExistsError):
        register_model(tiny_gpt2_dir, "a")
    register_model(tiny_gpt2_dir, "a", force=True)


def test_not_a_model_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        register_model(tmp_path / "missing", "x")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelError, match=r"config\.json"):
        register_model(empty, "x")


def test_failed_copy_leaves_nothing(tiny_gpt2_dir: Path, smartlap_home: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real_copy = registry._copy_counted

    def flaky_copy(src, dst, *args, **kwargs):
        calls.append(src)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real_copy(src, dst, *args, **kwargs)

    monkeypatch.setattr(registry, "_copy_counted", flaky_copy)
    with pytest.raises(DiskFullError) as error:
        register_model(tiny_gpt2_dir, "half")
    assert "SMARTLAP_HOME" in error.value.hint
    assert list((smartlap_home / "models").iterdir()) == []
    assert list_models() == []


def test_rename_delete_and_metadata(tiny_gpt2_dir: Path) -> None:
    register_model(tiny_gpt2_dir, "oud")
    renamed = rename_model("oud", "nieuw")
    assert renamed.name == "nieuw" and renamed.path.name == "nieuw"
    with pytest.raises(NotFoundError):
        get_model("oud")
    updated = update_metadata("nieuw", training={"best_val_loss": 3.1})
    assert updated.training == {"best_val_loss": 3.1}
    assert get_model("nieuw").training == {"best_val_loss": 3.1}
    delete_model("nieuw")
    with pytest.raises(NotFoundError):
        delete_model("nieuw")
    assert list_models() == []


def test_bundled_default_model(tiny_gpt2_dir: Path, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(NotFoundError) as info:
        get_model()
    assert "--model" in info.value.hint and "smartlap train" in info.value.hint
    bundled = tmp_path / "bundled"
    shutil.copytree(tiny_gpt2_dir, bundled / DEFAULT_MODEL)
    monkeypatch.setattr(registry, "bundled_models_dir", lambda: bundled)
    info = get_model()
    assert info.name == DEFAULT_MODEL and info.origin == "bundled" and info.is_default
    assert list_models()[0].name == DEFAULT_MODEL
    with pytest.raises(UsageError):
        delete_model(DEFAULT_MODEL)
    with pytest.raises(UsageError):
        rename_model(DEFAULT_MODEL, "x")
    with pytest.raises(AlreadyExistsError):
        register_model(tiny_gpt2_dir, DEFAULT_MODEL)


def test_get_model_by_folder_and_by_hub_id(tiny_gpt2_dir: Path) -> None:
    info = get_model(str(tiny_gpt2_dir))
    assert not info.registered and info.path == tiny_gpt2_dir.resolve()
    register_model(tiny_gpt2_dir, "gpt2-small-dutch", origin="pulled", transfer="link",
                   hub_id="GroNLP/gpt2-small-dutch")
    assert get_model("GroNLP/gpt2-small-dutch").name == "gpt2-small-dutch"
    with pytest.raises(NotFoundError) as error:
        get_model("./nowhere/model")
    assert "models add" in error.value.hint


def test_temporary_leftovers_are_not_models(tiny_gpt2_dir: Path, smartlap_home: Path) -> None:
    shutil.copytree(tiny_gpt2_dir, smartlap_home / "models" / ".tmp-save-abc")
    assert list_models() == []


# --- catalog and hub ---------------------------------------------------------------------------

def test_catalog_has_the_seed_models_with_memory_guides() -> None:
    ids = {entry.hub_id for entry in CATALOG}
    assert ids == {"GroNLP/gpt2-small-dutch", "GroNLP/gpt2-small-dutch-embeddings",
                   "GroNLP/gpt2-medium-dutch-embeddings", "yhavinga/gpt-neo-125M-dutch",
                   "openai-community/gpt2"}
    medium = catalog_entry("gronlp/gpt2-medium-dutch-embeddings")
    assert medium.full_finetune_gb == pytest.approx(6.4)
    assert "LoRA" in medium.memory_guide
    assert "fits" in catalog_entry("gpt2").memory_guide
    assert catalog_entry("nobody/nothing") is None


def test_pull_offline_says_so_and_suggests_add() -> None:
    result = _cli("models", "pull", "GroNLP/gpt2-small-dutch", env={"HF_HUB_OFFLINE": "1"})
    assert result.returncode == 1
    assert "offline" in result.stderr and "smartlap models add PATH" in result.stderr
    assert "Traceback" not in result.stderr


class _NotFoundHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"error": "Repository not found"}'
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Error-Code", "RepoNotFound")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, *args) -> None:
        pass


def test_pull_unknown_model_is_not_found() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotFoundHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        result = _cli("models", "pull", "nobody/no-such-model",
                      env={"HF_HUB_OFFLINE": "0", "HF_ENDPOINT": endpoint})
    finally:
        server.shutdown()
    assert result.returncode == 1, result.stderr
    assert "no model 'nobody/no-such-model'" in result.stderr
    assert "smartlap models add PATH" in result.stderr
    assert "Traceback" not in result.stderr


def test_pull_without_network() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = _cli("models", "pull", "GroNLP/gpt2-small-dutch",
                  env={"HF_HUB_OFFLINE": "0", "HF_ENDPOINT": f"http://127.0.0.1:{port}"})
    assert result.returncode == 1
    assert "Cannot reach" in result.stderr and "models add PATH" in result.stderr
    assert "Traceback" not in result.stderr


# --- the CLI -----------------------------------------------------------------------------------

def test_models_cli_add_list_show_rename_delete(tiny_gpt2_dir: Path) -> None:
    added = _cli("models", "add", str(tiny_gpt2_dir), "--name", "tiny", "--link")
    assert added.returncode == 0, added.stderr
    assert "linked" in added.stdout
    listed = [m for m in json.loads(_cli("models", "list", "--json").stdout)
              if m["origin"] != "bundled"]  # the real package may ship smartlap-mini
    assert [(m["name"], m["origin"], m["linked"]) for m in listed] == [("tiny", "local", True)]
    shown = json.loads(_cli("models", "show", "tiny", "--json").stdout)
    for key in ("architecture", "params", "vocab_size", "context_length", "dtype", "origin",
                "size_bytes", "training"):
        assert key in shown
    assert shown["params"] == listed[0]["params"] > 0
    text = _cli("models", "show", "tiny").stdout
    assert "GPT2LMHeadModel" in text and "context length" in text
    assert _cli("models", "rename", "tiny", "klein").returncode == 0
    assert _cli("models", "delete", "klein").returncode == 0
    missing = _cli("models", "show", "klein")
    assert missing.returncode == 1 and "hint:" in missing.stderr


def test_models_pull_list_shows_catalog() -> None:
    result = _cli("models", "pull", "--list", "--json")
    assert result.returncode == 0
    assert len(json.loads(result.stdout)) == len(CATALOG)


def test_generate_without_default_model_gives_hint(no_bundled_models: Path) -> None:
    code = ("import sys; from smartlap.store import models; "
            f"models.bundled_models_dir = lambda: models.Path({str(no_bundled_models)!r}); "
            "from smartlap.cli import main; sys.exit(main(['generate', '--prompt', 'In de']))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=os.environ.copy(), timeout=120)
    assert result.returncode == 1
    assert "smartlap-mini" in result.stderr and "hint:" in result.stderr
    assert "Traceback" not in result.stderr


def test_generate_bad_option_is_usage_error() -> None:
    result = _cli("generate", "--temperature", "-1")
    assert result.returncode == 2 and "temperature" in result.stderr


@pytest.mark.slow
def test_generate_cli_json_and_text(tiny_gpt2_dir: Path) -> None:
    assert _cli("models", "add", str(tiny_gpt2_dir), "--name", "tiny").returncode == 0
    result = _cli("generate", "-m", "tiny", "--prompt", "-", "--seed", "4", "--samples", "2",
                  "--max-new-tokens", "12", "--json", stdin="Mijn hart is gebroken\n")
    assert result.returncode == 0, result.stderr
    parsed = [events.parse_line(line) for line in result.stdout.splitlines()]
    ends = [e for e in parsed if isinstance(e, events.SampleEnd)]
    assert [e.sample for e in ends] == [1, 2]
    for end in ends:
        streamed = "".join(e.text for e in parsed
                           if isinstance(e, events.Token) and e.sample == end.sample)
        assert streamed == end.text
    text = _cli("generate", "-m", "tiny", "--prompt", "Mijn hart", "--seed", "4",
                "--samples", "2", "--max-new-tokens", "12", "--style", "smartlap")
    assert text.returncode == 0, text.stderr
    assert "Model prompt >>> Mijn hart" in text.stdout
    bar = "=" * 40
    assert f"{bar} SAMPLE 1 {bar}" in text.stdout and f"{bar} SAMPLE 2 {bar}" in text.stdout
    assert "tokens/s" in text.stderr
    ranked = _cli("generate", "-m", "tiny", "--prompt", "In de kroeg brandt nog licht",
                  "--rhyme-with", "licht", "--candidates", "3", "--seed", "1", "--json")
    assert ranked.returncode == 0, ranked.stderr
    rows = [json.loads(line) for line in ranked.stdout.splitlines()]
    assert 1 <= len(rows) <= 3
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    assert {"text", "logprob", "rhyme", "syllables", "fit"} <= set(rows[0])
    assert all(r["rhyme"] == 1.0 for r in rows)  # a random model: the steering rhymes them
    lonely = _cli("generate", "-m", "tiny", "--prompt", "ik at een knorpf", "--rhyme-with",
                  "knorpf", "--candidates", "2", "--seed", "1")
    assert lonely.returncode == 0, lonely.stderr
    assert "note:" in lonely.stderr and "'knorpf'" in lonely.stderr
    assert lonely.stdout.startswith(" 1. ")


@pytest.mark.parametrize("json_output", [False, True])
def test_ctrl_c_while_printing_ends_the_stream_before_generate_returns(
        tiny_gpt2_dir: Path, monkeypatch: pytest.MonkeyPatch, json_output: bool) -> None:
    """A Ctrl+C that lands while a token is printed (outside the generator) must close the
    stream, and so join its decode thread, before generate returns its exit code: a thread
    left inside torch at interpreter exit aborts the process (exit -6) instead of the clean
    stop. The deterministic form of the race the real-signal test below hits by chance."""
    from smartlap.cli import generate as generate_cli
    from smartlap.cli import main
    from smartlap.lm.session import GenerationSession

    register_model(tiny_gpt2_dir, "tiny")
    streams: list = []
    real_stream = GenerationSession.stream
    monkeypatch.setattr(GenerationSession, "stream", lambda self, *a, **k: streams.append(
        real_stream(self, *a, **k)) or streams[-1])
    printed = 0

    def interrupting(*_args, **_kwargs) -> None:
        nonlocal printed
        printed += 1
        if printed == 5:
            raise KeyboardInterrupt

    monkeypatch.setattr(generate_cli, "print_json_line", interrupting)
    monkeypatch.setattr(generate_cli.sys.stdout, "write", interrupting)
    at_exit_code: list[tuple[bool, list[str]]] = []
    real_code = generate_cli.interrupt_exit_code

    def exit_code(interrupt: BaseException) -> int:  # what is still running as we stop
        at_exit_code.append((streams[0].gi_frame is None, [
            t.name for t in threading.enumerate() if t.name.startswith("smartlap-generate")]))
        return real_code(interrupt)

    monkeypatch.setattr(generate_cli, "interrupt_exit_code", exit_code)
    argv = ["generate", "-m", "tiny", "--prompt", "Mijn hart", "--samples", "3",
            "--max-new-tokens", "100", "--seed", "1", "--no-originality"]
    assert main([*argv, "--json"] if json_output else argv) == 130
    assert printed >= 5  # the text output then writes its closing newline
    assert at_exit_code == [(True, [])]  # the stream was closed, its thread joined


def test_ctrl_c_stops_generate_cleanly(tiny_gpt2_dir: Path) -> None:
    """A real SIGINT mid-stream: 'stopped.', exit 130, no traceback, the text so far kept."""
    import signal
    import time

    assert _cli("models", "add", str(tiny_gpt2_dir), "--name", "tiny").returncode == 0
    process = subprocess.Popen(
        [sys.executable, "-m", "smartlap", "generate", "-m", "tiny", "--prompt", "Mijn hart",
         "--samples", "100", "--max-new-tokens", "1000", "--seed", "1", "--no-originality"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(3)]  # the first sample has begun
        assert any("SAMPLE 1" in line for line in lines), lines
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    assert "stopped." in err and "Traceback" not in err
    assert out.strip()  # what was streamed before the stop stays on screen


# --- a warm Hugging Face cache, offline ----------------------------------------------------------

def _warm_cache(tiny_dir: Path, hf_home: Path, repo_id: str = "GroNLP/gpt2-small-dutch",
                revision: str = "0123abcd") -> Path:
    """The tiny model laid out as huggingface_hub caches a download (refs/main -> snapshot)."""
    repo = hf_home / "hub" / ("models--" + repo_id.replace("/", "--"))
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(revision)
    snapshot = repo / "snapshots" / revision
    shutil.copytree(tiny_dir, snapshot)
    return snapshot


def test_offline_with_a_warm_cache_pulls_and_generates_from_the_cache(
        tiny_gpt2_dir: Path, tmp_path: Path, capsys) -> None:
    from smartlap.cli import main

    snapshot = _warm_cache(tiny_gpt2_dir, Path(os.environ["HF_HOME"]))
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    # a hub id works before it is registered, exactly as from_pretrained would find it
    info = registry.get_model("GroNLP/gpt2-small-dutch")
    assert info.path == snapshot and info.hub_id == "GroNLP/gpt2-small-dutch"
    assert not info.registered
    assert main(["generate", "--model", "GroNLP/gpt2-small-dutch", "--max-new-tokens", "5",
                 "--seed", "1", "--json", "--no-originality"]) == 0
    assert '"event":"sample_end"' in capsys.readouterr().out
    # and pull registers it from the cache, touching no network
    assert main(["models", "pull", "GroNLP/gpt2-small-dutch", "--json"]) == 0
    pulled = json.loads(capsys.readouterr().out)
    assert pulled["name"] == "gpt2-small-dutch" and pulled["origin"] == "pulled"
    assert pulled["hub_id"] == "GroNLP/gpt2-small-dutch" and pulled["path"] == str(snapshot)


def test_offline_with_a_cold_cache_says_it_is_not_cached(capsys) -> None:
    from smartlap.cli import main

    assert main(["models", "pull", "GroNLP/gpt2-small-dutch"]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "offline mode is on (HF_HUB_OFFLINE=1) and it is not in the Hugging Face cache" in err
    assert "smartlap models add PATH" in err


def test_no_network_but_cached_registers_from_the_cache(tiny_gpt2_dir: Path,
                                                        tmp_path: Path) -> None:
    snapshot = _warm_cache(tiny_gpt2_dir, tmp_path / "hf")
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = _cli("models", "pull", "GroNLP/gpt2-small-dutch", "--json",
                  env={"HF_HUB_OFFLINE": "0", "HF_ENDPOINT": f"http://127.0.0.1:{port}",
                       "HF_HOME": str(tmp_path / "hf")})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["path"] == str(snapshot)


def test_adding_a_cache_snapshot_folder_infers_its_hub_id(tiny_gpt2_dir: Path,
                                                         tmp_path: Path) -> None:
    snapshot = _warm_cache(tiny_gpt2_dir, tmp_path / "elsewhere", "yhavinga/gpt-neo-125M-dutch")
    info = register_model(snapshot, "neo", transfer="link")
    assert info.hub_id == "yhavinga/gpt-neo-125M-dutch"
    assert registry.hub_id_from_cache_path(tiny_gpt2_dir) is None


def test_add_refuses_a_tokenizer_that_does_not_fit_the_vocabulary(tiny_gpt2_dir: Path,
                                                                   tmp_path: Path) -> None:
    from helpers import SAMPLE_LYRICS

    from smartlap.lm.tokenizer import train_bpe_tokenizer

    folder = tmp_path / "mismatch"
    shutil.copytree(tiny_gpt2_dir, folder)
    rows = json.loads((folder / "config.json").read_text())["vocab_size"]
    assert registry.tokenizer_size(folder) == rows  # the tiny model's own tokenizer fits
    other = train_bpe_tokenizer(SAMPLE_LYRICS * 4, vocab_size=rows + 40, min_frequency=1)
    for name in ("tokenizer.json", "vocab.json", "merges.txt"):
        (folder / name).unlink(missing_ok=True)
    other.save_pretrained(folder)
    assert registry.tokenizer_size(folder) == len(other) > rows
    with pytest.raises(ModelError) as caught:
        register_model(folder, "mismatch")
    assert f"has {len(other):,} tokens but the model's vocabulary has {rows:,}" in \
        caught.value.message
    assert not (registry.get_paths().models / "mismatch").exists()
    # an embedding padded a little past the tokenizer (GPT-2's 50257 -> 50304) is fine
    assert not registry.vocab_mismatch(50304, 50257)
    assert registry.vocab_mismatch(50304, 40000) and registry.vocab_mismatch(100, 101)
