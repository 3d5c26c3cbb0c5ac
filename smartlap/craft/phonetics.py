"""Dutch spelling to sound, as far as rhyme and syllable counting need it.

Dutch spelling is regular enough to read aloud by rule. This module splits a word into vowel
nuclei (one per syllable), picks the stressed one and transcribes the sounds from there to the
end of the word (a compound's rhyme starts at its last part's stress instead: kamp|vuur, see
``compounds``). Rules follow Dutch phonology: open syllables lengthen a/e/o/u/i, ei = ij and
au = ou, final obstruents devoice (d/t, b/p, v/f, z/s), g and ch merge, unstressed e is schwa,
be-/ge-/ver-/ont-/er-/her-/te- are unstressed, and loan suffixes (-eren, -ie, -teit, -ij, -uur,
-ant, ...) take the stress. ``lexicon.tsv`` corrects the words that spelling cannot tell.

Phoneme symbols (one token each): vowels ``a: A e: E i I o: O y Y u 2: 9y Ei Au @``, diphthongs
``a:j o:j uj e:w iw yw``; consonants ``p b t d k x f v s z S Z m n N l r j w h c``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from smartlap.craft.hyphenation import hyphen_positions
from smartlap.craft.pronunciations import lexicon_stress, part_zipf

VOWEL_LETTERS = set("aeiouy")
_DIAERESIS = {"ä": "a", "ë": "e", "ï": "i", "ö": "o", "ü": "u"}
_ACCENTS = {
    "á": "a", "à": "a", "â": "a", "é": "e", "è": "e", "ê": "e", "í": "i", "ì": "i", "î": "i",
    "ó": "o", "ò": "o", "ô": "o", "ú": "u", "ù": "u", "û": "u", "ç": "c", "ñ": "n",
}
# Vowel spellings that make one sound, longest first.
_DIGRAPHS = (
    "aai", "ooi", "oei", "eeu", "ieu", "eau",
    "aa", "ee", "oo", "uu", "ie", "oe", "ou", "au", "ei", "eu", "ui", "ij",
    "ai", "oi", "ay", "ey", "oy", "uy",
)

_DIGRAPH_SOUND = {
    "aai": "a:j", "ooi": "o:j", "oei": "uj", "eeu": "e:w", "ieu": "iw", "eau": "o:",
    "aa": "a:", "ee": "e:", "oo": "o:", "uu": "y", "ie": "i", "oe": "u", "ou": "Au",
    "au": "Au", "ei": "Ei", "eu": "2:", "ui": "9y", "ij": "Ei", "ai": "Aj", "oi": "Oj",
    "ay": "e:", "ey": "i", "oy": "Oj", "uy": "9y",
}
_SHORT = {"a": "A", "e": "E", "i": "I", "o": "O", "u": "Y", "y": "i"}
_LONG = {"a": "a:", "e": "e:", "i": "i", "o": "o:", "u": "y", "y": "i"}

_DEVOICE = {"b": "p", "d": "t", "v": "f", "z": "s", "g": "x", "Z": "S"}


@dataclass(frozen=True)
class Nucleus:
    """One vowel nucleus: its spelling (base letters), where it starts and ends in the word."""

    spelling: str
    start: int
    end: int
    accent: str = ""  # "é", "è", ... when the spelling carried an acute/grave accent


@dataclass(frozen=True)
class WordSound:
    """What the craft functions need to know about one word."""

    word: str
    syllables: int
    stress: int  # index of the stressed nucleus (0-based); -1 when the word has none
    phonemes: tuple[str, ...]
    # index into phonemes where the rhyme starts: the stressed vowel, or that of a compound's
    # last part (kamp|vuur)
    key_start: int

    @property
    def rhyme_key(self) -> str:
        if self.stress < 0:
            return ""
        return "".join(self.phonemes[self.key_start:])


# --------------------------------------------------------------------------- lexicon


@dataclass(frozen=True)
class LexiconEntry:
    syllables: int | None
    stress: int | None  # 1-based syllable that carries the stress
    key: str | None


@lru_cache(maxsize=1)
def lexicon() -> dict[str, LexiconEntry]:
    """Corrections for words whose spelling misleads (loanwords, stress exceptions)."""
    entries: dict[str, LexiconEntry] = {}
    path = Path(__file__).with_name("lexicon.tsv")
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        cols = [c.strip() for c in line.split("\t")]
        cols += [""] * (4 - len(cols))
        word, syl, stress, key = cols[:4]
        entries[word] = LexiconEntry(
            int(syl) if syl not in ("", "-") else None,
            int(stress) if stress not in ("", "-") else None,
            key if key not in ("", "-") else None,
        )
    return entries


# --------------------------------------------------------------------------- normalising

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'"})
_EDGE_PUNCT = re.compile(r"^[^\w']+|[^\w']+$")


def normalize_word(token: str) -> str:
    """Lowercase, unify apostrophes, strip punctuation around the word (keep inner ' and -)."""
    text = unicodedata.normalize("NFC", token).translate(_APOSTROPHES).lower().strip()
    text = _EDGE_PUNCT.sub("", text)
    # a quote mark used as a quotation around the word, not an elision
    while text.endswith("'") and not re.fullmatch(r".*\b(?:m|z|d|h)'|'", text):
        text = text[:-1]
    return text


def base_letters(word: str) -> str:
    """The word with accents and diaereses removed (one letter per letter)."""
    return "".join(_DIAERESIS.get(ch, _ACCENTS.get(ch, ch)) for ch in word)


# --------------------------------------------------------------------------- nuclei


def _is_vowel_at(word: str, base: str, i: int) -> bool:
    ch = base[i]
    if ch == "y":
        # y is a consonant before a vowel at the start of a word or syllable (yoghurt, yes)
        if i + 1 < len(base) and base[i + 1] in VOWEL_LETTERS - {"y"}:
            return i > 0 and base[i - 1] not in VOWEL_LETTERS  # embryo; but yoghurt, loyaal
        return True
    if ch == "u" and i > 0 and base[i - 1] == "q":
        return False  # qu = kw
    if ch == "j":
        return i > 0 and base[i - 1] == "i" and word[i - 1] != "ï"  # the j of ij
    return ch in VOWEL_LETTERS


def _vowel_runs(word: str, base: str) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    i = 0
    while i < len(base):
        if _is_vowel_at(word, base, i):
            j = i + 1
            while j < len(base) and _is_vowel_at(word, base, j):
                j += 1
            runs.append((i, j))
            i = j
        else:
            i += 1
    return runs


def _split_run(word: str, base: str, start: int, end: int) -> list[Nucleus]:
    """Split a run of vowel letters into nuclei: digraphs stay whole, diaeresis breaks."""
    nuclei: list[Nucleus] = []
    i = start
    while i < end:
        same = i
        while same + 1 < end and base[same + 1] == base[i] and word[same + 1] == word[i]:
            same += 1
        if same - i >= (3 if base[i] == "e" else 2):  # sung elongation: ooooh, jaaa, neeee
            nuclei.append(Nucleus(base[i] * 2, i, same + 1))
            i = same + 1
            continue
        for dg in _DIGRAPHS:
            k = i + len(dg)
            if k <= end and base[i:k] == dg and not any(
                word[m] in _DIAERESIS for m in range(i + 1, k)
            ):
                break
        else:
            dg = base[i]
        accent = word[i] if word[i] in _ACCENTS else ""
        if dg != "j":  # a j left over after another digraph (aij) is a glide, not a vowel
            nuclei.append(Nucleus(dg, i, i + len(dg), accent))
        i += len(dg)
    return nuclei


def _join_or_split_by_hyphenation(word: str, base: str, nuclei: list[Nucleus]) -> list[Nucleus]:
    """Let the nl_NL hyphenation patterns decide the vowel sequences spelling cannot settle.

    Inside a word the patterns know theater (the-a-ter) from team, museum (mu-se-um) from
    Europa; near the word's edges they never hyphenate, so our own default holds there.
    """
    if len(base) < 4:
        return nuclei
    cuts = set(hyphen_positions(base))
    out: list[Nucleus] = []
    for nuc in nuclei:
        prev = out[-1] if out else None
        if (prev is not None and prev.spelling == "i" and prev.end == nuc.start
                and _palatal_glide(word, base, prev, nuc)):
            out[-1] = Nucleus(nuc.spelling, nuc.start, nuc.end, nuc.accent)
            continue  # station, pensioen, sociaal, patiënt: ti/si/ci + vowel is one sound
        if nuc.spelling == "ieu" and base[nuc.start - 1:nuc.start] in ("g", "r") and (
            base[nuc.end:nuc.end + 1] != "w"
        ):
            out.append(Nucleus("i", nuc.start, nuc.start + 1))
            out.append(Nucleus("eu", nuc.start + 1, nuc.end))
            continue  # religieus, serieus (but milieu, adieu, nieuw stay one)
        if nuc.spelling == "eu":
            inner = [c for c in cuts if nuc.start < c < nuc.end]
            if inner:
                c = inner[0]
                out.append(Nucleus(base[nuc.start:c], nuc.start, c))
                out.append(Nucleus(base[c:nuc.end], c, nuc.end))
                continue
        if (
            prev is not None
            and prev.end == nuc.start
            and (prev.spelling + nuc.spelling) in _JOINABLE_PAIRS
            and 2 <= nuc.start <= len(base) - 2
            and nuc.start not in cuts
            and word[nuc.start] not in _DIAERESIS
        ):
            out[-1] = Nucleus(prev.spelling + nuc.spelling, prev.start, nuc.end)
            continue
        out.append(nuc)
    return out


def _palatal_glide(word: str, base: str, i_nuc: Nucleus, nxt: Nucleus) -> bool:
    """Whether the i of ti/si/ci before a vowel is only the sj-sound (sta-tion, so-ciaal)."""
    k = i_nuc.start
    if k < 2 or base[k - 1] not in "tcs" or base[k - 2] not in "aeiouynrlkcp":
        return False
    if base[k - 2:k] == "ss":
        return False
    if nxt.end >= len(base) - 1 and nxt.spelling == "e":
        return False  # Indonesië, natiën keep their final syllable
    if word[nxt.start] in _DIAERESIS and nxt.end >= len(base) - 1:
        return False
    return nxt.spelling in {"o", "oe", "a", "aa", "e", "ee", "eu", "oo"}


# English vowel pairs that are one sound when the patterns keep them together (team, blues).
_JOINABLE_PAIRS = {"ea", "ue"}


@lru_cache(maxsize=65536)
def nuclei_of(word: str) -> tuple[Nucleus, ...]:
    """The vowel nuclei of a normalised word, one per syllable."""
    base = base_letters(word)
    nuclei: list[Nucleus] = []
    for start, end in _vowel_runs(word, base):
        nuclei.extend(_split_run(word, base, start, end))
    return tuple(_join_or_split_by_hyphenation(word, base, nuclei))


# --------------------------------------------------------------------------- stress

_UNSTRESSED_PREFIXES = ("ver", "ont", "her", "be", "ge", "te", "er")
# A "syllable" that is only a schwa ending: beter = be-ter, not be+ter.
_SCHWA_SYLLABLE = re.compile(r"^[^aeiouyj]*e(?:n|r|l|m|ns|rs|ls|s|rd|rt|rst|lt)?$")
_ONSETS = re.compile(
    r"^(?:[bcdfghjklmnpqrstvwxz]|sch|schr|ch|ph|th|[bcdfgkpt][rl]|[sz]w|kw|dw|tw|sp|st|sk|sl|sm|sn|"
    r"spr|str|skr|gn|kn|wr|vl|vr|zw|fl|fr|gl|gr|pl|pr|tj|sj|tr|dr|kr|br|bl|kl|fr)"
    r"(?=[aeiouy])"
)
# te- is a prefix only in these (terug, tevreden); elsewhere te is a root syllable (tegen).
_TE_ROOTS = ("rug", "vred", "vree", "zam", "veel", "kort", "leur", "vergeef", "vor", "gemoet",
             "gelijk", "zaam", "genover")
# Adverbial and prepositional compounds stress their last part: er-van-DAAN, onder-AAN, over-HEEN.
_ADVERB_HEADS = ("daar", "waar", "hier", "voor", "door", "er", "onder", "over", "boven", "tussen",
                 "achter", "midden", "verder", "hard", "van", "om", "tegen", "binnen", "buiten",
                 "anders", "rond", "ver")
_ADVERB_TAILS = (
    "aan", "af", "bij", "door", "in", "langs", "mee", "na", "naar", "om", "onder", "op", "over",
    "tegen", "toe", "uit", "van", "voor", "achter", "heen", "binnen", "buiten", "tussen",
    "zonder", "naast", "daan", "al", "eind", "een",
)
# Stem-final syllables that carry stress in (mostly French-born) words ...
_STRESSED_FINALS = re.compile(
    r"(?P<v>uu|eu|oe|oo|aa|ee|ie|ij|ei|ai)(?:r|n|l|f|k|t|s|d|m)$"
)
_STRESSED_FINAL_SHAPES = {
    "uur", "eur", "oen", "oon", "aal", "eel", "ief", "iek", "ier", "oor", "aat", "eet", "iet",
    "oot", "ees", "ein", "ijn", "oos", "eus", "eer", "aad", "uut", "ijs", "oel", "air", "eis",
    "oom",
}
# Stressed only after a short open syllable: pilaar, sigaar, banaan (not leraar, opstaan).
_LIGHT_ONLY_SHAPES = {"aar", "aan"}
# ... unless that syllable is a Dutch word heading a compound (voordeur, kampvuur, zeemeer).
_COMPOUND_HEADS = {
    "deur", "geur", "kleur", "sleur", "scheur", "zaal", "straal", "schaal", "staal", "paal",
    "kaal", "maal", "taal", "haal", "vuur", "uur", "muur", "stuur", "zuur", "buur", "duur",
    "schoen", "zoen", "doen", "groen", "zoon", "loon", "toon", "kroon", "troon", "schoon", "boon",
    "brief", "lief", "dief", "ziek", "dier", "bier", "hier", "mier", "stier", "vier", "koor",
    "spoor", "oor", "gaat", "staat", "slaat", "laat", "haat", "praat", "maat", "straat", "raat",
    "weet", "eet", "heet", "zweet", "meet", "niet", "riet", "ziet", "schiet", "boot", "groot",
    "noot", "poot", "stoot", "schoot", "sloot", "vloot", "vrees", "lees", "vlees", "trein",
    "klein", "plein", "brein", "schijn", "lijn", "pijn", "mijn", "zijn", "wijn", "fijn",
    "boom", "droom", "stroom", "room", "zoom", "oom", "eis",
    "boos", "roos", "doos", "loos", "poos", "keer", "meer", "beer", "leer", "zeer", "veer", "eer",
    "weer", "daad", "raad", "draad", "zaad", "kwaad", "ijs", "prijs", "reis", "wijs", "spijs",
    "stoel", "doel", "koel", "gevoel", "voel", "boer", "moer", "snoer", "vloer", "stoep",
    "buit", "huid", "ruit", "tuin", "duin", "kuit", "fluit", "muis", "huis", "kruis", "thuis",
    "dag", "goed", "bloed", "moed", "hoed", "stoet", "voet", "zoet", "groet", "boek", "hoek",
    "zoek", "vloek", "broek", "doek", "koek", "bloem", "kaart", "zaak", "taak", "haar", "jaar",
    "paar", "maan", "baan", "laan", "kraan", "haan", "zwaan", "traan", "nacht", "weg", "land",
    "stad", "zee", "hoofd", "tijd", "vrij", "blij", "rij", "mee",
}
_STRESSED_SHORT_FINALS = re.compile(
    r"(?:(?P<ant>[^aeiou](?P<v1>a)nt)|(?P<ent>[^aeiou](?P<v2>e)nt)|(?P<ist>[^aeiou](?P<v3>i)st)"
    r"|(?P<teit>t(?P<v4>ei)t))$"
)
_SHORT_COMPOUND_HEADS = {"kant", "krant", "want", "plant", "tent", "bent", "kent", "rent", "went",
                         "mist", "kist", "wist", "gist", "twist", "vist", "rist"}
_INFLECTION = re.compile(r"(?:e|en|es|s|t|er|ere|st|ste|ën|n)$")
_UNSTRESSED_ENDINGS = ("lijk", "lijke", "lijker", "lijks", "heid", "heden", "ig", "ige", "iger",
                       "igheid")
_UNSTRESSED_DERIVATION = re.compile(rf"(?:{'|'.join(_UNSTRESSED_ENDINGS)})$")
# ... and the other derivational endings no rhyme falls on (a compound's split stops there)
_DERIVATION_ENDINGS = (*_UNSTRESSED_ENDINGS, "baar", "bare", "zaam", "zame", "schap", "dom",
                       "loos", "loze", "isch", "ische", "achtig", "achtige")
_DERIVATION_END = re.compile(rf"(?:{'|'.join(_DERIVATION_ENDINGS)})$")

_NATIVE_ER_CLUSTERS = (
    "nd", "tt", "nn", "ng", "pp", "kk", "dd", "mm", "ff", "bb", "gg", "ld", "rd", "nk", "cht",
    "st", "lt", "ts", "mp", "ks", "rm",
)
_NATIVE_ER_STEMS = {
    "beter", "lever", "blader", "hamer", "schater", "weiger", "huiver", "sluimer", "schemer",
    "slenter", "kater", "opper", "order", "ouder", "lieder", "volker", "kalver", "lammer",
    "rader", "geleder", "goeder", "eier", "sigaren", "water", "wapper", "klauter", "sukkel",
    "kamer", "veder", "moeder", "vader", "broeder", "peper", "lager", "hoger", "wakker",
    "heiter", "duister", "fluister", "luister", "kluister", "vlinder", "wonder", "zomer",
    "ader", "kopper", "slaver", "schouder", "dreiger", "tover", "bever", "zever", "ijver",
    "zuiver", "over", "ever", "jammer", "tater", "steiger", "neger", "weder",
    "sober", "ander", "binder", "dapper", "lekker", "mooier", "groter", "kleiner",
    "vergader", "oever", "verover", "bedel",
}
_FRENCH_ER_STEMS = {"arranger", "protester", "presenter", "registr", "installer"}


def _first_nucleus_from(nuclei: tuple[Nucleus, ...], letter: int) -> int | None:
    for idx, nuc in enumerate(nuclei):
        if nuc.start >= letter:
            return idx
    return None


def _nucleus_at(nuclei: tuple[Nucleus, ...], letter: int) -> int | None:
    for idx, nuc in enumerate(nuclei):
        if nuc.start <= letter < nuc.end:
            return idx
    return None


def _strip_prefix(base: str, nuclei: tuple[Nucleus, ...]) -> int:
    """Letters of unstressed prefix at the start of ``base`` (0 when there is none).

    on- before another unstressed prefix is unstressed too (on-be-KEND, on-ver-WACHT).
    """
    if base.startswith("on") and not base.startswith(("ont", "onder")):
        shifted = tuple(Nucleus(n.spelling, n.start - 2, n.end - 2, n.accent)
                        for n in nuclei if n.start >= 2)
        inner = _strip_prefix(base[2:], shifted) if len(shifted) == len(nuclei) - 1 else 0
        if inner:
            return 2 + inner
    for prefix in _UNSTRESSED_PREFIXES:
        if not base.startswith(prefix):
            continue
        rest = base[len(prefix):]
        rest_nuclei = [n for n in nuclei if n.start >= len(prefix)]
        if not rest_nuclei or (nuclei and nuclei[0].end > len(prefix)):
            continue
        starts_with_vowel = rest[0] in VOWEL_LETTERS
        if starts_with_vowel and not (prefix in ("ver", "ont") or rest.startswith("inn")):
            continue
        if not starts_with_vowel and not _ONSETS.match(rest):
            continue
        if len(rest_nuclei) == 1 and _SCHWA_SYLLABLE.match(rest) and not (
                prefix == "ver" and re.fullmatch(r"[^aeiouy]+el", rest)):
            continue  # be-ter, ge-ven are one root; but ver-TEL, ver-SPEL
        if prefix == "te" and not rest.startswith(_TE_ROOTS):
            continue
        return len(prefix)
    return 0


def _eren_stress(base: str, nuclei: tuple[Nucleus, ...]) -> int | None:
    """studeren, regeren stress -e-ren; luisteren, kinderen keep the root stress."""
    m = re.search(r"(?P<v>e)r(?:en|end|ende|de|den|t|ing|ingen)$", base)
    if not m or len(nuclei) < 3:
        return None
    stem = base[: m.start("v")]
    cluster = re.search(r"[^aeiouy]+$", stem)
    if not cluster:
        return None
    full_stem = stem + "er"
    if any(full_stem.endswith(s) for s in _NATIVE_ER_STEMS):
        return None
    if any(full_stem.endswith(s) for s in _FRENCH_ER_STEMS):
        return _nucleus_at(nuclei, m.start("v"))
    if cluster.group().endswith(_NATIVE_ER_CLUSTERS):
        return None
    return _nucleus_at(nuclei, m.start("v"))


def _ie_stress(base: str, nuclei: tuple[Nucleus, ...]) -> int | None:
    m = re.search(r"(?P<pre>[a-z]{0,3})(?P<v>ie)(?:s|ën|en)?$", base)
    if m and base.endswith(("knie", "drie", "knieën", "zien", "dien", "tien")):
        return None
    if not m or len(nuclei) < 2:
        return None
    v = _nucleus_at(nuclei, m.start("v"))
    if v is None or nuclei[v].spelling != "ie":
        return None
    pre = m.group("pre")
    prev_idx = v - 1
    if pre.endswith(("ti", "ci")) or (pre.endswith(("t", "c")) and not pre.endswith(("st",))):
        if base[: m.start("v")].endswith("crat"):
            return v
        return prev_idx  # natie, politie, provincie: stress before -tie
    if pre.endswith(("si",)) or (pre[-1:] == "s" and pre[-2:-1] in ("i", "u", "r", "l", "s")):
        return prev_idx  # visie, illusie, versie, passie
    if len(pre) >= 2 and pre[-1] == pre[-2]:
        return prev_idx  # bakkie, pakkie: colloquial diminutives
    return v


def _final_stress(base: str, nuclei: tuple[Nucleus, ...]) -> int | None:
    """Stress on a heavy loan-suffix syllable (natuur, persoon, moment, universiteit)."""
    stem = _UNSTRESSED_DERIVATION.sub("", base) or base
    candidates = [stem]
    inflected = _INFLECTION.sub("", stem)
    if inflected and inflected != stem:
        candidates.append(inflected)
        # double consonant before an ending: momenten -> moment, prinsessen -> prinses
        if len(inflected) > 2 and inflected[-1] == inflected[-2]:
            candidates.append(inflected[:-1])
    for cand in candidates:
        cand_nuclei = [n for n in nuclei if n.end <= len(cand)]
        if len(cand_nuclei) < 2:
            continue
        last = cand_nuclei[-1]
        tail = cand[last.start:]
        m = _STRESSED_FINALS.search(cand)
        m_ok = bool(m) and m.start("v") == last.start
        if cand != stem and (re.fullmatch(r"[aou][^aeiouy]", tail) or tail == "et"):
            tail = last.spelling + tail  # kometen, soldaten, minuten: open syllable = long
            m_ok = True
        syllable = _onset(cand[: last.start]) + tail
        if _particle_before(cand, cand_nuclei) and tail in _COMPOUND_HEADS:
            continue  # op-eisen: particle + verb
        if (m_ok and tail in _LIGHT_ONLY_SHAPES
                and _light_open_before(cand, cand_nuclei, with_schwa=False)
                and not cand.startswith("na")):
            return _nucleus_at(nuclei, last.start)  # pi-LAAR, ba-NAAN (but LE-raar, OP-staan)
        if m_ok and tail in _STRESSED_FINAL_SHAPES:
            if syllable in _COMPOUND_HEADS and not _light_open_before(cand, cand_nuclei,
                                                                      with_schwa=False):
                continue
            return _nucleus_at(nuclei, last.start)
        m2 = _STRESSED_SHORT_FINALS.search(cand)
        if m2:
            vstart = next(m2.start(g) for g in ("v1", "v2", "v3", "v4") if m2.group(g))
            if vstart == last.start and syllable not in _SHORT_COMPOUND_HEADS:
                return _nucleus_at(nuclei, last.start)
    return None


_PARTICLES = ("op", "af", "om", "uit", "aan", "toe", "mee", "door", "weg", "bij", "in", "neer",
              "los", "vast")


def _particle_before(word: str, nuclei: list[Nucleus] | tuple[Nucleus, ...]) -> bool:
    """Whether the word is a separable particle + a one-syllable-later root (op-eisen)."""
    if len(nuclei) < 2:
        return False
    prev, last = nuclei[-2], nuclei[-1]
    return prev is nuclei[0] and any(
        word.startswith(p) and prev.end <= len(p) <= last.start for p in _PARTICLES)


def _light_open_before(word: str, nuclei: list[Nucleus], with_schwa: bool = True) -> bool:
    """mu-ziek, po-li-tiek: a short open syllable before marks a loan, not a compound."""
    if len(nuclei) < 2:
        return False
    prev, last = nuclei[-2], nuclei[-1]
    between = word[prev.end:last.start]
    if _particle_before(word, nuclei):
        return False  # op-eisen, af-logen: a separable particle, not a light loan syllable
    vowels = {"a", "o", "u", "i", "e"} if with_schwa else {"a", "o", "u", "i"}
    return prev.spelling in vowels and (
        len(between) <= 1 or bool(re.fullmatch(r"[bdgkptfv][rl]", between))
    )


def _onset(before: str) -> str:
    """The consonants that open the next syllable: the longest legal onset ending ``before``."""
    cluster = re.search(r"[^aeiouy]*$", before).group()
    for k in range(min(len(cluster), 4), 0, -1):
        if _ONSETS.match(cluster[-k:] + "a"):
            return cluster[-k:]
    return ""


_PATTERN_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # feminine -es/-esse and -in: prinses, zangeres, koningin, vriendin
    (re.compile(r"[nrs](?P<v>e)s(?:sen|se|sen)?$"), "fem"),
    (re.compile(r"(?:ng|nd|ld|er|av|oer)(?P<v>i)n(?:nen)?$"), "fem"),
    (re.compile(r"(?P<v>e)(?:tt|ss)e[sn]?$"), "long"),
    (re.compile(r"(?P<v>i)sme[n]?$"), "long"),
    (re.compile(r"(?P<v>[aouie]|oe|ie)(?:[dgnszrtlkmv]|ch)e[sn]?$"), "vce"),
    (re.compile(r"[^aeiou](?P<v>ee)(?:s|ën|en)?$"), "ee"),
    (re.compile(r"(?P<v>eau)[sx]?$"), "any"),
    (re.compile(r"(?P<v>ee)rd(?:e|en|er|ere)?$"), "eerd"),  # gepubliceerd, geregistreerde
    (re.compile(r"[^aeiouy](?P<v>[aeu])(?:ct|pt)(?:s|en|e)?$"), "any"),  # project, concept
    (re.compile(r"[aeiou]gr(?P<v>aa)f$"), "any"),  # fotograaf, paragraaf
    (re.compile(r"[aeiou]gr(?P<v>a)f(?:en|ie|ieën|isch|ische)?$"), "any"),
    (re.compile(r"(?P<v>[aeiouy]|oe|ie|ij|ei|au|ou|aa|oo)[^aeiouy]*isch(?:e|en)?$"), "any"),
    (re.compile(r"(?P<v>e)um$"), "long"),
    (re.compile(r"(?P<v>a|o)ges?$"), "age"),
    (re.compile(r"(?:[^aeioucks]|[aeiou][bdfgkmnprstvz]?[bdfgkpt])(?P<v>e)t$"), "et"),
    (re.compile(r"[^l](?P<v>ij)(?:en|s|e)?$"), "ij"),
)
_VCE_EXCLUDE = re.compile(r"(?:ige|igen|ische|ischen|ijke|ijken|zame|zamen|bare|baren|loze|lozen"
                          r"|achtige|ste|sten|che|chen|ende|enden|ere|eren|ele|elen)$")
_IJ_HEADS = {"rij", "vrij", "blij", "wij", "mij", "zij", "prij", "brij", "lij"}
_EE_HEADS = {"zee", "thee", "vee", "twee", "snee", "fee"}


def _pattern_stress(base: str, nuclei: tuple[Nucleus, ...]) -> int | None:
    for pattern, kind in _PATTERN_RULES:
        m = pattern.search(base)
        if not m:
            continue
        v = _nucleus_at(nuclei, m.start("v"))
        if v is None or nuclei[v].start != m.start("v"):
            continue
        if kind == "vce" and (len(nuclei) < 3 or _VCE_EXCLUDE.search(base)
                              or nuclei[v].spelling not in {"a", "o", "u", "i"}
                              or not _light_open_before(base, list(nuclei[: v + 1]))):
            continue
        if kind == "ij" and not re.search(r"[ae]rij(?:en|s|e)?$", base) and any(
            base.endswith(h) or base.endswith(h + "en") for h in _IJ_HEADS
        ) and not base.endswith(("bij", "zij")):
            continue
        if kind == "ee" and any(base.endswith(h) or base.endswith(h + "ën") for h in _EE_HEADS):
            continue
        if kind in ("long", "fem") and len(nuclei) < 2:
            continue
        if kind == "age" and (len(nuclei) < 3 or _particle_before(base, nuclei[: v + 1])):
            continue
        if kind == "eerd" and re.match(r"(?:aan|af|in|op|uit|door|mee|weg|toe|na|om)ge", base):
            continue  # AAN-ge-meerd: the separable particle keeps the stress
        if kind == "et" and (v == 0 or nuclei[v - 1].spelling == "e"):
            continue  # internet, helmet-like: the e before is a schwa
        return v
    return None


def _romance_stress(base: str, nuclei: tuple[Nucleus, ...]) -> int | None:
    """Agenda, Johanna, Anita, cappuccino: -a/-o words stress a heavy or i penult."""
    if len(nuclei) < 3:
        return None
    if base.endswith(("ica", "ika")):
        return len(nuclei) - 3  # A-me-ri-ka, har-MO-ni-ka
    last, penult = nuclei[-1], nuclei[-2]
    if last.end != len(base) or last.spelling not in {"a", "o"}:
        return None
    between = base[penult.end:last.start]
    heavy = len(between) >= 2 and between != "ch" and not re.fullmatch(r"[bdgkptfv][rl]", between)
    if heavy or (penult.spelling in {"i", "ie"} and len(between) == 1):
        return len(nuclei) - 2
    return None


def _adverb_tail_start(base: str) -> int | None:
    """Letter offset of the stressed last part of an adverbial compound (er|door|HEEN), or None.

    A head (er, daar, onder, tussen ...) is followed by a tail (aan, op, uit, heen ...) or by a
    shorter compound of the same kind, so erdoorheen and ervandaan stress their last part.
    """
    for head in _ADVERB_HEADS:
        if not base.startswith(head) or len(base) == len(head):
            continue
        rest = base[len(head):]
        if rest in _ADVERB_TAILS:
            return len(head)
        inner = _adverb_tail_start(rest)
        if inner is not None:
            return len(head) + inner
    return None


_ZELF = re.compile(r"^(?:me|je|ze|u|zich|mij|jou|hem|haar|ons|hen|hun|uw|hij)zelf(?:de)?$")
# aan-WE-zig, voor-ZICH-tig, on-SCHUL-dig, toe-VAL-lig: a particle before a root with -ig,
# -lijk or -baar loses the stress to the root.
_PARTICLE_ADJECTIVE = re.compile(
    r"^(?P<p>aan|voor|on|op|toe|na|door|uit|af|mis|te)(?P<root>[^aeiouy]+[a-z]*?)"
    r"(?:ig|ige|iger|igst|igste|lijk|lijke|lijker|elijk|elijke|baar|bare|zaam|zame)$")


def _adverb_stress(base: str, nuclei: tuple[Nucleus, ...]) -> int | None:
    if _ZELF.match(base):
        return len(nuclei) - 1 if base.endswith("zelf") else len(nuclei) - 2  # je-ZELF
    start = _adverb_tail_start(base)
    if start is None:
        m = _PARTICLE_ADJECTIVE.match(base)
        if m and any(n.start >= m.end("p") and n.end <= m.end("root") for n in nuclei):
            start = m.end("p")
    return None if start is None else _first_nucleus_from(nuclei, start)


def _lexicon_entry_for_stress(word: str) -> LexiconEntry | None:
    """The lexicon entry of the word or of its stem (hotels, modellen -> hotel, model)."""
    table = lexicon()
    if word in table:
        return table[word]
    for ending in ("s", "'s", "en", "e", "es"):
        stem = word[: -len(ending)] if word.endswith(ending) else ""
        if len(stem) < 3:
            continue
        for cand in (stem, stem[:-1] if len(stem) > 3 and stem[-1] == stem[-2] else ""):
            entry = table.get(cand) if cand else None
            if entry and entry.stress and entry.key is None:
                return entry
    return None


def _source_stress(word: str, nuclei: tuple[Nucleus, ...]) -> int | None:
    """Stress from the shipped pronunciation lexicon, for the word or its inflected stem."""
    found = lexicon_stress(word)
    if found is None:
        for ending in _STEM_ENDINGS:
            stem = word[: -len(ending)] if word.endswith(ending) else ""
            if len(stem) < 3:
                continue
            for cand in (stem, stem[:-1] if len(stem) > 3 and stem[-1] == stem[-2] else ""):
                found = lexicon_stress(cand) if cand else None
                if found is not None:
                    break
            if found is not None:
                break
    return found if found is not None and found < len(nuclei) else None


_STEM_ENDINGS = ("'s", "s", "en", "e", "es", "er", "ere", "st", "ste", "t")


def stress_index(word: str, nuclei: tuple[Nucleus, ...] | None = None,
                 source: bool = True) -> int:
    """Index of the stressed nucleus of a normalised word (0-based; -1 without vowels).

    The hand-made lexicon.tsv first, then the shipped pronunciation lexicon (word or stem),
    then the spelling rules for the words neither knows. ``source=False`` skips the shipped
    lexicon: how the benchmark measures the rules on words they have to guess.
    """
    if nuclei is None:
        nuclei = nuclei_of(word)
    if not nuclei:
        return -1
    entry = _lexicon_entry_for_stress(word)
    if entry and entry.stress:
        return min(entry.stress, len(nuclei)) - 1
    if len(nuclei) == 1:
        return 0
    found = _source_stress(word, nuclei) if source else None
    return found if found is not None else _rule_stress(word, nuclei)


def _rule_stress(word: str, nuclei: tuple[Nucleus, ...]) -> int:
    """Stress by spelling rules alone, for words no lexicon knows."""
    base = base_letters(word)
    for idx, nuc in enumerate(nuclei):
        if nuc.accent in ("é", "è", "ê") and (nuc.accent != "é" or idx == len(nuclei) - 1
                                             or base[nuc.end:] in ("e", "s", "es", "n")):
            return idx
    for rule in (_adverb_stress, _eren_stress, _ie_stress, _final_stress, _pattern_stress,
                 _romance_stress):
        found = rule(base, nuclei)
        if found is not None and 0 <= found < len(nuclei):
            return found
    prefix = _strip_prefix(base, nuclei)
    first = _first_nucleus_from(nuclei, prefix) if prefix else 0
    if first is None:
        return 0
    nuc = nuclei[first]
    nxt = nuclei[first + 1] if first + 1 < len(nuclei) else None
    if (nxt is not None and nxt.start == nuc.end and not (nxt is nuclei[-1] and nxt.spelling == "e")
            and (nuc.spelling == "i" or (nuc.spelling == "e" and len(nuclei) >= 3))):
        return first + 1  # piano, viool, theater: the stress falls after the hiatus
    return first


# --------------------------------------------------------------------------- sounds


def _consonant_sounds(cluster: str, before_vowel: str, after_vowel: str, word_end: bool,
                      word_start: bool) -> list[str]:
    """Sounds of a consonant cluster; ``before_vowel`` is the vowel letter that follows it."""
    out: list[str] = []
    i = 0
    c = cluster
    while i < len(c):
        ch = c[i]
        two = c[i:i + 2]
        three = c[i:i + 3]
        if three == "sch":
            if (word_end and i + 3 == len(c)) or (c[i + 3:] == "" and word_end):
                out.append("s")
            else:
                out += ["s", "x"]
            i += 3
            continue
        if two == "ch":
            out.append("S" if word_start and i == 0 and before_vowel else "x")
            i += 2
            continue
        if two == "ng":
            out.append("N")
            i += 2
            continue
        if two == "nk":
            out += ["N", "k"]
            i += 2
            continue
        if two in ("ph",):
            out.append("f")
            i += 2
            continue
        if two == "th":
            out.append("t")
            i += 2
            continue
        if two == "sj":
            out.append("S")
            i += 2
            continue
        if two == "gh":
            out.append("x")
            i += 2
            continue
        if two == "qu":
            out += ["k", "w"]
            i += 2
            continue
        if ch == "c":
            nxt = c[i + 1] if i + 1 < len(c) else before_vowel[:1]
            if nxt == "c":
                out.append("k")
            elif nxt in ("e", "i", "y"):
                out.append("s")
            else:
                out.append("k")
            i += 1
            continue
        if ch == "x":
            out += ["k", "s"]
            i += 1
            continue
        if ch == "g":
            out.append("x")
            i += 1
            continue
        if ch == "q":
            out.append("k")
            i += 1
            continue
        if ch == "i" and i == len(c) - 1 and i > 0:
            if out and out[-1] in ("t", "s"):
                out[-1] = "S"  # station, pensioen, sociaal
            else:
                out.append("j")
            i += 1
            continue
        if ch == "h" and i > 0:
            i += 1  # silent after a consonant (rh, dh)
            continue
        if ch == "t" and before_vowel.startswith("ie") and i == len(c) - 1 and i > 0 and (
            c[i - 1] in "kcp"
        ):
            out.append("s")  # actie, receptie
            i += 1
            continue
        if ch == "t" and before_vowel.startswith("ie") and i == len(c) - 1 and (
            (i == 0 and after_vowel) or (i > 0 and c[i - 1] in "nrl")
        ) and not word_start:
            out += ["t", "s"]  # natie, portie
            i += 1
            continue
        if ch == "w" and i == 0 and after_vowel in ("eeu", "ieu", "u", "uu"):
            i += 1  # eeuw, nieuw, duw: the w belongs to the vowel sound
            continue
        if ch == "w" and i == 0 and after_vowel in ("ou", "au") and (word_end or len(c) > 1):
            i += 1  # vrouw, blauw: the w is part of the diphthong
            continue
        out.append(ch)
        i += 1
    # drop doubled letters (kk, tt, dt -> one sound)
    deduped: list[str] = []
    for s in out:
        if deduped and deduped[-1] == s:
            continue
        if deduped and {deduped[-1], s} == {"d", "t"}:
            deduped[-1] = "t"
            continue
        deduped.append(s)
    if word_end:
        deduped = [_DEVOICE.get(s, s) for s in deduped]
        while len(deduped) > 1 and deduped[-1] == deduped[-2]:
            deduped.pop()
    return deduped


def _vowel_sound(word: str, base: str, nuclei: tuple[Nucleus, ...], idx: int,
                 stress: int) -> list[str]:
    nuc = nuclei[idx]
    sp = nuc.spelling
    after = base[nuc.end:]
    if nuc.accent == "é":
        return ["e:"]
    if nuc.accent in ("è", "ê"):
        return ["E"]
    if sp == "ij" and idx != stress and re.match(r"k(?:e|en|er|s|heid|st)?$", after) and (
        base[: nuc.start].endswith("l")
    ):
        return ["@"]  # -lijk
    if sp in _DIGRAPH_SOUND:
        sound = _DIGRAPH_SOUND[sp]
        if sp == "ui" and after.startswith("w"):
            sound = "9y"
        return [sound]
    if len(sp) > 1:  # a vowel pair joined by hyphenation (team, blues): read the first
        return [_LONG.get(sp[0], sp[0])]
    cons = re.match(r"[^aeiouy]*", after).group()
    nxt_vowel = after[len(cons):len(cons) + 1]
    if sp == "u" and cons.startswith("w"):
        return ["yw"]
    if sp == "i" and idx != stress and re.match(r"g(?:e|en|er|st|ste|heid|s)?$", after):
        return ["@"]  # -ig
    if sp == "e" and idx != stress:
        return ["@"]  # unstressed e is schwa (be-, ge-, -en, -er, -el, -e)
    open_syllable = (not cons and not nxt_vowel) or (
        nxt_vowel and ((len(cons) <= 1 and cons not in ("x",))
                       or (re.fullmatch(r"[bdgkptfv][rl]|ch", cons) and cons != "ch"))
    )
    if not cons and not nxt_vowel:  # word-final vowel
        return ["@"] if sp == "e" else [_LONG.get(sp, sp)]
    if open_syllable:
        return [_LONG.get(sp, sp)]
    return [_SHORT.get(sp, sp)]


# Elisions as lyrics spell them: clitics that lean on the next word count no syllable ('k heb,
# 't is), the reduced pronouns and articles keep their schwa (m'n, z'n, d'r, 'n).
_ELISIONS: dict[str, tuple[int, tuple[str, ...]]] = {
    "'t": (0, ("t",)), "'k": (0, ("k",)), "'s": (0, ("s",)), "'m": (0, ("m",)),
    "'r": (0, ("r",)), "'n": (1, ("@", "n")), "'ns": (1, ("@", "n", "s")),
    "m'n": (1, ("m", "@", "n")), "z'n": (1, ("z", "@", "n")), "d'r": (1, ("d", "@", "r")),
    "h'r": (1, ("h", "@", "r")), "w'r": (1, ("w", "@", "r")), "'er": (1, ("@", "r")),
}


@lru_cache(maxsize=65536)
def analyse(word: str) -> WordSound:
    """Syllables, stress and sounds of one normalised word (cached: the gutter asks often)."""
    if word in _ELISIONS:
        count, sounds = _ELISIONS[word]
        stress = 0 if count else -1
        start = next((i for i, s in enumerate(sounds) if s == "@"), 0)
        return WordSound(word, count, stress, sounds, start)
    if "'" in word:
        plural = re.fullmatch(r"(.*[aeiouyé])'s", word)
        if plural:  # auto's, baby's: the stem keeps its open vowel
            stem = analyse(plural.group(1))
            return WordSound(word, stem.syllables, stem.stress, (*stem.phonemes, "s"),
                             stem.key_start)
        vowel_n = re.fullmatch(r"(.*[^aeiouy])([aeiou])'n", word)
        if vowel_n:  # zo'n = zoon, da'n
            return analyse(vowel_n.group(1) + vowel_n.group(2) * 2 + "n")
        word = word.replace("'", "")
        if not word:
            return WordSound(word, 0, -1, (), 0)
    if "-" in word:
        parts = [p for p in word.split("-") if p]
        if not parts:
            return WordSound(word, 0, -1, (), 0)
        word = "".join(parts)
    return _analyse_plain(word)


def analyse_by_rules(word: str) -> WordSound:
    """``analyse`` of a plain word without the shipped pronunciation lexicon (uncached): the
    benchmark's view of how the rules do on words the lexicon does not know."""
    return _analyse_plain(word, source=False)


def rhyme_nucleus(word: str, nuclei: tuple[Nucleus, ...], stress: int,
                  source: bool = True) -> int:
    """Index of the nucleus a word rhymes from: its stress, or a compound's last part's.

    kamp|VUUR rhymes on vuur, boeren|ZOON on zoon (see ``compounds``); a word the hand-made
    lexicon lists keeps the stress it gives."""
    split = _compound_split(word, nuclei, stress, source)
    return split[1] if split else stress


def rhyming_part(word: str) -> str:
    """The part of a normalised word that its rhyme falls on: a compound's last part
    (hartaanval -> val), else the word itself."""
    nuclei = nuclei_of(word)
    split = _compound_split(word, nuclei, stress_index(word, nuclei))
    return rhyming_part(split[0]) if split else word


def _compound_split(word: str, nuclei: tuple[Nucleus, ...], stress: int,
                    source: bool = True) -> tuple[str, int] | None:
    """(last part, nucleus the word rhymes from) when the word is a compound whose rhyme
    falls on its last part, else None."""
    from smartlap.craft.compounds import compound_head

    if stress < 0 or stress >= len(nuclei) - 1 or word in lexicon():
        return None
    base = base_letters(word)
    cuts = [(nuclei[k - 1].end, nuclei[k].start) for k in range(1, len(nuclei))]
    head = compound_head(base, stress, cuts)
    if head is None:
        return None
    head_nuclei = nuclei_of(head)
    first = len(nuclei) - len(head_nuclei)
    if [n.spelling for n in nuclei[first:]] != [n.spelling for n in head_nuclei]:
        return None  # the parts do not keep their syllables (zee|eend)
    head_stress = stress_index(head, head_nuclei, source)
    found = first + rhyme_nucleus(head, head_nuclei, head_stress, source)
    return None if _in_derivation_suffix(base, nuclei[found].start) else (head, found)


_ING_END = re.compile(r"ing(?:en|s)?$")
_ERING_END = re.compile(r"ering(?:en|s)?$")  # vergader-ing, belegeer-ing: always -ing


def _in_derivation_suffix(base: str, letter: int) -> bool:
    """Whether ``letter`` lies in the word's unstressed derivational ending: a rhyme cannot
    fall there (wal|gelijk is walg-e-lijk, hou|ding is houd-ing, waarde|ring waardeer-ing)."""
    end = _DERIVATION_END.search(base)
    if end and letter >= end.start():
        return True
    end = _ERING_END.search(base)
    if end and letter >= end.start():
        return True
    end = _ING_END.search(base)
    if end and letter >= end.start():
        stem = base[:end.start()]
        return any(part_zipf(form) for form in (stem, stem + "en", stem + "n"))
    return False


def _analyse_plain(word: str, source: bool = True) -> WordSound:
    entry = lexicon().get(word)
    nuclei = nuclei_of(word)
    base = base_letters(word)
    stress = stress_index(word, nuclei, source)
    rhyme_at = rhyme_nucleus(word, nuclei, stress, source)
    phonemes: list[str] = []
    key_start = 0
    pos = 0
    for idx, nuc in enumerate(nuclei):
        cluster = base[pos:nuc.start]
        prev_vowel = nuclei[idx - 1].spelling if idx else ""
        phonemes += _consonant_sounds(cluster, nuc.spelling, prev_vowel, False, pos == 0)
        if idx == rhyme_at:
            key_start = len(phonemes)
        # a compound's last part keeps its own full vowel (havermelk: m-E-l-k, not m-@-l-k)
        phonemes += _vowel_sound(word, base, nuclei, idx, rhyme_at if idx == rhyme_at else stress)
        pos = nuc.end
    tail = base[pos:]
    if tail == "h" and nuclei:
        tail = ""  # oh, ah, hé-h: a final h after a vowel is not sounded
    if tail:
        phonemes += _consonant_sounds(tail, "", nuclei[-1].spelling if nuclei else "", True,
                                      not nuclei)
    if (len(nuclei) >= 3 and re.search(r"[ao]ges?$", base) and "x" in phonemes
            and not base.startswith(("be", "ge", "ver", "ont", *_PARTICLES))):
        last_x = len(phonemes) - 1 - phonemes[::-1].index("x")
        phonemes[last_x] = "Z"  # garage, horloge, reportage: French zje
    syllables = len(nuclei)
    if entry and entry.syllables is not None:
        syllables = entry.syllables
    if entry and entry.key:
        return WordSound(word, syllables, max(stress, 0), (entry.key,), 0)
    return WordSound(word, syllables, stress, tuple(phonemes), key_start)
