"""Command palette entries (Ctrl+P): every action of the studio, searchable by name."""

from __future__ import annotations

from textual.command import DiscoveryHit, Hit, Hits, Provider

# (title, help, target, action): target "app" or the id of a view; actions run through
# Textual's action system so the palette does exactly what the key does.
COMMANDS: list[tuple[str, str, str, str]] = [
    ("Help", "keys and what each screen does (F6 or ?)", "app", "help"),
    ("Go to Write", "the song editor (F1)", "app", "show_tab('write')"),
    ("Go to Datasets", "lyric collections (F2)", "app", "show_tab('datasets')"),
    ("Go to Models", "models and the seed catalog (F3)", "app", "show_tab('models')"),
    ("Go to Train", "fine-tune a model (F4)", "app", "show_tab('train')"),
    ("Toggle runs pane", "collapse or expand the worker pane (F5)", "app", "toggle_pane"),
    ("Show next run", "cycle the runs shown in the pane (F12)", "app", "cycle_run"),
    ("Cancel run", "stop the run shown in the pane, resumable (F8)", "app", "cancel_run"),
    ("Generate", "continue the song from the cursor (Ctrl+G)", "write-view", "generate"),
    ("Stop generating", "(Escape)", "write-view", "stop"),
    ("Accept suggestion", "insert at the cursor (Ctrl+O)", "write-view", "accept"),
    ("Regenerate", "same prompt again (Ctrl+R)", "write-view", "regenerate"),
    ("Next alternative", "(Ctrl+T)", "write-view", "next_alternative"),
    ("Next line that rhymes", "constrained candidates, best first (Ctrl+L)", "write-view",
     "next_lines"),
    ("Rhymes for the word at the cursor", "from the whole Dutch word list (Ctrl+K)", "write-view",
     "rhymes"),
    ("Generation settings", "temperature, top-p, max tokens, seed (F9)", "write-view",
     "settings"),
    ("Open song", "from the songbook (Ctrl+B)", "write-view", "songbook"),
    ("New song", "(Ctrl+N)", "write-view", "new_song"),
    ("Save song now", "songs are also autosaved", "write-view", "save_now"),
    ("Rename song", "change the title (and file name)", "write-view", "rename_song"),
    ("Delete song", "remove it from the songbook", "write-view", "delete_song"),
    ("Export song as text", ".txt file", "write-view", "export_song('txt')"),
    ("Export song as Markdown", ".md file", "write-view", "export_song('md')"),
    ("Export song as ChordPro", ".cho file, chords kept inline", "write-view",
     "export_song('chordpro')"),
    ("Import dataset", "CSV, JSONL or a folder of .txt", "datasets-view", "import_dataset"),
    ("Delete dataset", "the selected dataset", "datasets-view", "delete_dataset"),
    ("Show import report", "of the selected dataset", "datasets-view", "show_report"),
    ("Pull a seed model", "from the catalog", "models-view", "catalog"),
    ("Add a local model folder", "register a Hugging Face folder", "models-view", "add_local"),
    ("Rename model", "the selected model", "models-view", "rename_model"),
    ("Delete model", "the selected model", "models-view", "delete_model"),
    ("Model report", "the analysis report as Markdown", "models-view", "report"),
    ("Start training", "with the form on the Train screen", "train-view", "start"),
    ("Resume run", "the selected cancelled run", "train-view", "resume"),
    ("Run results", "table and samples of the selected run", "train-view", "results"),
]


class StudioCommands(Provider):
    def _runner(self, target: str, action: str):
        async def run() -> None:
            app = self.app
            tab = {"write-view": "write", "datasets-view": "datasets",
                   "models-view": "models", "train-view": "train"}.get(target)
            if tab:
                app.query_one("#tabs").active = tab
            node = app if target == "app" else app.query_one(f"#{target}")
            await app.run_action(action, node)
        return run

    async def discover(self) -> Hits:
        for title, help_text, target, action in COMMANDS:
            yield DiscoveryHit(title, self._runner(target, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, target, action in COMMANDS:
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), self._runner(target, action),
                          help=help_text)

