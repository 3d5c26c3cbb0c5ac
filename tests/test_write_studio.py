"""The Write screen's promises: stopped streams offer only real alternatives, settings are
kept across restarts, long lines wrap with the gutter beside the right rows, and Ctrl+L's
next lines rhyme with their partner and fit its syllables."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_tui import SIZE, SlowBackend
from textual.widgets import Input, TextArea

from smartlap.config import tomllib
from smartlap.store import songbook
from smartlap.tui.app import make_app
from smartlap.tui.controls import GenerationControls
from smartlap.tui.widgets.gutter import Gutter
from smartlap.tui.write import GenerationBackend, WriteView

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def tiny_model(tiny_gpt2_dir: Path) -> str:
    from smartlap.store.models import register_model

    return register_model(tiny_gpt2_dir, name="tiny").name


@pytest.mark.slow
async def test_escape_before_later_alternatives_offers_only_those_with_words(
        tiny_model: str) -> None:
    app = make_app(backend=SlowBackend(0.05))
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(WriteView)
        view.controls = GenerationControls(max_new_tokens=200, seed=3, samples=3)
        await pilot.press("ctrl+g")
        for _ in range(100):
            await pilot.pause(0.05)
            if view.alternatives and view.alternatives[0].strip():
                break
        assert view.generating and view.alternatives == [view.alternatives[0], "", ""]
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        await pilot.pause(0.1)
        assert len(view.alternatives) == 1 and view.alternatives[0].strip()
        assert view.check_action("next_alternative", ()) is None  # nothing else to page to
        head = str(app.query_one("#suggestion-head").render())
        assert "2" not in head.split("t=")[0] and "3" not in head.split("t=")[0]
        await pilot.press("ctrl+t")
        assert view.shown == 0
        await pilot.press("ctrl+o")
        assert app.query_one("#editor", TextArea).text == view.alternatives[0]


@pytest.fixture
def listed_model(smartlap_home: Path) -> str:
    """A model folder the Write screen lists; the fake backends never read it."""
    (smartlap_home / "models" / "stil").mkdir(parents=True)
    (smartlap_home / "models" / "stil" / "config.json").write_text("{}")
    return "stil"


class SilentBackend(GenerationBackend):
    """A model that says nothing until it is stopped."""

    def load(self, name):
        return object()

    def stream(self, loaded, prompt, controls, stop, style):
        stop.wait(10)
        return iter(())


async def test_escape_before_any_words_offers_nothing(listed_model: str) -> None:
    app = make_app(backend=SilentBackend())
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(WriteView)
        view.controls = GenerationControls(samples=2)
        await pilot.press("ctrl+g")
        await pilot.pause(0.1)
        assert view.generating and view.alternatives == ["", ""]
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        await pilot.pause(0.1)
        assert view.alternatives == []
        assert view.check_action("accept", ()) is None
        assert "before any words" in str(app.query_one("#write-status").render())


async def test_settings_from_f9_are_kept_in_config_toml(smartlap_home: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f9")
        await pilot.pause()
        field = app.screen.query_one("#temperature", Input)
        field.value = "1.3"
        app.screen.query_one("#samples", Input).value = "3"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.query_one(WriteView).controls.temperature == 1.3
        assert "kept for next time" in str(app.query_one("#write-status").render())
    stored = tomllib.loads((smartlap_home / "config" / "config.toml").read_text())
    assert stored["studio"]["generation"]["temperature"] == 1.3
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        controls = app.query_one(WriteView).controls
        assert (controls.temperature, controls.samples) == (1.3, 3)
        assert "t=1.3" in str(app.query_one("#suggestion-head").render())


async def test_a_bad_value_in_config_toml_is_named_and_its_default_used(
        smartlap_home: Path) -> None:
    path = smartlap_home / "config" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text("[studio.generation]\ntemperature = 9.0\ntop_p = 0.7\n", encoding="utf-8")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        controls = app.query_one(WriteView).controls
        assert controls.temperature == GenerationControls().temperature
        assert controls.top_p == 0.7
        messages = [n.message for n in app._notifications]
        assert any("temperature" in m and "between" in m for m in messages)
    assert path.read_text(encoding="utf-8").startswith("[studio.generation]\ntemperature = 9.0")


async def test_a_long_line_wraps_and_the_gutter_follows_it(smartlap_home: Path) -> None:
    long_line = ("En als de avond valt en alle lichtjes in de straten van de oude stad "
                 "weer branden, denk ik aan jou")
    songbook.new_song("Lang", f"{long_line}\nik mis je zo\n")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        editor = app.query_one("#editor", TextArea)
        rows = len(editor.wrapped_document.get_offsets(0)) + 1
        assert rows >= 2 and editor.wrapped_document.height == rows + 1
        gutter = app.query_one(Gutter)
        assert gutter.line_at_row(0) == 0
        assert all(gutter.line_at_row(r) is None for r in range(1, rows))
        assert gutter.line_at_row(rows) == 1
        first, second = gutter.render_line(0).text, gutter.render_line(rows).text
        assert first.split()[0] == str(view_counts(app)[0])
        assert gutter.render_line(1).text.strip() == ""
        assert second.split()[0] == str(view_counts(app)[1])
        editor.move_cursor((1, 0))
        await pilot.press("end")
        await pilot.press("enter", "d", "a", "a", "r")  # typing keeps the rows in step
        await pilot.pause(0.3)
        assert gutter.line_at_row(rows + 1) == 2


async def test_syllables_follow_each_keystroke_and_rhyme_letters_a_pause(
        smartlap_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from smartlap.tui.widgets import editor_pane

    monkeypatch.setattr(editor_pane, "LETTERS_DEBOUNCE_SECONDS", 1.0)  # a pause to see
    songbook.new_song("Vuur", "We zaten bij het kampvuur\n")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        facts = app.query_one(WriteView).facts
        editor = app.query_one("#editor", TextArea)
        editor.move_cursor(editor.document.end)
        editor.insert("\ntegen de muur")

        async def until(done) -> None:
            for _ in range(300):
                if done():
                    return
                await asyncio.sleep(0.01)

        await until(lambda: len(facts.counts) == 2)
        assert facts.counts[1] == 4 and facts.letters[:2] == ["", ""]  # counted, not yet lettered
        await until(lambda: facts.letters[:2] == ["A", "A"])
        assert facts.letters[:2] == ["A", "A"]  # kampvuur rhymes on its last part


def view_counts(app) -> list[int | None]:
    return app.query_one(WriteView).facts.counts


# -- one generation front door ----------------------------------------------------------------

class LoadsNothing(GenerationBackend):
    """The real stream front door over a model that is never read."""

    def load(self, name):
        from smartlap.lm.session import GenerationSession

        return GenerationSession(object())


@pytest.fixture
def streamed(monkeypatch) -> list:
    """Each (prompt, settings, style) the studio hands to ``stream_generate``."""
    import smartlap.lm.generation as generation

    calls: list = []

    def fake_stream(loaded, prompt, settings, stop=None, style=None):
        calls.append((prompt, settings, style))
        return iter(())

    monkeypatch.setattr(generation, "stream_generate", fake_stream)
    return calls

def test_effective_settings_put_the_knobs_over_the_style_defaults() -> None:
    from smartlap.styles import get_style
    from smartlap.tui.controls import effective_settings

    style = get_style("smartlap")
    plain = effective_settings(GenerationControls(), style)
    assert plain.repetition_penalty == style.sampling["repetition_penalty"]
    assert plain.max_new_tokens == style.sampling["max_new_tokens"]
    chosen = effective_settings(GenerationControls(temperature=1.4, samples=2), style)
    assert (chosen.temperature, chosen.samples, chosen.top_k) == (1.4, 2, style.sampling["top_k"])


async def test_a_songs_style_reaches_the_studios_generation(smartlap_home: Path,
                                                           listed_model: str,
                                                           streamed: list) -> None:
    styles = smartlap_home / "config" / "styles"
    styles.mkdir(parents=True)
    (styles / "traag.toml").write_text(
        'description = "traag"\nstructure = ["couplet"]\nrhyme_scheme = "AABB"\n'
        'syllables = [6, 9]\n\n[sampling]\ntemperature = 0.7\nmax_new_tokens = 33\n'
        'repetition_penalty = 1.3\n', encoding="utf-8")
    songbook.new_song("Traag lied", "de klok slaat twaalf\n", style="traag")
    app = make_app(backend=LoadsNothing())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        head = str(app.query_one("#suggestion-head").render())
        assert "t=0.7" in head and "max 33" in head
        await pilot.press("ctrl+g")
        await app.workers.wait_for_complete()
        await pilot.pause(0.1)
    _, settings, style = streamed[0]
    assert style.name == "traag"
    assert (settings.temperature, settings.max_new_tokens, settings.repetition_penalty) == (
        0.7, 33, 1.3)


class CuttingBackend(GenerationBackend):
    """Streams a repeated line, then ends with the cut text and a note, as stream_generate
    does when it cuts a loop."""

    def load(self, name):
        return object()

    def stream(self, loaded, prompt, controls, stop, style):
        from smartlap.events import SampleEnd, Token

        yield Token(text="de haven\nhet licht\nde haven\n", sample=1)
        yield SampleEnd(reason="repetition", tokens=9, seconds=0.5, time_to_first_token=0.1,
                        sample=1, text="de haven\nhet licht\n", notes=["repeated line cut"])

    def copies(self, loaded, prompt, text):
        return "kroeg", [], "originality check skipped: dataset kroeg: it is damaged"


async def test_the_samples_own_text_and_notes_reach_the_studio(listed_model: str) -> None:
    app = make_app(backend=CuttingBackend())
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(WriteView)
        await pilot.press("ctrl+g")
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        assert view.alternatives == ["de haven\nhet licht\n"]
        assert app.query_one("#suggestion", TextArea).text == "de haven\nhet licht\n"
        assert "repeated line cut" in str(app.query_one("#write-status").render())
        messages = [n.message for n in app._notifications]
        assert sum("originality check skipped" in m for m in messages) == 1


def test_one_copy_check_names_a_damaged_dataset_once(smartlap_home: Path) -> None:
    from types import SimpleNamespace

    from smartlap.craft.originality import CopyCheck

    broken = smartlap_home / "datasets" / "kapot"
    broken.mkdir(parents=True)
    (broken / "dataset.json").write_text("{ not json", encoding="utf-8")
    check = CopyCheck(SimpleNamespace(dataset="kapot"))
    assert check.rows("een regel die nergens vandaan komt") == []
    assert check.skipped and "kapot" in check.skipped
    assert CopyCheck(SimpleNamespace(dataset=None)).rows("tekst") == []


# -- ChordPro in the editor -------------------------------------------------------------------

CHORDED = "{title: Kroeg}\n[Am]In de [C]kroeg op de [G7]hoek\nbrandt nog [F]licht voor [C/G]ons\n"


async def test_chords_are_dimmed_uncounted_and_kept_from_the_model(
        listed_model: str, streamed: list) -> None:
    songbook.new_song("Kroeg", CHORDED)
    app = make_app(backend=LoadsNothing())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        view = app.query_one(WriteView)
        from smartlap.craft.syllables import syllables

        assert view.facts.counts == [None, syllables("In de kroeg op de hoek"),
                                     syllables("brandt nog licht voor ons")]  # {title} unsung
        kinds = {kind for row in app.query_one("#editor", TextArea)._highlights.values()
                 for _, _, kind in row}
        assert kinds == {"chord", "directive"}
        editor = app.query_one("#editor", TextArea)
        editor.move_cursor(editor.document.end)
        await pilot.press("ctrl+g")
        await app.workers.wait_for_complete()
        await pilot.pause(0.1)
    assert [prompt for prompt, _, _ in streamed] == [
        "In de kroeg op de hoek\nbrandt nog licht voor ons"]


async def test_ctrl_k_lists_rhymes_for_the_word_at_the_cursor(smartlap_home: Path) -> None:
    songbook.new_song("Rijm", "ik ging [Am]ervandaan\n\nen nu\n")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        editor = app.query_one("#editor", TextArea)
        editor.focus()
        editor.move_cursor((0, len("ik ging [Am]erva")))  # inside the word, after a chord
        await pilot.press("ctrl+k")
        await app.workers.wait_for_complete()
        await pilot.pause(0.1)
        found = [n for n in app._notifications if n.title == "Rhymes for ervandaan"]
        assert found and "gaan (1)" in found[0].message and "slaan (1)" in found[0].message
        editor.move_cursor((2, len("en nu")))  # a compound says what part it rhymes on
        editor.insert(" bij het kampvuur")
        await pilot.press("ctrl+k")
        await app.workers.wait_for_complete()
        await pilot.pause(0.1)
        found = [n for n in app._notifications if n.title == "Rhymes for kampvuur (on vuur)"]
        assert found and "muur (1)" in found[0].message
        editor.move_cursor((1, 0))  # an empty line: no word
        await pilot.press("ctrl+k")
        await pilot.pause(0.1)
        assert any("Put the cursor on a word" in n.message for n in app._notifications)


@pytest.mark.slow
async def test_ctrl_l_candidates_rhyme_with_the_partner_and_fit_its_syllables(
        tiny_model: str) -> None:
    from smartlap.craft import rhymes, syllables

    partner = "In de kroeg op de hoek brandt nog licht,"
    songbook.new_song("Kroeg", f"[Couplet 1]\n{partner}\n", style="smartlap")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(WriteView)
        await pilot.pause(0.2)
        view.query_one("#song-model").value = tiny_model  # a random model: only steering rhymes
        editor = app.query_one("#editor", TextArea)
        editor.cursor_location = editor.document.end
        await pilot.press("ctrl+l")
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        found = [line.strip() for line in view.alternatives]
        assert len(found) >= 3, app.query_one("#write-status").render()
        assert all(rhymes(line, partner) for line in found), found
        assert all(abs(syllables(line) - syllables(partner)) <= 1 for line in found[:3]), found
        status = str(app.query_one("#write-status").render())
        assert "candidates, best first" in status  # not overwritten by "Done." at the end
        listing = app.query_one("#suggestion", TextArea).text.splitlines()
        assert listing[0].startswith("1. ") and f"({syllables(found[0])} syl" in listing[0]
        await pilot.press("ctrl+o")
        assert found[0] in editor.text and editor.text.startswith(f"[Couplet 1]\n{partner}")


@pytest.mark.slow
async def test_ctrl_l_says_when_no_word_rhymes_with_the_partner(tiny_model: str) -> None:
    songbook.new_song("Knorpf", "[Couplet 1]\nik at een knorpf\n", style="smartlap")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(WriteView)
        await pilot.pause(0.2)
        view.query_one("#song-model").value = tiny_model
        editor = app.query_one("#editor", TextArea)
        editor.cursor_location = editor.document.end
        await pilot.press("ctrl+l")
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        status = str(app.query_one("#write-status").render())
        assert view.alternatives and "Note: no word" in status and "'knorpf'" in status


class DemoBackend(GenerationBackend):
    """The bundled demo model as the session sees it; every load is a fresh session."""

    loads = 0

    def load(self, name):
        from types import SimpleNamespace

        from smartlap.lm.session import GenerationSession
        from smartlap.store.models import DEFAULT_MODEL

        self.loads += 1
        return GenerationSession(SimpleNamespace(
            info=SimpleNamespace(name=DEFAULT_MODEL, origin="bundled", dataset=None),
            device="cpu"))

    def stream(self, loaded, prompt, controls, stop, style):
        return iter(())


async def test_the_demo_model_is_named_once_a_studio_session(listed_model: str) -> None:
    backend = DemoBackend()
    app = make_app(backend=backend)
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(WriteView)
        for _ in range(2):
            view.loaded_name = None  # as after picking another model: loaded again
            await pilot.press("ctrl+g")
            await app.workers.wait_for_complete()
            await pilot.pause(0.1)
        told = [n for n in app._notifications if "tiny demo model" in n.message]
        assert backend.loads == 2 and len(told) == 1
        assert "smartlap models pull gpt2-small-dutch" in told[0].message


class TwoNotesBackend(CuttingBackend):
    """Two alternatives; only the second one's prompt was truncated."""

    def stream(self, loaded, prompt, controls, stop, style):
        from smartlap.events import SampleEnd, Token

        for sample, notes in ((1, []), (2, ["prompt truncated"])):
            yield Token(text=f"regel {sample}\n", sample=sample)
            yield SampleEnd(reason="eos", tokens=2, seconds=0.1, time_to_first_token=0.05,
                            sample=sample, text=f"regel {sample}\n", notes=notes)


async def test_ctrl_t_shows_the_notes_of_the_alternative_it_switches_to(
        listed_model: str) -> None:
    app = make_app(backend=TwoNotesBackend())
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(WriteView)
        await pilot.press("ctrl+g")
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        assert view.alternatives == ["regel 1\n", "regel 2\n"]
        assert "prompt truncated" not in str(app.query_one("#write-status").render())
        await pilot.press("ctrl+t")
        await pilot.pause()
        status = str(app.query_one("#write-status").render())
        assert "Alternative 2 of 2" in status and "Note: prompt truncated." in status
