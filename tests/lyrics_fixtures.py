"""Lyric collections the dataset tests write on the fly: every format, encoding, and mess."""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

_VOCABULARY = (
    "liefde moeder haven kroeg jordaan kermis afscheid tranen glas nacht zee schip hart pijn "
    "straat licht regen wind deur raam bloemen zon maan sterren vader kind café één geluk "
    "verdriet accordeon orgel gracht brug lantaarn trein perron koffer brief ring kerk klok "
    "zomer winter herfst lente schaduw droom spiegel foto wals tango lied stem zanger dans "
    "markt visser netten meeuw duinen dijk molen polder boot kade zeeman matroos anker storm"
)
_WORDS = tuple(_VOCABULARY.split())


def make_song(seed: int, stanzas: int = 3, lines: int = 4, words: int = 7) -> str:
    """A deterministic, song-shaped text; different seeds give unrelated songs."""
    rng = random.Random(seed)
    blocks = []
    for _ in range(stanzas):
        block = [" ".join(rng.choice(_WORDS) for _ in range(words)).capitalize()
                 for _ in range(lines)]
        blocks.append("\n".join(block))
    return "\n\n".join(blocks)


def songs(count: int, start: int = 0) -> list[dict[str, str]]:
    return [{"title": f"Lied nummer {i}", "artist": f"Zanger {i % 7}", "lyrics": make_song(i)}
            for i in range(start, start + count)]


def csv_text(rows: list[dict[str, str]], columns=("title", "artist", "lyrics"),
             delimiter: str = ",", header: bool = True, lineterminator: str = "\r\n") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=lineterminator)
    if header:
        writer.writerow(columns)
    for row in rows:
        writer.writerow([row["title"], row["artist"], row["lyrics"]])
    return buffer.getvalue()


def lyrics_400(path: Path) -> Path:
    """Like the seeds' lyrics_400.csv: 400 rows, 396 usable songs, 4 to skip.

    The four: an empty lyrics cell, a whitespace-only cell, a verbatim duplicate, and the
    same song again with different case and punctuation.
    """
    rows = songs(396)
    rows.insert(50, {"title": "Leeg", "artist": "Niemand", "lyrics": ""})
    rows.insert(120, {"title": "Spaties", "artist": "Niemand", "lyrics": "  \n \n "})
    rows.insert(200, dict(rows[10]))
    shouted = rows[30]["lyrics"].upper().replace("\n", "!\n")
    rows.insert(300, {"title": "Nog eens", "artist": "X", "lyrics": shouted})
    path.write_text(csv_text(rows), encoding="utf-8")
    return path


def txt_dump(entries: list[dict[str, str]], style: str, extra_lines: tuple[str, ...] = ()) -> str:
    """A text dump: style is 'blank' (2 blank lines between songs), 'plain' (the same
    without header lines), 'separator' or 'header'."""
    parts = []
    for index, song in enumerate(entries):
        lyrics = song["lyrics"] + "".join(f"\n{line.format(i=index)}" for line in extra_lines)
        head = f"{song['artist']} - {song['title']}\n"
        if style == "blank":
            parts.append(head + "\n" + lyrics + "\n\n\n")
        elif style == "plain":
            parts.append(lyrics + "\n\n\n")
        elif style == "separator":
            sep = ("---", "===", "*****")[index % 3]
            parts.append(("" if index == 0 else sep + "\n") + head + lyrics + "\n")
        elif style == "header":
            parts.append(head + "\n" + lyrics + "\n\n")
        else:
            raise ValueError(style)
    return "".join(parts)


def jsonl_text(entries: list[dict[str, str]], field: str = "lyrics") -> str:
    import json

    return "".join(json.dumps({"title": e["title"], "artist": e["artist"], field: e["lyrics"]},
                              ensure_ascii=False) + "\n" for e in entries)
