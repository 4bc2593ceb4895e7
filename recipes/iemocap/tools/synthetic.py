"""A small synthetic corpus with the layout and quirks of IEMOCAP_full_release.

IEMOCAP is licensed, so the recipe is tested on this instead. The generator
knows the truth (codes, times, speakers, word alignments) and returns it, so
tests can check every stage against it::

    truth = make_corpus(tmp_path)          # writes tmp_path/IEMOCAP_full_release
    python -m recipes.iemocap.tools.synthetic OUT_DIR

What it copies from the real corpus:

* ``Session{1..5}/dialog/EmoEvaluation/<dialog>.txt``: ``%`` header, summary
  lines ``[start - end]<TAB>ID<TAB>code<TAB>[v, a, d]``, per-evaluator ``C-``
  and ``A-`` lines; the ``Categorical/``, ``Attribute/`` and
  ``Self-evaluation/`` subfolders and AppleDouble ``._*`` files to ignore;
* ``dialog/transcriptions/<dialog>.txt``: ``ID [start-end]: text`` plus lines
  without a proper utterance ID (``..._MXX0``, ``M: ...``); one non-ASCII
  character;
* ``sentences/ForcedAlignment/<dialog>/<utt>.wdseg``: ``SFrm EFrm SegAScr
  Word`` in 10 ms frames relative to the utterance, with ``<s>``, ``</s>``,
  ``<sil>`` and ``WORD(2)`` pronunciation variants; one utterance has none;
* ``dialog/wav/<dialog>.wav`` stereo 16 kHz, ``sentences/wav/<dialog>/<utt>.wav``
  mono 16 kHz, with speech-like audio (harmonic bursts per word);
* both speakers per dialog, utterance IDs whose letter is not the dialog's,
  overlapping turns, runs of one speaker, every emotion code incl. xxx, fru.

By default the corpus carries no emotion: words and voices are drawn the same
way whatever the code, so no model can beat chance on it. ``cue=`` puts the
4-class emotion (neu, hap+exc, ang, sad) into it, so that a test can tell a
model that learns from one that does not:

* ``audio``: each emotion its own voice relative to the speaker's own (pitch,
  formant brightness, speaking rate, energy: :data:`AUDIO_CUES`), every
  speaker its own base voice, every word its own jitter;
* ``text``: each word is replaced, with probability ``cue_strength``, by one
  of the emotion's words (:data:`TEXT_CUES`, not in the neutral vocabulary);
* ``both``; ``none`` (the default: no cue, and no cue draws).

``cue_strength`` (0..1) scales the audio profiles (a factor m becomes
m ** strength) and is the text replacement probability. The cue draws come
from their own generator: a text cue changes nothing but the words (same codes,
speakers and times as without it); an audio cue changes the times (speaking
rate) and with them the rest of the draws.
Speakers are per session (``Ses01F``), so a leave-one-session-out fold never
tests on a speaker it trained on, as in IEMOCAP.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from ..config import ALL_CODES, CUES, LABEL_SETS, SyntheticConfig

SR = 16000
FRAME = 0.01
CORPUS_DIR = "IEMOCAP_full_release"
NON_ASCII_WORD = "café"

#: the neutral words every transcript is drawn from (text cues replace some of them)
VOCAB = ["yeah", "okay", "well", "I", "think", "that", "the", "forms", "are", "here",
         "you", "know", "what", "right", "now", "please", "wait", "fine", "no", "maybe",
         "really", "sure", "listen", "again", "today", "don't", "a", "line", "office"]
_VARIANT = {"THE", "A", "YOU", "ARE", "THAT"}   # written as WORD(2) now and then
_CATEGORY = {"neu": "Neutral", "hap": "Happiness", "exc": "Excited", "ang": "Anger",
             "sad": "Sadness", "fru": "Frustration", "fea": "Fear", "sur": "Surprise",
             "dis": "Disgust", "oth": "Other"}
#: roughly the real corpus's mix: about half the utterances in the 4 classes
_CODE_WEIGHTS = np.array([.2, .05, .1, .1, .1, .15, .03, .03, .02, .02, .2])
#: 4-class label -> (pitch, formant, rate, energy) factors against the speaker's neutral voice
AUDIO_CUES = {"neu": (1.0, 1.0, 1.0, 1.0), "hap": (1.35, 1.5, 1.2, 1.3),
              "ang": (1.2, 2.2, 1.4, 2.0), "sad": (0.75, 0.5, 0.7, 0.5)}
#: 4-class label -> its emotion words (none of them in the neutral vocabulary)
TEXT_CUES = {"neu": ["schedule", "report", "tuesday", "paper"],
             "hap": ["great", "wonderful", "love", "awesome"],
             "ang": ["damn", "hate", "stupid", "furious"],
             "sad": ["sorry", "miss", "lonely", "tired"]}
_APPLEDOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        \x00\x02\x00\x00\x00\x09"


@dataclass
class TruthUtterance:
    id: str
    dialog: str
    session: str
    speaker: str                 # session + letter, e.g. "Ses01M"
    start: float
    end: float
    code: str
    text: str
    #: words as [WORD, start, end] in dialog time (what the wdseg says), even
    #: for the utterance whose wdseg file is missing
    words: list[tuple[str, float, float]]
    has_wdseg: bool = True

    @property
    def speech(self) -> list[tuple[float, float]]:
        """Speech without leading, trailing and between-word silence."""
        segs: list[list[float]] = []
        for _, s, e in self.words:
            if segs and s - segs[-1][1] < 1e-6:
                segs[-1][1] = e
            else:
                segs.append([s, e])
        return [(s, e) for s, e in segs]


@dataclass
class SyntheticTruth:
    root: Path                   # directory given to make_corpus
    corpus: Path                 # root / IEMOCAP_full_release
    utterances: list[TruthUtterance]
    dialogs: dict[str, float] = field(default_factory=dict)   # dialog -> wav duration (s)
    missing_wdseg: list[str] = field(default_factory=list)
    non_ascii_utterance: str | None = None
    junk_transcript_lines: int = 0

    def by_id(self) -> dict[str, TruthUtterance]:
        return {u.id: u for u in self.utterances}

    def class_counts(self, mapping: dict[str, str] | None = None) -> dict[str, int]:
        """Utterances per label of ``mapping`` (default 4-class)."""
        mapping = LABEL_SETS["4class"] if mapping is None else mapping
        return dict(Counter(mapping[u.code] for u in self.utterances if u.code in mapping))

    def session_counts(self, mapping: dict[str, str] | None = None) -> dict[str, int]:
        """Labelled utterances per session under ``mapping`` (default 4-class)."""
        mapping = LABEL_SETS["4class"] if mapping is None else mapping
        return dict(Counter(u.session for u in self.utterances if u.code in mapping))


def _dialog_names(session: int, n: int) -> list[str]:
    kinds = ["impro01", "script01_1", "impro05a", "script02_2", "impro03", "script03_1b"]
    names = []
    for i in range(n):
        letter = "F" if i % 2 == 0 else "M"
        kind = kinds[i % len(kinds)] if i < len(kinds) else f"impro{10 + i:02d}"
        names.append(f"Ses{session:02d}{letter}_{kind}")
    return names


@dataclass
class _Cues:
    """What carries the emotion (see the module docstring) and its own generator."""
    audio: bool
    text: bool
    strength: float
    rng: np.random.Generator
    voices: dict[str, tuple[float, float, float]] = field(default_factory=dict)

    def speaker_voice(self, speaker: str) -> tuple[float, float, float]:
        """(pitch, formant, rate) factors of a speaker's own neutral voice."""
        if speaker not in self.voices:
            self.voices[speaker] = tuple(float(x) for x in self.rng.uniform(0.92, 1.08, size=3))
        return self.voices[speaker]

    def profile(self, code: str) -> tuple[float, float, float, float]:
        label = LABEL_SETS["4class"].get(code)
        if not self.audio or label is None:
            return (1.0, 1.0, 1.0, 1.0)
        return tuple(m ** self.strength for m in AUDIO_CUES[label])  # type: ignore[return-value]

    def words(self, code: str, words: list[str]) -> list[str]:
        label = LABEL_SETS["4class"].get(code)
        if not self.text or label is None:
            return words
        swap = self.rng.random(len(words)) < self.strength
        picks = self.rng.choice(TEXT_CUES[label], size=len(words))
        return [str(p) if sw else w for w, p, sw in zip(words, picks, swap)]


def _word_audio(rng: np.random.Generator, n: int, f0: float,
                formant_factor: float | None = None) -> np.ndarray:
    """A voiced, speech-like burst: harmonics with a moving formant and an envelope.

    ``formant_factor`` (audio cue) scales a formant held near 700 Hz, with
    more harmonics so that a high formant is heard at a low pitch too.
    """
    t = np.arange(n) / SR
    pitch = f0 * (1 + 0.08 * np.sin(2 * np.pi * rng.uniform(2, 5) * t + rng.uniform(0, 6)))
    phase = 2 * np.pi * np.cumsum(pitch) / SR
    base = rng.uniform(500, 900)
    if formant_factor is not None:
        base = formant_factor * (700 + 0.25 * (base - 700))
    formant = base * (1 + 0.3 * np.sin(2 * np.pi * rng.uniform(1, 3) * t))
    sig = np.zeros(n)
    for h in range(1, 9 if formant_factor is None else 17):
        gain = np.exp(-((h * pitch - formant) / 400.0) ** 2) + 0.15 / h
        sig += gain * np.sin(h * phase)
    env = np.hanning(n) ** 0.5 if n > 1 else np.ones(n)
    return 0.25 * sig * env / max(np.abs(sig).max(), 1e-9)


def make_corpus(root: Path, settings: SyntheticConfig | None = None, *,
                code_weights: dict[str, float] | None = None, **changes) -> SyntheticTruth:
    """Write ``root/IEMOCAP_full_release`` and return what it contains.

    ``settings`` (the config's ``synthetic:`` section; None: its defaults) with ``changes``
    (``seed=3, utterances_per_dialog=4``, ...) laid over it say how large it is and what
    carries the emotion: ``cue`` (none, audio, text, both) and ``cue_strength`` (0..1) put
    the 4-class emotion into the audio and/or the words (module docstring).
    ``code_weights`` (code -> weight, others 0) replaces the real corpus's mix
    of emotion codes for the utterances beyond the first eleven of a session
    (one of each code), e.g. to balance the four classes for a learning test.
    """
    settings = dataclasses.replace(settings or SyntheticConfig(), **changes)
    seed, dialogs_per_session = settings.seed, settings.dialogs_per_session
    utterances_per_dialog, cue, cue_strength = settings.utterances_per_dialog, settings.cue, settings.cue_strength
    if utterances_per_dialog < 2 or dialogs_per_session < 1:
        raise ValueError("need at least one dialog per session and two utterances per dialog")
    if cue not in CUES:
        raise ValueError(f"cue must be one of {', '.join(CUES)}, not {cue!r}")
    if not 0.0 <= cue_strength <= 1.0:
        raise ValueError(f"cue_strength must be in [0, 1], not {cue_strength}")
    weights = _CODE_WEIGHTS
    if code_weights is not None:
        unknown = sorted(set(code_weights) - set(ALL_CODES))
        if unknown or not sum(code_weights.values()) > 0:
            raise ValueError(f"code_weights: unknown codes {unknown} or no positive weight")
        weights = np.array([float(code_weights.get(c, 0.0)) for c in ALL_CODES])
        weights = weights / weights.sum()
    rng = np.random.default_rng(seed)
    cues = None if cue == "none" else _Cues(audio=cue in ("audio", "both"), text=cue in ("text", "both"),
                                            strength=float(cue_strength),
                                            rng=np.random.default_rng([seed, 7]))
    root = Path(root)
    corpus = root / CORPUS_DIR
    truth = SyntheticTruth(root=root, corpus=corpus, utterances=[])
    missing_done = False
    non_ascii_done = False
    for s in range(1, 6):
        session = f"Ses{s:02d}"
        sdir = corpus / f"Session{s}"
        n_session = dialogs_per_session * utterances_per_dialog
        # every code appears in every session (first len(ALL_CODES) draws), rest random
        extra = rng.choice(ALL_CODES, size=max(0, n_session - len(ALL_CODES)), p=weights)
        codes = list(ALL_CODES) + list(extra)
        codes = [str(c) for c in codes[:n_session]]
        rng.shuffle(codes)
        for d_index, dialog in enumerate(_dialog_names(s, dialogs_per_session)):
            dcodes = codes[d_index * utterances_per_dialog:(d_index + 1) * utterances_per_dialog]
            utts = _make_dialog(rng, session, dialog, dcodes, cues)
            if not non_ascii_done:
                # the last word of the second utterance becomes a non-ASCII one
                u = utts[1]
                _, s_, e_ = u.words[-1]
                u.words[-1] = (NON_ASCII_WORD.upper(), s_, e_)
                seg = u._segments  # type: ignore[attr-defined]
                i = max(j for j, row in enumerate(seg) if row[0] not in ("<s>", "</s>", "<sil>"))
                seg[i] = (NON_ASCII_WORD.upper(), seg[i][1], seg[i][2])
                head = u.text[:-1].rsplit(" ", 1)[0] if " " in u.text else ""
                u.text = f"{head}, {NON_ASCII_WORD}{u.text[-1]}" if head else f"{NON_ASCII_WORD.capitalize()}{u.text[-1]}"
                truth.non_ascii_utterance = u.id
                non_ascii_done = True
            if s == 2 and not missing_done:
                utts[3].has_wdseg = False
                truth.missing_wdseg.append(utts[3].id)
                missing_done = True
            _check_timeline(utts)
            duration = _write_dialog(rng, sdir, dialog, utts, cues)
            truth.dialogs[dialog] = duration
            truth.junk_transcript_lines += 2
            truth.utterances.extend(utts)
    (corpus / "README.txt").write_text("Synthetic IEMOCAP-shaped corpus for tests.\n")
    return truth


def _check_timeline(utts: list[TruthUtterance]) -> None:
    # after the non-ASCII extension an utterance may run into the next one of
    # its own speaker; the generator keeps same-speaker utterances apart.
    last_end: dict[str, float] = {}
    for u in sorted(utts, key=lambda u: u.start):
        assert u.start > last_end.get(u.speaker, -1.0), "same-speaker utterances overlap"
        last_end[u.speaker] = u.end


def _make_dialog(rng: np.random.Generator, session: str, dialog: str,
                 codes: list[str], cues: _Cues | None = None) -> list[TruthUtterance]:
    utts: list[TruthUtterance] = []
    counters = {"F": 0, "M": 0}
    letter = str(rng.choice(["F", "M"]))
    t = round(float(rng.uniform(0.5, 1.5)), 4)
    prev: TruthUtterance | None = None
    for i, code in enumerate(codes):
        if i > 0:
            same = rng.random() < 0.2
            if not same:
                letter = "M" if letter == "F" else "F"
            if same:
                t = prev.end + rng.uniform(1.6, 2.2)            # a pause > align.max_gap
            elif rng.random() < 0.3:
                # overlap: start inside the previous speaker's last word
                t = prev.words[-1][2] - rng.uniform(0.05, 0.2)
            else:
                t = prev.end + rng.uniform(0.1, 0.8)
            t = round(float(t), 4)
        # words in whole frames relative to the utterance start
        n_words = int(rng.integers(2, 6))
        frame = int(rng.integers(10, 25))                          # <s>
        words: list[tuple[str, float, float]] = []
        seg: list[tuple[str, int, int]] = [("<s>", 0, frame - 1)]
        chosen = [str(w) for w in rng.choice(VOCAB, size=n_words)]
        drawn = chosen    # the main generator's draws follow the words drawn, not the cue's
        rate = 1.0
        if cues is not None:
            chosen = cues.words(code, chosen)
        if cues is not None and cues.audio:
            rate = cues.speaker_voice(f"{session}{letter}")[2] * cues.profile(code)[2]
        for k, w in enumerate(chosen):
            if k > 0 and rng.random() < 0.35:
                sil = int(rng.integers(10, 30))
                sil = sil if rate == 1.0 else max(5, int(round(sil / rate)))
                seg.append(("<sil>", frame, frame + sil - 1))
                frame += sil
            length = int(rng.integers(25, 45))
            length = length if rate == 1.0 else max(8, int(round(length / rate)))
            up = w.upper()
            variant = drawn[k].upper() in _VARIANT and rng.random() < 0.5
            tok = f"{up}(2)" if variant and up in _VARIANT else up
            seg.append((tok, frame, frame + length - 1))
            words.append((up, round(t + frame * FRAME, 4), round(t + (frame + length) * FRAME, 4)))
            frame += length
        trail = int(rng.integers(10, 25))
        seg.append(("</s>", frame, frame + trail - 1))
        frame += trail
        text = " ".join(chosen)
        text = text[0].upper() + text[1:] + str(rng.choice([".", "?", "!"]))
        number = counters[letter]
        counters[letter] += 1
        u = TruthUtterance(
            id=f"{dialog}_{letter}{number:03d}", dialog=dialog, session=session,
            speaker=f"{session}{letter}", start=t, end=round(t + frame * FRAME, 4), code=code,
            text=text, words=words)
        u._segments = seg  # type: ignore[attr-defined]  # wdseg rows, frames
        utts.append(u)
        prev = u
    return utts


def _wdseg_text(u: TruthUtterance) -> str:
    seg = list(u._segments)  # type: ignore[attr-defined]
    lines = [" SFrm  EFrm    SegAScr Word"]
    for tok, s, e in seg:
        score = -(e - s + 1) * 4000 - sum(map(ord, tok)) * 7
        lines.append(f"{s:5d} {e:5d} {score:10d} {tok}")
    total = -sum((e - s + 1) * 4000 for _, s, e in seg)
    lines.append(f" Total score:    {total}")
    lines.append(" End of File")
    return "\n".join(lines) + "\n"


def _write_dialog(rng: np.random.Generator, sdir: Path, dialog: str,
                  utts: list[TruthUtterance], cues: _Cues | None = None) -> float:
    dlg = sdir / "dialog"
    emo = dlg / "EmoEvaluation"
    for sub in ("Categorical", "Attribute", "Self-evaluation"):
        (emo / sub).mkdir(parents=True, exist_ok=True)
    for sub in ("transcriptions", "wav"):
        (dlg / sub).mkdir(parents=True, exist_ok=True)
    fa = sdir / "sentences" / "ForcedAlignment" / dialog
    swav = sdir / "sentences" / "wav" / dialog
    fa.mkdir(parents=True, exist_ok=True)
    swav.mkdir(parents=True, exist_ok=True)
    ordered = sorted(utts, key=lambda u: (u.start, u.id))

    # EmoEvaluation summary file (+ the things to ignore)
    lines = ["% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]", ""]
    cat_lines, atr_lines = [], []
    for u in ordered:
        v, a, d = (float(x) for x in rng.choice([1.5, 2.0, 2.5, 3.0, 3.5, 4.0], size=3))
        lines.append(f"[{u.start:.4f} - {u.end:.4f}]\t{u.id}\t{u.code}\t[{v:.4f}, {a:.4f}, {d:.4f}]")
        if u.code == "xxx":
            cats = ["Neutral", "Anger", "Sadness"]
        else:
            cats = [_CATEGORY[u.code]] * 2 + [str(rng.choice(list(_CATEGORY.values())))]
        for ev, cat in zip(("E1", "E2", "F1"), cats):
            lines.append(f"C-{ev}:\t{cat};\t()")
            cat_lines.append(f"{u.id} :{cat}; ()")
        for ev in ("E3", "F1"):
            lines.append(f"A-{ev}:\tval {int(v)}; act {int(a)}; dom  {int(d)};\t()")
            atr_lines.append(f"{u.id} :act {int(a)}; val {int(v)}; dom {int(d)}; ()")
        lines.append("")
    (emo / f"{dialog}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (emo / f"._{dialog}.txt").write_bytes(_APPLEDOUBLE)
    (emo / "Categorical" / f"{dialog}_e1_cat.txt").write_text("\n".join(cat_lines) + "\n")
    (emo / "Attribute" / f"{dialog}_e3_atr.txt").write_text("\n".join(atr_lines) + "\n")
    (emo / "Self-evaluation" / f"{dialog}.txt").write_text(
        "[0.0000 - 1.0000]\tnot a summary line\n" + "\n".join(cat_lines[:3]) + "\n")

    # transcriptions: proper lines plus lines without a proper ID
    tr = []
    for k, u in enumerate(ordered):
        tr.append(f"{u.id} [{u.start:08.4f}-{u.end:08.4f}]: {u.text}")
        if k == 1:
            tr.append(f"{dialog}_MXX0 [{u.start:08.4f}-{u.end:08.4f}]: [BREATHING]")
        if k == 3:
            tr.append("M: [LAUGHTER]")
    (dlg / "transcriptions" / f"{dialog}.txt").write_text("\n".join(tr) + "\n", encoding="utf-8")
    (dlg / "transcriptions" / f"._{dialog}.txt").write_bytes(_APPLEDOUBLE)

    # audio: each actor's own channel loud, the other one leaking in
    duration = round(max(u.end for u in utts) + 0.5, 4)
    n = int(round(duration * SR))
    audio = {"F": np.zeros(n), "M": np.zeros(n)}
    for u in utts:
        letter = u.speaker[-1]
        f0 = 210.0 if letter == "F" else 120.0
        formant, energy = None, 1.0
        if cues is not None and cues.audio:
            pitch, formant, _ = cues.speaker_voice(u.speaker)
            p_emo, f_emo, _, energy = cues.profile(u.code)
            f0, formant = f0 * pitch * p_emo, formant * f_emo
        for _, s, e in u.words:
            a, b = int(round(s * SR)), min(n, int(round(e * SR)))
            burst = _word_audio(rng, b - a, f0 * rng.uniform(0.9, 1.1), formant)
            audio[letter][a:b] += burst if energy == 1.0 else energy * burst
    noise = 1e-3 * rng.standard_normal((n, 2))
    stereo = np.stack([audio["F"] + 0.3 * audio["M"], audio["M"] + 0.3 * audio["F"]], axis=1) + noise
    sf.write(dlg / "wav" / f"{dialog}.wav", np.clip(stereo, -1, 1), SR, subtype="PCM_16")
    (dlg / "wav" / f"._{dialog}.wav").write_bytes(_APPLEDOUBLE)
    for u in utts:
        ch = 0 if u.speaker[-1] == "F" else 1
        a, b = int(round(u.start * SR)), int(round(u.end * SR))
        sf.write(swav / f"{u.id}.wav", np.clip(stereo[a:b, ch], -1, 1), SR, subtype="PCM_16")
        if u.has_wdseg:
            (fa / f"{u.id}.wdseg").write_text(_wdseg_text(u), encoding="utf-8")
    (fa / f"._{ordered[0].id}.wdseg").write_bytes(_APPLEDOUBLE)
    (swav / f"._{ordered[0].id}.wav").write_bytes(_APPLEDOUBLE)
    return duration


def main(argv: list[str] | None = None) -> int:
    from ..config import add_config_arguments, load_config
    from ..lib.io_utils import RecipeError, report_error

    parser = argparse.ArgumentParser(prog="python -m recipes.iemocap.tools.synthetic",
                                     description="Write a synthetic IEMOCAP-shaped corpus; its size and cues "
                                                 "are the config's synthetic: section.")
    parser.add_argument("out", type=Path, help="directory to hold IEMOCAP_full_release")
    add_config_arguments(parser)
    args = parser.parse_args(argv)
    try:
        cfg = load_config(args.config, args.overrides)
    except RecipeError as err:
        return report_error(err)
    truth = make_corpus(args.out, cfg.synthetic)
    print(f"wrote {truth.corpus}: {len(truth.utterances)} utterances in "
          f"{len(truth.dialogs)} dialogs; 4-class counts {truth.class_counts()}")
    return 0

if __name__ == "__main__":
    sys.exit(main())
