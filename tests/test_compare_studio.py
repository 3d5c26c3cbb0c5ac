"""The studio's Compare view: mark models on the Models screen, press c, columns fill live."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pilot_support import views_ready
from textual.widgets import DataTable, Static

from smartlap.lm.compare import Comparison, ModelResult
from smartlap.lm.generation import GenerationSettings
from smartlap.tui.app import make_app
from smartlap.tui.compare import CompareColumn, CompareScreen
from smartlap.tui.dialogs import PromptScreen

SIZE = (100, 30)
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _register(folder: Path, name: str) -> str:
    from smartlap.store.models import register_model

    return register_model(folder, name=name, transfer="link").name


async def _mark(pilot, *names: str) -> None:
    table = pilot.app.query_one("#models-table", DataTable)
    for name in names:
        table.move_cursor(row=table.get_row_index(name))
        await pilot.pause()
        await pilot.press("space")


def _column_text(screen: CompareScreen, column: int) -> tuple[str, str]:
    col = screen.query_one(f"#compare-col-{column}", CompareColumn)
    figures = str(col.query_one(".compare-figures", Static).render())
    text = str(col.query_one(".compare-text", Static).render())
    return figures, text


async def test_compare_needs_two_marked_models(tiny_gpt2_dir: Path) -> None:
    _register(tiny_gpt2_dir, "tiny")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await views_ready(pilot)
        await pilot.press("f3")
        await _mark(pilot, "tiny")
        assert app.query_one("#models-view").marked == ["tiny"]
        await pilot.press("c")
        await pilot.pause()
        assert not isinstance(app.screen, PromptScreen)
        assert any("Mark two or more" in n.message for n in app._notifications)
        await _mark(pilot, "tiny")  # space again unmarks
        assert app.query_one("#models-view").marked == []


@pytest.mark.slow
async def test_marked_models_stream_side_by_side_and_a_broken_one_shows_its_error(
        parrot_dir: Path, tiny_gpt2_dir: Path, tiny_gptneo_dir: Path, tmp_path: Path) -> None:
    from smartlap.tui.controls import GenerationControls, save_controls

    save_controls(GenerationControls(temperature=0.05, max_new_tokens=60))  # F9's knobs apply
    _register(parrot_dir, "tiny")
    _register(tiny_gptneo_dir, "neo")
    broken = tmp_path / "broken"
    shutil.copytree(tiny_gpt2_dir, broken)
    _register(broken, "broken")
    (broken / "model.safetensors").write_bytes(b"not weights at all")
    tokens: list[int] = []

    def hook(message) -> None:
        if type(message).__name__ == "CompareToken":
            tokens.append(message.column)

    app = make_app()
    async with app.run_test(size=(140, 34), message_hook=hook) as pilot:
        await views_ready(pilot)
        await pilot.press("f3")
        await _mark(pilot, "neo", "broken", "tiny")
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        await pilot.press("enter")  # no prompt: the parrot recites from the start
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CompareScreen) and screen.models == ["neo", "broken", "tiny"]
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        assert sorted(screen.results) == [0, 1, 2]
        assert set(tokens) == {0, 2}  # the working models streamed token by token
        for column in (0, 2):
            figures, text = _column_text(screen, column)
            assert "val loss" in figures and "tokens/s" in figures
            assert text.strip()
        assert screen.results[0].samples[0].strip() and screen.results[0].error is None
        figures, text = _column_text(screen, 2)  # the parrot: its final text, readable
        assert "moeder wacht met de deur niet dicht." in text
        assert screen.results[2].samples[0].strip() in text.replace("= ", "")
        figures, text = _column_text(screen, 1)
        assert figures.startswith("failed:") and text == ""
        assert screen.results[0].samples and screen.results[2].samples
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, CompareScreen)


def _fixed_comparison(screen: CompareScreen):
    from types import SimpleNamespace

    infos = [SimpleNamespace(name=name) for name in screen.models]
    settings = GenerationSettings(seed=42, max_new_tokens=40)
    return infos, Comparison(prompt=screen.prompt, settings=settings, dataset="demo")


def _fixed_results(infos, comparison, *, stop=None, on_start=None, on_token=None):
    results = [
        ModelResult(model="smartlap-mini", val_loss=4.358, perplexity=78.1, bits_per_char=2.02,
                    samples=["In de kroeg op de hoek\nbrandt nog licht voor ons\n"],
                    copied_lines=[{"sample": 1, "row": 0, "kind": "copied"}],
                    tokens=30, seconds=0.05, trained_on="demo"),
        ModelResult(model="mini-kroeg", val_loss=3.912, perplexity=50.0, bits_per_char=1.81,
                    samples=["ik mis je nog elke dag\nen drink mijn glas alleen\n"],
                    tokens=30, seconds=0.06, trained_on="demo"),
        ModelResult(model="kapot", error="The weights of kapot are damaged.",
                    hint="Re-download it."),
    ]
    for column, info in enumerate(infos):
        on_start(column, info)
        yield column, results[column]


def test_compare_view_snapshot(snap_compare, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three columns: figures, samples with a copied line marked, and one failed model."""
    import smartlap.lm.compare

    monkeypatch.setattr(CompareScreen, "_comparison", _fixed_comparison)
    monkeypatch.setattr(smartlap.lm.compare, "compare_models", _fixed_results)

    async def before(pilot) -> None:
        await pilot.pause()
        pilot.app.push_screen(CompareScreen(["smartlap-mini", "mini-kroeg", "kapot"],
                                            "In de kroeg"))
        await pilot.pause(0.3)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=before)
