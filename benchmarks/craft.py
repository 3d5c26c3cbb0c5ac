"""Songcraft benchmark: accuracy on the labelled sets, gutter speed, originality speed.

    .venv/bin/python benchmarks/craft.py [--espeak N]

Accuracy: syllable counts on tests/data/craft/syllables.tsv (lyric and general words) and
rhyme recall / false-positive rate on tests/data/craft/rhymes.tsv; baseline: the raw
pyphen nl_NL hyphenation count (pieces per word), which the rules correct.

Gutter speed: a 200-line song; the studio recomputes syllables and the rhyme scheme on every
keystroke. Cold = caches cleared (first paint), full = every line again with warm caches,
incremental = one line changed (a new word) and everything recomputed. Baseline: cold.

Originality: index build for the lines of N songs and the check of one generated line.

--espeak N (optional, needs espeak-ng and /usr/share/dict/dutch): agreement with espeak-ng's
Dutch pronunciation rules on N random dictionary words — an independent check, not a gold
standard (espeak stresses compounds on their last part; we follow primary stress).
"""

from __future__ import annotations

import argparse
import platform
import random
import time
from collections import Counter
from pathlib import Path

from smartlap.craft import rhyme_scheme, rhymes, syllables
from smartlap.craft.hyphenation import hyphenate
from smartlap.craft.originality import OriginalityIndex

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

    from smartlap.craft import phonetics, rhyme

    syl = importlib.import_module("smartlap.craft.syllables")  # the package shadows the name
    for fn in (phonetics.analyse, phonetics.nuclei_of, rhyme.rhyme_key, syl.word_syllables):
        fn.cache_clear()


def _gutter(lines: list[str]) -> tuple[list[int], str]:
    return [syllables(line) for line in lines], rhyme_scheme(lines)


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


def espeak(n: int) -> None:
    import re
    import shutil
    import subprocess

    wordlist = Path("/usr/share/dict/dutch")
    if not shutil.which("espeak-ng") or not wordlist.exists():
        print("## espeak-ng agreement: skipped (needs espeak-ng and the wdutch word list)")
        return
    from smartlap.craft.phonetics import analyse, normalize_word

    words = [w.strip() for w in wordlist.read_text(encoding="utf-8").splitlines()
             if re.fullmatch(r"[a-zëïéèöüä]+", w.strip()) and len(w.strip()) <= 9]
    sample = random.Random(2).sample(words, n)
    ipa = subprocess.run(["espeak-ng", "-v", "nl", "-q", "-x", "--ipa"],
                         input="\n".join(w + "." for w in sample), capture_output=True,
                         text=True, check=True).stdout.split()
    vowels = set("aɑeɛiɪoɔuyʏɵøœəʌæɐ")
    diphthongs = ("ɛɪ", "œy", "ʌʊ", "ɑʊ", "ɑu", "eʊ", "ɔu")

    def nuclei(p: str) -> int:
        i = count = 0
        while i < len(p):
            d = next((d for d in diphthongs if p.startswith(d, i)), None)
            if d or p[i] in vowels:
                count += 1
                i += len(d) if d else 1
            else:
                i += 1
        return count

    def rime(p: str) -> str:  # espeak's sounds from the primary stress on, unified a little
        p = p.replace("ˌ", "")
        p = p[p.find("ˈ") + 1:]
        for a, b in (("ɪːr", "eːr"), ("ɔːr", "oːr"), ("ɪː", "eː"), ("ɔː", "oː"), ("ɾ", "r"),
                     ("ʋ", "v"), ("ɣ", "x"), ("ʏ", "ɵ")):
            p = p.replace(a, b)
        return re.sub(r"(.)\1", r"\1", p)

    same_syl = same_stress = 0
    ours_keys: dict[str, str] = {}
    their_keys: dict[str, str] = {}
    for word, phones in zip(sample, ipa, strict=True):
        ours = analyse(normalize_word(word))
        if ours.syllables == nuclei(phones):
            same_syl += 1
            mark = phones.find("ˈ")
            if ours.stress == (nuclei(phones[:mark]) if mark >= 0 else 0):
                same_stress += 1
                ours_keys[word], their_keys[word] = ours.rhyme_key, rime(phones)

    def pairs(counter: Counter) -> int:
        return sum(k * (k - 1) // 2 for k in counter.values())

    both = pairs(Counter((ours_keys[w], their_keys[w]) for w in ours_keys))
    precision = both / max(1, pairs(Counter(ours_keys.values())))
    recall = both / max(1, pairs(Counter(their_keys.values())))
    print(f"## espeak-ng agreement on {n} dictionary words (<= 9 letters)")
    print(f"syllables agree {same_syl / n:.2%}; stressed syllable agrees {same_stress / n:.2%}")
    print(f"rhyme classes where the stress agrees ({len(ours_keys)} words): pair precision "
          f"{precision:.3f}, recall {recall:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--espeak", type=int, default=0, metavar="N")
    args = parser.parse_args()
    print(f"machine: {platform.machine()} {platform.processor() or ''}, "
          f"Python {platform.python_version()}")
    accuracy()
    gutter()
    originality()
    if args.espeak:
        espeak(args.espeak)


if __name__ == "__main__":
    main()
