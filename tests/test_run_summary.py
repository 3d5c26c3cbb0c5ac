"""The one fold of a run's events (store.run_summary) and the typed figures it carries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smartlap import events
from smartlap.events import MemorySnapshot
from smartlap.store import runs
from smartlap.store.run_summary import LogFold, RunSummary

CPU = {"device": "cpu", "rss_mb": 812.0, "peak_rss_mb": 900.0, "system_mb": 15872.0}


def _started(resumed: int | None = None, epochs: int = 3) -> events.RunStarted:
    return events.RunStarted(run_id="r1", config={"epochs": epochs}, model="tiny",
                             dataset="demo", device="cpu", params=10, pid=4242,
                             resumed_from_epoch=resumed)


def _step(epoch: int, step: int, memory: dict | None = None) -> events.Step:
    return events.Step(epoch=epoch, step=step, loss=3.0 - step / 10, lr=1e-4,
                       tokens_per_s=100.0 + step, total_steps=4, memory=memory,
                       eta_seconds=10.0 * step)


def _end(epoch: int, val: float | None, best: bool, epochs: int = 3) -> events.EpochEnd:
    return events.EpochEnd(epoch=epoch, train_loss=val + 0.2 if val else 3.3, val_loss=val,
                           perplexity=None, seconds=2.0, memory=CPU, epochs=epochs,
                           tokens_per_s=321.0, eta_seconds=4.0, best=best)


def cancelled_resumed_and_failed() -> list[bytes]:
    """A run cancelled in epoch 2, resumed with more epochs (redoing epoch 2), then failed;
    with the damage a crash or a disk leaves: garbage, bytes that are not UTF-8, a line of
    an unknown kind and one with a wrong type."""
    good = [_started(), _step(1, 1, CPU), _step(1, 4), _end(1, 3.0, True),
            events.Sample(epoch=1, prompt="De ", text="kroeg"),
            _step(2, 2, CPU), events.RunCancelled(epoch=2),
            _started(resumed=1, epochs=4), _step(2, 1), _end(2, 2.5, True, epochs=4),
            events.Sample(epoch=2, prompt="De ", text="haven \u2028 licht"),
            _end(3, 2.9, False, epochs=4),
            events.RunFailed(message="The GPU ran out of memory.", hint="Lower --batch-size")]
    lines = [event.to_json().encode() + b"\n" for event in good]
    lines.insert(3, b"{not json\n")
    lines.insert(6, b'{"event":"sample","time":1,"epoch":1,"prompt":"x","text":"\xff\xfe"}\n')
    lines.insert(9, b'{"event":"gossip","time":1}\n')
    lines.insert(12, b'{"event":"step","time":1,"epoch":"two","step":1,"loss":1,"lr":1,'
                     b'"tokens_per_s":1}\n')
    lines.insert(14, b"\n")
    return lines


def test_folding_a_log_poll_by_poll_gives_the_whole_logs_fold(tmp_path: Path) -> None:
    data = b"".join(cancelled_resumed_and_failed())
    whole_path = tmp_path / "whole.jsonl"
    whole_path.write_bytes(data)
    log = events.read_log(whole_path)
    whole = RunSummary.of("r1", log.events)
    assert log.unreadable == 3  # not JSON, an unknown kind, a wrong type
    assert (whole.status, whole.ended, whole.last_epoch, whole.planned_epochs) == (
        "failed", "failed", 3, 4)
    assert whole.train_losses == [3.2, 2.7, 3.1] and whole.best_val_loss == 2.5
    assert whole.failure == "The GPU ran out of memory. (Lower --batch-size)"
    assert whole.sample == "haven \u2028 licht"  # a line separator inside a line is no line end

    for cut in (1, 7, 64, 333):  # appended in pieces, torn lines included
        grown = tmp_path / f"grown-{cut}.jsonl"
        tail, summary = events.EventTail(grown), RunSummary("r1")
        for start in range(0, len(data), cut):
            with open(grown, "ab") as handle:
                handle.write(data[start:start + cut])
            summary.apply_all(tail.poll())
        assert summary == whole, cut
        assert tail.unreadable == log.unreadable


def test_the_ending_since_the_last_start_decides_and_a_resume_clears_it() -> None:
    summary = RunSummary.of("r1", [_started(), _end(1, 3.0, True), events.RunCancelled(epoch=1)])
    assert (summary.ended, summary.status, summary.resumable) == ("cancelled", "cancelled", True)
    summary.apply(_started(resumed=1))
    assert summary.ended is None and summary.active and summary.epoch == 1
    assert summary.failure is None and summary.events_seen == 4


def test_a_log_fold_reads_only_new_lines_and_replays_a_replaced_log(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    fold = LogFold("r1", path)
    assert fold.update().events_seen == 0  # no log yet
    path.write_bytes(b"".join(cancelled_resumed_and_failed()[:5]))
    first = fold.update()
    offset = fold.tail.offset
    assert first.last_epoch == 1 and offset == path.stat().st_size
    with open(path, "ab") as handle:
        handle.write(_end(2, 2.0, True).to_json().encode() + b"\n")
    assert fold.update().last_epoch == 2 and fold.tail.offset > offset
    path.write_text(_started().to_json() + "\n" + _end(1, 9.0, True).to_json() + "\n"
                    + _end(2, 8.0, False).to_json() + "\n" + _step(3, 1).to_json() + "\n")
    again = fold.update()  # rewritten in place, longer than before: folded from the start
    assert again.train_losses == [9.2, 8.2] and again.best_val_loss == 8.0


def test_a_log_folds_poll_hands_each_new_event_to_a_view_once(tmp_path: Path) -> None:
    """The worker pane and `runs tail` render every event and read the summary from one
    fold: each poll returns only what is new, and a replaced log starts a fresh summary."""
    path = tmp_path / "events.jsonl"
    fold = LogFold("r1", path)
    assert fold.poll() == []
    path.write_text(_started().to_json() + "\n" + _end(1, 3.0, True).to_json() + "\n")
    assert [e.kind for e in fold.poll()] == ["run_started", "epoch_end"]
    assert fold.poll() == [] and fold.summary.last_epoch == 1
    before = fold.summary
    path.unlink()
    path.write_text(_started().to_json() + "\n")  # another log under the same name
    assert [e.kind for e in fold.poll()] == ["run_started"]
    assert fold.summary is not before and fold.summary.last_epoch is None


def test_the_listing_keeps_up_with_a_growing_log() -> None:
    run_id = runs.create_run({"model": "m", "dataset": "demo", "epochs": 3}).name
    runs.append_event(run_id, _started())
    assert runs.get_run(run_id).epoch is None
    runs.append_event(run_id, _end(1, 3.0, True))
    runs.append_event(run_id, events.RunCancelled(epoch=1))
    info = runs.get_run(run_id)
    assert (info.epoch, info.epochs, info.status, info.best_val_loss) == (1, 3, "cancelled", 3.0)
    summary = RunSummary.of(run_id, runs.read_run_events(run_id))
    assert runs.live_status(run_id, summary) == "cancelled"


# -- memory figures -----------------------------------------------------------------------------

def test_memory_snapshots_read_old_dict_logs_and_write_the_same_line() -> None:
    old = ('{"event":"epoch_end","time":1.0,"epoch":1,"train_loss":3.0,"val_loss":null,'
           '"perplexity":null,"seconds":2.0,"memory":{"device":"cuda","rss_mb":2048.0,'
           '"peak_rss_mb":2100.0,"allocated_mb":3072.0,"reserved_mb":4096.0,"peak_mb":3500,'
           '"peak_reserved_mb":4200.0,"total_mb":12288.0},"epochs":null,"tokens_per_s":null,'
           '"eta_seconds":null,"best":null}')
    event = events.parse_line(old)
    assert isinstance(event.memory, MemorySnapshot)
    assert (event.memory.peak_mb, event.memory.table_mb, event.memory.system_mb) == (
        3500.0, 3500.0, None)
    assert json.loads(event.to_json()) == json.loads(old)  # no keys added or dropped
    assert events.parse_line(event.to_json()) == event
    step = events.parse_line(events.Step(epoch=1, step=1, loss=1.0, lr=1.0,
                                         tokens_per_s=1.0).to_json())
    assert step.memory is None and "memory" in step.to_dict()


def test_a_damaged_memory_object_costs_its_figures_not_the_line() -> None:
    snapshot = MemorySnapshot.from_dict({"rss_mb": "lots", "peak_rss_mb": True,
                                         "system_mb": 100, "gossip": 1})
    assert snapshot == MemorySnapshot(system_mb=100.0) and snapshot.table_mb == 0.0
    assert not MemorySnapshot.from_dict({}) and MemorySnapshot(device="cpu")
    with pytest.raises(events.EventError, match="memory"):
        events.parse_line('{"event":"step","time":1,"epoch":1,"step":1,"loss":1,"lr":1,'
                          '"tokens_per_s":1,"memory":[1]}')


def test_epoch_rows_read_events_and_a_models_history_the_same() -> None:
    ends = [_end(1, 3.0, True), _end(2, None, False)]
    from_events = events.epoch_rows([_started(), *ends, events.RunCancelled()])
    from_history = events.epoch_rows([end.to_history() for end in ends] + [{"no": "epoch"}])
    assert from_events == from_history
    assert [(row.epoch, row.val_loss, row.best, row.memory_mb) for row in from_events] == [
        (1, 3.0, True, 900.0), (2, None, False, 900.0)]
