"""Songcraft benchmark: accuracy on the labelled sets, gutter speed, originality speed.

    .venv/bin/python benchmarks/craft.py [--external N]

Accuracy: syllable counts on tests/data/craft/syllables.tsv (lyric and general words) and
rhyme recall / false-positive rate on tests/data/craft/rhymes.tsv; baseline: the raw
pyphen nl_NL hyphenation count (pieces per word), which the rules correct.

Gutter speed: a 200-line song; the studio recomputes syllables and the rhyme scheme on every
keystroke. Cold = caches cleared (first paint), full = every line again with warm caches,
incremental = one line changed (a new word) and everything recomputed. Baseline: cold.

Originality: index build for the lines of N songs and the check of one generated line.

--external N (optional, needs the espeakng-loader wheel: pip install espeakng-loader): the
measurement of issue 12 against espeak-ng's Dutch rules, a pronunciation source smartlap does
not use. Perfect-rhyme recall and false-positive rate on all pairs of the 1,500 commonest
words of the demo lyrics (smartlap's keys as the product uses them: a compound's from its
last part, see docs/craft.md "Where a compound rhymes"), syllable accuracy on every lyric
token and on N random types of the shipped word list, with no exclusions where the stress
disagrees; and the rules alone on the 10% of the shipped lexicon held out by hash (stress
accuracy, rhyme pairs against the keys the lexicon stress gives).
"""

from __future__ import annotations

import argparse
import platform
import random
import time
from collections import Counter
from pathlib import Path

from smartlap.craft import rhymes, syllables
from smartlap.craft.hyphenation import hyphenate
from smartlap.craft.originality import OriginalityIndex
from smartlap.craft.scheme import scheme_marks

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "craft"

LINES = [
    "De zon gaat onder in de stad", "ik denk aan alles wat ik had",
    "de regen valt nu op de straat", "omdat jij nu voorgoed weer gaat",
    "O mijn hart, mijn hart doet pijn", "ik wil alleen maar bij je zijn",
    "het orgel speelt in de Jordaan", "waar wij zo vaak hebben gestaan",
    "Moeder, waar ben je gebleven", "je hebt me alles gegeven", "",
    "[Refrein]", "'k Zag twee beren broodjes smeren", "zo'n lieve meid uit Amsterdam",
    "de kroeg is leeg, het glas is koud", "ik blijf je altijd trouw", "",
]


def _rows(name: str) -> list[list[str]]:
    return [r.split("\t") for r in (DATA / name).read_text(encoding="utf-8").splitlines()
            if r.strip() and not r.startswith("#")]


def _pyphen_count(word: str) -> int:
    return len(hyphenate(word.lower().replace("'", ""))) if any(c.isalpha() for c in word) else 0


def accuracy() -> None:
    rows = _rows("syllables.tsv")
    print("## accuracy")
    for category in ("lyric", "general"):
        subset = [r for r in rows if r[2] == category]
        ours = sum(syllables(w) == int(n) for w, n, _ in subset) / len(subset)
        base = sum(_pyphen_count(w) == int(n) for w, n, _ in subset) / len(subset)
        print(f"syllables {category:8s} n={len(subset):4d}  smartlap {ours:.2%}  "
              f"pyphen-only {base:.2%}")
    pairs = _rows("rhymes.tsv")
    pos = [(a, b) for a, b, lab, *_ in pairs if lab == "1"]
    neg = [(a, b) for a, b, lab, *_ in pairs if lab == "0"]
    recall = sum(rhymes(a, b) for a, b in pos) / len(pos)
    fpr = sum(rhymes(a, b) for a, b in neg) / len(neg)
    print(f"rhyme pairs n={len(pairs)} ({len(pos)} rhyme, {len(neg)} not)  recall {recall:.3f}  "
          f"false-positive rate {fpr:.3f}")


def _clear_caches() -> None:
    import importlib

    from smartlap.craft import phonetics, pronunciations, rhyme

    syl = importlib.import_module("smartlap.craft.syllables")  # the package shadows the name
    for fn in (phonetics.analyse, phonetics.nuclei_of, rhyme.rhyme_key, syl.word_syllables,
               pronunciations.stress_table, getattr(pronunciations, "part_table", None)):
        if fn is not None:  # part_table: the compound parts (absent before issue 12's split)
            fn.cache_clear()


def _gutter(lines: list[str]) -> tuple[list[int], list[str]]:
    """What the Write screen recomputes: every line's syllables and the rhyme marks (perfect
    letters plus near-rhyme "~" marks, scheme_marks, as the gutter draws them)."""
    return [syllables(line) for line in lines], scheme_marks(lines)


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def gutter() -> None:
    vocabulary = [row[0] for row in _rows("syllables.tsv") if row[0].isalpha()]
    rng = random.Random(3)
    song = list(LINES)
    while len(song) < 200:  # distinct lines, a blank line between stanzas
        song.append("" if len(song) % 5 == 4 else
                    " ".join(rng.choice(vocabulary) for _ in range(rng.randint(4, 8))))
    print(f"## gutter, 200-line song ({len({w for line in song for w in line.split()})} "
          "distinct words)")

    def cold() -> None:
        _clear_caches()
        _gutter(song)

    cold_s = _best(cold, 5)
    full_s = _best(lambda: _gutter(song), 20)
    counter = iter(range(10**9))

    def incremental() -> None:
        edited = list(song)
        edited[100] = f"ik zing een nieuw liedje voor woord{next(counter)}"
        _gutter(edited)

    inc_s = _best(incremental, 50)
    print(f"cold (no caches)          {cold_s * 1000:8.2f} ms   baseline")
    print(f"full recompute, warm      {full_s * 1000:8.2f} ms   {cold_s / full_s:6.1f}x faster")
    print(f"one line changed, warm    {inc_s * 1000:8.2f} ms   {cold_s / inc_s:6.1f}x faster")


def originality() -> None:
    rng = random.Random(1)
    words = ["liefde", "moeder", "haven", "kroeg", "jordaan", "kermis", "afscheid", "tranen",
             "glas", "nacht", "zee", "schip", "hart", "pijn", "straat", "licht", "regen", "wind",
             "deur", "raam", "bloemen", "zon", "maan", "sterren", "vader", "kind", "geluk",
             "verdriet", "orgel", "gracht", "brug", "trein", "brief", "ring", "kerk", "klok"]
    lines = [" ".join(rng.choice(words) for _ in range(rng.randint(5, 9)))
             for _ in range(100_000)]
    start = time.perf_counter()
    index = OriginalityIndex(lines)
    build = time.perf_counter() - start
    probes = [lines[i] for i in range(0, 1000, 10)] + [
        " ".join(rng.choice(words) for _ in range(7)) for _ in range(100)]
    start = time.perf_counter()
    flagged = sum(index.check(p) is not None for p in probes)
    per_line = (time.perf_counter() - start) / len(probes)
    print("## originality")
    print(f"index 100,000 lines (~3,000 songs): {build:.2f} s; check one line: "
          f"{per_line * 1000:.3f} ms ({flagged}/{len(probes)} probes flagged, 100 are copies)")


class _Espeak:
    """espeak-ng's Dutch pronunciation rules, through the espeakng-loader wheel (libespeak-ng
    and its data bundled). smartlap does not use espeak-ng, so it is an independent reference
    here (not a gold standard)."""

    def __init__(self) -> None:
        import ctypes

        import espeakng_loader

        lib = ctypes.cdll.LoadLibrary(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p,
                                          ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.c_int,
                                              ctypes.c_int]
        if lib.espeak_Initialize(2, 0, espeakng_loader.get_data_path().encode(), 0) < 0:
            raise OSError("espeak-ng did not start")
        lib.espeak_SetVoiceByName(b"nl")
        self._lib, self._ctypes = lib, ctypes

    def ipa(self, word: str) -> str:
        text = self._ctypes.c_char_p(word.encode("utf-8"))
        return (self._lib.espeak_TextToPhonemes(self._ctypes.byref(text), 1, 2) or b"").decode()


_VOWELS = set("aɑeɛiɪoɔuyʏɵøœəʌæɐ")
_DIPHTHONGS = ("ɛɪ", "œy", "ʌʊ", "ɑʊ", "ɑu", "eʊ", "ɔu")


def _ipa_nuclei(p: str) -> int:
    i = count = 0
    while i < len(p):
        d = next((d for d in _DIPHTHONGS if p.startswith(d, i)), None)
        if d or p[i] in _VOWELS:
            count += 1
            i += len(d) if d else 1
        else:
            i += 1
    return count


def _ipa_rime(p: str) -> str:
    """espeak's sounds from the primary-stressed vowel to the end, unified a little."""
    import re

    p = p.replace("ˌ", "")
    p = p[p.find("ˈ") + 1:]
    for a, b in (("ɪːr", "eːr"), ("ɔːr", "oːr"), ("ɪː", "eː"), ("ɔː", "oː"), ("ɾ", "r"),
                 ("ʋ", "v"), ("ɣ", "x"), ("ʏ", "ɵ"), ("ɛi", "ɛɪ")):
        p = p.replace(a, b)
    return re.sub(r"(.)\1", r"\1", p)


def _pair_scores(ref: dict[str, str], ours: dict[str, str]) -> tuple[float, float, int]:
    """Perfect-rhyme recall and false-positive rate over all pairs of the words in ``ref``."""

    def pairs(counter: Counter) -> int:
        return sum(k * (k - 1) // 2 for k in counter.values())

    words = [w for w in ref if ref[w]]
    total = len(words) * (len(words) - 1) // 2
    ref_pos = pairs(Counter(ref[w] for w in words))
    our_pos = pairs(Counter(ours[w] for w in words if ours[w]))
    both = pairs(Counter((ref[w], ours[w]) for w in words if ours[w]))
    return both / max(1, ref_pos), (our_pos - both) / max(1, total - ref_pos), ref_pos


def _lyric_tokens() -> list[str]:
    import csv

    from smartlap.craft.rhyme import word_counts

    path = Path(__file__).resolve().parent.parent / "smartlap" / "data" / "demo" / "demo_songs.csv"
    with path.open(encoding="utf-8") as fh:
        lyrics = [row["lyrics"] for row in csv.DictReader(fh)]
    counts = word_counts(line for text in lyrics for line in text.splitlines()
                         if not line.strip().startswith("["))
    return [w for w, n in counts.most_common() for _ in range(n) if w.isalpha()]


def external(n_types: int) -> None:
    """The issue-12 measurement: espeak-ng as the reference smartlap does not use."""
    import zlib

    from smartlap.craft.phonetics import analyse, analyse_by_rules, nuclei_of, stress_index
    from smartlap.craft.pronunciations import stress_table, word_entries

    try:
        ref = _Espeak()
    except (ImportError, OSError) as exc:
        print(f"## external check: skipped ({exc}; pip install espeakng-loader)")
        return
    tokens = _lyric_tokens()
    common = list(dict.fromkeys(tokens))[:1500]
    ref_ipa = {w: ref.ipa(w) for w in dict.fromkeys(tokens)}
    print("## external check against espeak-ng (Dutch voice), no exclusions")
    ref_keys = {w: _ipa_rime(ref_ipa[w]) for w in common}
    recall, fpr, positives = _pair_scores(ref_keys, {w: analyse(w).rhyme_key for w in common})
    print(f"perfect rhyme, {len(common)} commonest lyric words ({positives} rhyming pairs): "
          f"recall {recall:.3f}  false-positive rate {fpr:.4f}")
    syl_ok = sum(analyse(w).syllables == _ipa_nuclei(ref_ipa[w]) for w in tokens) / len(tokens)
    print(f"syllables, {len(tokens)} lyric tokens: {syl_ok:.2%}")
    vocab = sorted(word_entries())
    sample = random.Random(5).sample(vocab, min(n_types, len(vocab)))
    syl_types = sum(analyse(w).syllables == _ipa_nuclei(ref.ipa(w)) for w in sample)
    print(f"syllables, {len(sample)} random word-list types: {syl_types / len(sample):.2%}")

    # The rules alone, on the lexicon words held out by hash (the rules were tuned on the
    # other 90%): stress accuracy, and rhyme pairs against the keys the lexicon stress gives.
    held = [w for w in sorted(stress_table())
            if zlib.crc32(w.encode()) % 10 == 0 and len(nuclei_of(w)) > 1]

    for label, words in (("all", held), ("zipf >= 3 (common)", [
            w for w in held if w in word_entries() and word_entries()[w].zipf >= 3])):
        stress_ok = sum(stress_index(w, source=False) == stress_table()[w] for w in words)
        recall, fpr, positives = _pair_scores({w: analyse(w).rhyme_key for w in words},
                                              {w: analyse_by_rules(w).rhyme_key for w in words})
        print(f"rules only, held-out lexicon words, {label}: n={len(words)}  stress "
              f"{stress_ok / len(words):.2%}; rhyme recall {recall:.3f}  false-positive rate "
              f"{fpr:.4f} ({positives} pairs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--external", type=int, default=0, metavar="N",
                        help="the espeak-ng check with N random word-list types (20000)")
    args = parser.parse_args()
    print(f"machine: {platform.machine()} {platform.processor() or ''}, "
          f"Python {platform.python_version()}")
    accuracy()
    gutter()
    originality()
    if args.external:
        external(args.external)


if __name__ == "__main__":
    main()
