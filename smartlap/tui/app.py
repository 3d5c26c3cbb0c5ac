"""The studio: Header, four screens as tabs, the worker pane docked below, and the Footer.

``make_app`` builds it for ``smartlap`` (no arguments) and for the tests. Nothing here
imports torch: the Write screen's worker imports ``smartlap.lm`` on the first Generate.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterable
from typing import Any, ClassVar

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Header, TabbedContent, TabPane
from textual.widgets._footer import FooterKey
from textual.worker import Worker, WorkerState

from smartlap.errors import SmartlapError
from smartlap.paths import get_paths
from smartlap.tui.commands import StudioCommands
from smartlap.tui.help import HELP_KEY
from smartlap.tui.messages import RunEventsArrived, StoreChanged
from smartlap.tui.widgets.worker_pane import WorkerPane
from smartlap.tui.write import GenerationBackend, WriteView

TABS = ("write", "datasets", "models", "train")
VIEWS = {"write": ("smartlap.tui.write", "WriteView"),
         "datasets": ("smartlap.tui.datasets", "DatasetsView"),
         "models": ("smartlap.tui.models", "ModelsView"),
         "train": ("smartlap.tui.train", "TrainView")}


class SmartlapApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "smartlap"
    SUB_TITLE = "songwriting studio"
    COMMANDS = App.COMMANDS | {StudioCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "show_tab('write')", "Write", priority=True),
        Binding("f2", "show_tab('datasets')", "Datasets", priority=True),
        Binding("f3", "show_tab('models')", "Models", priority=True),
        Binding("f4", "show_tab('train')", "Train", priority=True),
        Binding("f5", "toggle_pane", "Runs pane", priority=True),
        Binding("f12", "cycle_run", "Next run", show=False, priority=True),
        Binding("f7", "older_sample", "Older sample", show=False, priority=True),
        Binding("f8", "cancel_run", "Cancel run", show=False, priority=True),
        # Help: pinned at the footer's right by StudioFooter, so it shows on every screen.
        Binding(HELP_KEY, "help", "Help", show=False, priority=True),
        Binding("question_mark", "help", "Help", show=False),  # typed as text in a field
    ]

    def __init__(self, *, backend: GenerationBackend | None = None, poll_interval: float = 0.25,
                 initial_tab: str = "write", store_poll_interval: float = 1.0) -> None:
        super().__init__()
        self.backend = backend
        self.poll_interval = poll_interval
        self.initial_tab = initial_tab
        self.store_poll_interval = store_poll_interval
        self._store_signature: dict[str, Any] = {}

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="♪")
        with TabbedContent(initial=self.initial_tab, id="tabs"):
            for tab in TABS:
                with TabPane(tab.capitalize(), id=tab):
                    if tab == self.initial_tab:
                        yield self._build_view(tab)
        yield WorkerPane(get_paths().runs, poll_interval=self.poll_interval, id="worker-pane")
        yield StudioFooter(compact=True)

    def _build_view(self, tab: str) -> Widget:
        module, name = VIEWS[tab]
        view_class = getattr(importlib.import_module(module), name)
        if tab == "write":
            return view_class(self.backend, id="write-view", classes="store-view")
        return view_class(id=f"{tab}-view", classes="store-view")

    signals = False  # handle SIGTERM/SIGHUP (set by run_studio)

    def on_mount(self) -> None:
        self.theme = "textual-dark"
        if self.signals:
            self.handle_termination_signals()
        self.call_after_refresh(self._focus_tab, self.initial_tab)
        self.call_after_refresh(self._build_other_views)
        from smartlap.store.watch import store_signature

        self._store_signature = store_signature()
        self.set_interval(self.store_poll_interval, self._check_store)

    def _check_store(self) -> None:
        """Every view that lists datasets, models or runs hears when the data home changed."""
        from smartlap.store.watch import changed_kinds, store_signature

        now = store_signature()
        kinds = changed_kinds(self._store_signature, now)
        self._store_signature = now
        if kinds:
            for view in self.query(".store-view"):
                view.post_message(StoreChanged(frozenset(kinds)))

    def _handle_exception(self, error: Exception) -> None:
        """A screen still being built when the studio closes (quit within a moment of the
        start) finds its parts already gone; that is no error worth a traceback."""
        closing = self._exit or not self._running  # exit(), or a shutdown without it
        if closing and isinstance(error, NoMatches):
            return
        super()._handle_exception(error)

    async def _build_other_views(self) -> None:
        """Only the first screen is built (and imported) before the first paint."""
        for tab in TABS:
            if tab != self.initial_tab:
                await self.query_one(f"#{tab}", TabPane).mount(self._build_view(tab))

    async def action_quit(self, return_code: int = 0) -> None:
        for view in self.query(WriteView):
            view.flush_pending()
        self.exit(return_code=return_code)

    def handle_termination_signals(self) -> None:
        """SIGTERM (a kill, a logout) and SIGHUP (the terminal closed) quit as Ctrl+Q does:
        the song is saved and the terminal restored, instead of the process vanishing with
        the terminal left in raw mode. Exit code 128 + the signal, as a shell reports it."""
        import asyncio
        import signal

        loop = asyncio.get_running_loop()
        for name in ("SIGTERM", "SIGHUP"):
            signum = getattr(signal, name, None)
            if signum is None:
                continue
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(
                    signum, lambda signum=signum: asyncio.ensure_future(
                        self.action_quit(return_code=128 + signum)))

    # -- navigation -----------------------------------------------------------------------

    def action_show_tab(self, tab: str) -> None:
        self.query_one("#tabs", TabbedContent).active = tab
        self._focus_tab(tab)

    def _focus_tab(self, tab: str) -> None:
        try:
            view = self.query_one(f"#{tab}-view")
        except NoMatches:
            return
        focus = getattr(view, "focus_first", None)
        if focus:
            focus()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id:
            self._focus_tab(event.pane.id)

    def action_help(self) -> None:
        """The songwriter's help, with the screen now shown first."""
        from smartlap.tui.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.query_one("#tabs", TabbedContent).active or None))

    def action_show_help_panel(self) -> None:
        """Whatever asks for Textual's generic keys panel gets the studio's help instead."""
        self.action_help()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's palette entries, less "Keys" (the studio's "Help" replaces it)."""
        for command in super().get_system_commands(screen):
            if command.title != "Keys":
                yield command

    def action_toggle_pane(self) -> None:
        pane = self.query_one(WorkerPane)
        pane.collapsed = not pane.collapsed

    def action_cycle_run(self) -> None:
        self.query_one(WorkerPane).cycle(1)

    def action_older_sample(self) -> None:
        """Page back through the shown run's per-epoch samples (past the oldest: the latest)."""
        self.query_one(WorkerPane).page_samples(1)

    def action_cancel_run(self) -> None:
        state = self.query_one(WorkerPane).current
        if state is None or not state.active:
            self.notify("No running training run is shown in the pane.")
            return
        self.cancel_run_id(state.run_id)

    def cancel_run_id(self, run_id: str) -> None:
        """Ask first; then SIGINT the run, which saves its state and can be resumed."""
        from smartlap.tui.dialogs import ConfirmScreen

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return
            from smartlap.store.runs import cancel_run

            try:
                cancel_run(run_id)
            except SmartlapError as error:
                self.show_error(error)
                return
            self.notify(f"Cancelling {run_id}: it saves its state and stops.")
        self.push_screen(ConfirmScreen(f"Cancel the run {run_id}?\nIt can be resumed later "
                                       "from the Train screen.", "Cancel run"), confirmed)

    def on_run_events_arrived(self, message: RunEventsArrived) -> None:
        """The worker pane's news, handed on to the Train screen (not its ancestor), which
        stops it there."""
        with contextlib.suppress(NoMatches):  # Train not built yet: it lists runs when it is
            self.query_one("#train-view").post_message(
                RunEventsArrived(message.run_id, message.events, message.summary))

    # -- errors ---------------------------------------------------------------------------

    def show_error(self, error: SmartlapError) -> None:
        """Every core error the same way: the message, and the hint on the line below."""
        text = error.message + (f"\nhint: {error.hint}" if error.hint else "")
        self.notify(text, title="Error", severity="error", timeout=10, markup=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            error = event.worker.error
            if isinstance(error, SmartlapError):
                self.show_error(error)
            else:
                self.show_error(SmartlapError(f"{event.worker.name} failed: {error}",
                                              "Run 'smartlap --debug' for the traceback."))


class StudioFooter(Footer):
    """Textual's footer with the Help key first, so it shows on every screen.

    A screen's own keys fill the line (Write's alone fill 100 columns), so a Help key in
    the ordinary order, after them, would be cut off where it is needed most.
    """

    def compose(self) -> ComposeResult:
        active = self.screen.active_bindings.get(HELP_KEY) if self._bindings_ready else None
        if active is not None:
            yield FooterKey(HELP_KEY, self.app.get_key_display(active.binding), "Help",
                            "help", tooltip="Keys and what each screen does",
                            ).data_bind(compact=Footer.compact)
        yield from super().compose()
        if active is not None:  # the footer is a grid with a column per key
            self.styles.grid_size_columns = int(self.styles.grid_size_columns or 0) + 1


def make_app(**kwargs) -> SmartlapApp:
    """The studio, configured; used by ``run_studio`` and by the tests."""
    return SmartlapApp(**kwargs)


def run_studio() -> int:
    app = make_app()
    app.signals = True  # the real terminal only; run_test leaves pytest's handlers alone
    app.run()
    return app.return_code or 0
