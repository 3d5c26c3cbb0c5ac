"""Copied lines are flagged wherever generation happens: `smartlap generate` and the studio.

The end-to-end CLI cases use a tiny GPT-2 that has memorised two lines (a few dozen steps of
training on them): it recites them the way a model fine-tuned on a small dataset does.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from helpers import PARROT_LYRICS as LEARNT
from lyrics_fixtures import csv_text

from smartlap.cli import main
from smartlap.cli.generate import copies_block
from smartlap.craft.originality import OriginalityIndex
from smartlap.events import SampleEnd, Token, from_dict

TITLE = "Licht op de hoek"
OTHER = "De schepen varen uit naar zee\nde meeuwen vliegen met ze mee\n"


def _import(folder: Path, name: str = "kroeg") -> None:
    """Store dataset ``name``: the song the model learnt (with its title) and another."""
    from smartlap.store.datasets import import_dataset

    rows = [{"title": TITLE, "artist": "Zanger", "lyrics": LEARNT},
            {"title": "Haven", "artist": "Zanger", "lyrics": OTHER}]
    source = folder / f"{name}.csv"
    source.write_text(csv_text(rows), encoding="utf-8")
    import_dataset(source, name=name, val_fraction=0.0)


# -- the pieces -------------------------------------------------------------------------------

def test_check_sample_keeps_titles_and_finishes_the_prompts_line() -> None:
    songs = [SimpleNamespace(title=TITLE, lyrics=LEARNT), SimpleNamespace(title="", lyrics=OTHER)]
    index = OriginalityIndex.from_songs(songs)
    rows = index.check_sample(" brandt nog licht,\nnieuw is deze regel over de maan\n"
                              "de meeuwen vliegen met ze mee", prompt="In de kroeg op de hoek")
    assert [(row, m.kind, m.title) for row, m in rows] == [(0, "copied", TITLE),
                                                          (2, "copied", None)]
    assert rows[0][1].line == "In de kroeg op de hoek brandt nog licht,"
    # a prompt that ends its line is the person's own: only generated lines are checked
    assert index.check_sample("nieuw is deze regel over de maan\n",
                              prompt="In de kroeg op de hoek brandt nog licht,\n") == []


def test_copies_block_flags_copied_and_near_lines_and_says_nothing_otherwise() -> None:
    index = OriginalityIndex.from_songs([SimpleNamespace(title=TITLE, lyrics=LEARNT)])
    exact = index.check("in de kroeg op de hoek brandt nog licht")
    near = index.check("moeder wacht met de deur niet meer dicht")
    assert exact is not None and near is not None and near.kind == "near"
    block = copies_block([exact, near], "kroeg")
    assert block[0].startswith("[bold yellow]copied from training data[/]")
    assert "(kroeg): 2 lines" in block[0]
    assert block[1].startswith("[yellow]  = in de kroeg") and f"“{TITLE}”" in block[1]
    assert block[2].startswith("[yellow]  ≈ moeder wacht") and "like “moeder wacht met de " \
        "deur niet dicht.”" in block[2]
    assert copies_block([], "kroeg") == []
    assert near.describe("kroeg").startswith(f"near copy of training data (kroeg, “{TITLE}”), ")
    assert exact.describe(None) == f"copied from training data (“{TITLE}”): {exact.line}"


# -- smartlap generate, end to end --------------------------------------------------------------

def _register(parrot_dir: Path, name: str = "parrot", dataset: str | None = "kroeg") -> str:
    from smartlap.store.models import register_model

    extra = {"dataset": dataset} if dataset else {}
    return register_model(parrot_dir, name=name, transfer="link", **extra).name


GREEDY = ["--temperature", "0", "--max-new-tokens", "60"]


@pytest.mark.slow
def test_generate_flags_recited_lines_in_a_yellow_block(
        parrot_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _import(tmp_path)
    model = _register(parrot_dir)
    assert main(["generate", "-m", model, *GREEDY]) == 0
    captured = capsys.readouterr()
    assert "In de kroeg op de hoek brandt nog licht," in captured.out  # it does recite
    assert "copied from training data" not in captured.out  # the lyrics stay clean on stdout
    block = captured.err[captured.err.index("copied from training data"):]
    assert block.startswith("copied from training data (kroeg): 2 lines")
    assert f"= In de kroeg op de hoek brandt nog licht,  “{TITLE}”" in block
    assert f"= moeder wacht met de deur niet dicht.  “{TITLE}”" in block

    assert main(["generate", "-m", model, *GREEDY, "--no-originality"]) == 0
    assert "copied" not in capsys.readouterr().err


@pytest.mark.slow
def test_generate_json_puts_the_flags_in_sample_end_notes(
        parrot_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _import(tmp_path)
    model = _register(parrot_dir)
    # the prompt ends mid-line: the model's completion of a training line is a copy too
    assert main(["generate", "-m", model, *GREEDY, "--json", "--samples", "2",
                 "--prompt", "In de kroeg op de hoek"]) == 0
    parsed = [from_dict(json.loads(line)) for line in capsys.readouterr().out.splitlines()]
    ends = [e for e in parsed if isinstance(e, SampleEnd)]
    assert [e.sample for e in ends] == [1, 2]
    source = "training data (kroeg, “Licht op de hoek”)"
    for end in ends:
        flagged = [note for note in end.notes if source in note]
        assert len(flagged) == 2
        # the first line is the prompt's line finished by the model (exact or near copy)
        assert flagged[0].startswith(("copied from", "near copy of"))
        assert ": In de kroeg op de hoek " in flagged[0] and flagged[0].endswith("nog licht,")
        assert flagged[1] == f"copied from {source}: moeder wacht met de deur niet dicht."


@pytest.mark.slow
@pytest.mark.parametrize("dataset", [None, "weg"])
def test_no_recorded_or_no_stored_dataset_means_no_check_and_no_error(
        dataset: str | None, parrot_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = _register(parrot_dir, name="stil", dataset=dataset)
    assert main(["generate", "-m", model, *GREEDY]) == 0
    captured = capsys.readouterr()
    assert "In de kroeg op de hoek" in captured.out
    assert "copied" not in captured.err and "originality" not in captured.err
    assert main(["generate", "-m", model, *GREEDY, "--json"]) == 0
    ends = [json.loads(line) for line in capsys.readouterr().out.splitlines()
            if '"sample_end"' in line]
    assert ends and not any("copied" in note for note in ends[0]["notes"])


@pytest.mark.slow
def test_a_damaged_dataset_skips_the_check_with_a_note_and_generation_goes_on(
        parrot_dir: Path, smartlap_home: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    _import(tmp_path, "kapot")
    with (smartlap_home / "datasets" / "kapot" / "songs.jsonl").open("ab") as songs:
        songs.write(b"\xff\xfe not a song\n")
    model = _register(parrot_dir, name="kapot-model", dataset="kapot")
    assert main(["generate", "-m", model, *GREEDY]) == 0
    captured = capsys.readouterr()
    assert "In de kroeg op de hoek" in captured.out
    assert "originality check skipped: dataset kapot:" in captured.err
    assert "Traceback" not in captured.err


# -- the Write screen ---------------------------------------------------------------------------

def test_mark_copies_prefixes_exactly_the_flagged_lines() -> None:
    from smartlap.tui.suggestions import COPIED_MARK, NEAR_MARK, copies_notice, mark_copies

    copied, near = SimpleNamespace(kind="copied"), SimpleNamespace(kind="near")
    text = "een\ntwee\ndrie\n"
    assert mark_copies(text, []) == text
    assert mark_copies(text, [(0, copied), (2, near)]) == \
        f"{COPIED_MARK}een\ntwee\n{NEAR_MARK}drie\n"
    assert copies_notice(0, "demo") == ""
    assert "2 lines copied from demo" in copies_notice(2, "demo")



def _scripted_backend(samples: list[str]):
    from smartlap.lm.constrained import Candidate
    from smartlap.tui.write import GenerationBackend

    class Scripted(GenerationBackend):
        """Scripted text from a 'model' trained on kroeg; the originality check is real."""

        def load(self, name: str):
            from smartlap.lm.session import GenerationSession

            return GenerationSession(SimpleNamespace(
                info=SimpleNamespace(name=name, dataset="kroeg"), device="cpu"))

        def stream(self, loaded, prompt, controls, stop, style):
            for number, text in enumerate(samples, start=1):
                for piece in text.split(" "):
                    yield Token(text=piece + " " if piece != text.split(" ")[-1] else piece,
                                sample=number)
                yield SampleEnd(reason="eos", tokens=5, seconds=0.1, time_to_first_token=0.01,
                                sample=number, text=text)

        def next_lines(self, loaded, context, style):
            return [Candidate("een nieuwe regel over de maan en mij", 1.0, -1.0, 0, 8, 0),
                    Candidate("moeder wacht met de deur niet dicht.", 0.5, -0.5, 0, 9, 0,
                              True, "moeder wacht met de deur niet dicht.")]

    return Scripted()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_write_marks_copied_lines_of_a_finished_suggestion(tmp_path: Path) -> None:
    from textual.widgets import Static, TextArea

    from smartlap.tui.app import make_app
    from smartlap.tui.suggestions import COPIED_MARK
    from smartlap.tui.write import WriteView

    _import(tmp_path)
    copied = "Zo gaat het\nmoeder wacht met de deur niet dicht.\nen verder niets\n"
    novel = "Zo gaat het\neen heel nieuwe regel over de maan\n"
    app = make_app(backend=_scripted_backend([copied, novel]))
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(WriteView)
        view.controls = view.controls.__class__(samples=2)
        await pilot.press("ctrl+g")
        notice = app.query_one("#suggestion-notice", Static)
        for _ in range(100):
            await pilot.pause(0.05)
            if not view.generating and notice.display:
                break
        await app.workers.wait_for_complete()
        await pilot.pause()
        area = app.query_one("#suggestion", TextArea)
        assert area.text.split("\n") == ["Zo gaat het",
                                         COPIED_MARK + "moeder wacht met de deur niet dicht.",
                                         "en verder niets", ""]
        assert notice.display and "1 line copied from kroeg" in str(notice.render())
        assert view.alternatives[0] == copied  # the mark is not part of the suggestion

        await pilot.press("ctrl+t")  # the novel alternative: no mark, no notice
        assert area.text == novel and not notice.display
        await pilot.press("ctrl+t")
        assert COPIED_MARK in area.text and notice.display

        await pilot.press("ctrl+o")
        assert app.query_one("#editor", TextArea).text == copied  # inserted without marks

        await pilot.press("ctrl+l")  # next-line candidates: the copied one marked the same way
        for _ in range(100):
            await pilot.pause(0.05)
            if not view.generating:
                break
        listing = area.text.split("\n")
        assert listing[0].startswith("1. een nieuwe regel")
        assert listing[1].startswith(COPIED_MARK + "2. moeder wacht") and "copied" in listing[1]
        assert "1 candidate copied from kroeg" in str(notice.render())
