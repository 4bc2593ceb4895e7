"""Readers for the IEMOCAP_full_release layout.

Everything here raises :class:`~recipes.iemocap.lib.io_utils.RecipeError` naming
the file (and line) on bad input. Formats:

* ``SessionN/dialog/EmoEvaluation/<dialog>.txt``: a ``%`` header, then per
  utterance a summary line ``[start - end]<TAB>ID<TAB>code<TAB>[v, a, d]``
  followed by per-evaluator ``C-...`` (categorical) and ``A-...`` (attribute)
  lines. Subfolders (``Categorical/``, ``Attribute/``, ``Self-evaluation/``)
  and AppleDouble ``._*`` files are not read.
* ``SessionN/dialog/transcriptions/<dialog>.txt``: ``ID [start-end]: text``;
  lines whose first token is not a proper utterance ID (``..._MXX0``,
  ``M: ...``) are skipped.
* ``SessionN/sentences/ForcedAlignment/<dialog>/<utt>.wdseg``: a
  ``SFrm EFrm SegAScr Word`` header, one row per segment in 10 ms frames
  relative to the utterance (``EFrm`` inclusive), then ``Total score`` /
  ``End of File`` lines. ``<s>``, ``</s>``, ``<sil>`` and ``++NOISE++`` rows
  are not words; ``WORD(2)`` is a pronunciation variant of ``WORD``.
* ``SessionN/sentences/wav/<dialog>/<utt>.wav`` and
  ``SessionN/dialog/wav/<dialog>.wav``: only the headers are read.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import soundfile as sf

from ..config import ALL_CODES
from .io_utils import RecipeError

SESSIONS = tuple(f"Session{i}" for i in range(1, 6))
FRAME = 0.01

#: Ses01F_impro01_M000, Ses01F_script01_1_F012, Ses05M_script01_1b_M003
UTT_ID = re.compile(r"^(?P<dialog>(?P<session>Ses0[1-5])[FM]_[A-Za-z0-9_]+?)_(?P<letter>[FM])\d{3}$")
_NUM = r"(\d+(?:\.\d*)?|\.\d+)"
_SUMMARY = re.compile(
    rf"^\[\s*{_NUM}\s*-\s*{_NUM}\s*\]\s+(\S+)\s+(\S+)\s+\[\s*([^\]]*)\]\s*$")
_TRANSCRIPT = re.compile(rf"^(\S+)\s+\[\s*{_NUM}\s*-\s*{_NUM}\s*\]\s*:\s?(.*)$")
_NON_WORDS = {"<s>", "</s>", "<sil>"}
_VARIANT = re.compile(r"\(\d+\)$")


@dataclass
class Utterance:
    id: str
    dialog: str
    session: str
    speaker: str
    start: float
    end: float
    code: str
    vad: tuple[float, float, float]
    text: str = ""
    wav: str = ""
    #: [WORD, start, end] in dialog time; None when the wdseg file is missing
    words: list[list] | None = None
    source: str = ""          # EmoEvaluation file and line, for messages
    line: int | None = None


@dataclass
class Corpus:
    root: Path
    utterances: list[Utterance]
    dialog_durations: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def parse_utterance_id(utt_id: str) -> tuple[str, str, str] | None:
    """``(dialog, session, speaker)`` of a proper ID, else None (speaker e.g. ``Ses01M``)."""
    m = UTT_ID.match(utt_id)
    if not m:
        return None
    return m["dialog"], m["session"], m["session"] + m["letter"]


def read_text(path: Path) -> str:
    """Text of a corpus file: UTF-8, falling back to Latin-1 for stray bytes."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def find_corpus_root(path: str | Path) -> Path:
    """The ``IEMOCAP_full_release`` directory: ``path`` itself or a child of it."""
    path = Path(path)
    if not path.is_dir():
        raise RecipeError(path, None, "corpus directory does not exist")
    for cand in (path, path / "IEMOCAP_full_release"):
        present = [s for s in SESSIONS if (cand / s).is_dir()]
        if present:
            missing = [s for s in SESSIONS if s not in present]
            if missing:
                raise RecipeError(cand / missing[0], None,
                                  f"missing session directory (IEMOCAP has {', '.join(SESSIONS)})")
            return cand
    raise RecipeError(path, None, "not an IEMOCAP corpus: expected Session1..Session5 in it "
                      "or in IEMOCAP_full_release/ (IEMOCAP_full_release/Session1/dialog/"
                      "EmoEvaluation/*.txt)")


def _listing(directory: Path, pattern: str) -> list[Path]:
    if not directory.is_dir():
        raise RecipeError(directory, None, "missing directory")
    return sorted(p for p in directory.glob(pattern) if p.is_file() and not p.name.startswith("._"))


def read_emo_evaluation(path: Path) -> list[Utterance]:
    """Summary lines of one EmoEvaluation file."""
    dialog = path.stem
    out: list[Utterance] = []
    for number, raw in enumerate(read_text(path).splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("%") or line.startswith(("C-", "A-")):
            continue
        if not line.startswith("["):
            raise RecipeError(path, number, f"unexpected line {_show(line)} (expected "
                              "'[start - end]<TAB>ID<TAB>code<TAB>[v, a, d]' or a C-/A- line)")
        m = _SUMMARY.match(line)
        if not m:
            raise RecipeError(path, number, f"malformed summary line {_show(line)} (expected "
                              "'[start - end]<TAB>ID<TAB>code<TAB>[v, a, d]')")
        start, end, utt_id, code, vad_text = m.groups()
        ident = parse_utterance_id(utt_id)
        if ident is None:
            raise RecipeError(path, number, f"bad utterance ID {utt_id!r}")
        if ident[0] != dialog:
            raise RecipeError(path, number, f"utterance {utt_id} does not belong to dialog {dialog}")
        if code not in ALL_CODES:
            raise RecipeError(path, number, f"unknown emotion code {code!r} "
                              f"(expected one of {', '.join(ALL_CODES)})")
        start_f, end_f = float(start), float(end)
        if end_f <= start_f:
            raise RecipeError(path, number, f"utterance {utt_id} ends ({end}) before it starts ({start})")
        try:
            vad = tuple(float(x) for x in vad_text.split(","))
        except ValueError:
            vad = ()
        if len(vad) != 3:
            raise RecipeError(path, number, f"bad [v, a, d] triple [{vad_text}]")
        out.append(Utterance(id=utt_id, dialog=dialog, session=ident[1], speaker=ident[2],
                             start=start_f, end=end_f, code=code, vad=vad,  # type: ignore[arg-type]
                             source=str(path), line=number))
    return out


def read_transcription(path: Path) -> dict[str, str]:
    """``{utterance ID: text}`` of one transcription file."""
    texts: dict[str, str] = {}
    for number, raw in enumerate(read_text(path).splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        first = line.split(None, 1)[0]
        if parse_utterance_id(first) is None:
            continue                      # e.g. Ses01F_impro01_MXX0, "M: ..." lines
        m = _TRANSCRIPT.match(line)
        if not m:
            raise RecipeError(path, number, f"malformed transcription line {_show(line)} "
                              "(expected 'ID [start-end]: text')")
        if first in texts:
            raise RecipeError(path, number, f"utterance {first} transcribed twice")
        texts[first] = m.group(4).strip()
    return texts


def read_wdseg(path: Path, offset: float = 0.0, limit: float | None = None) -> list[list]:
    """Words ``[WORD, start, end]`` of a wdseg file, ``offset`` added (dialog time).

    Silence rows are dropped, ``(2)`` variants folded into the word, times
    clipped to ``[offset, limit]``.
    """
    words: list[list] = []
    seen_header = False
    for number, raw in enumerate(read_text(path).splitlines(), 1):
        parts = raw.split()
        if not parts:
            continue
        if parts[0] == "SFrm":
            seen_header = True
            continue
        if parts[0] == "Total" or raw.strip().startswith("End of File"):
            continue
        if len(parts) != 4 or not (parts[0].lstrip("-").isdigit() and parts[1].lstrip("-").isdigit()):
            raise RecipeError(path, number, f"malformed wdseg row {_show(raw.strip())} "
                              "(expected 'SFrm EFrm SegAScr Word')")
        if not seen_header:
            raise RecipeError(path, number, "wdseg row before the 'SFrm EFrm SegAScr Word' header")
        sfrm, efrm, token = int(parts[0]), int(parts[1]), parts[3]
        if sfrm < 0 or efrm < sfrm:
            raise RecipeError(path, number, f"bad frame range {sfrm}..{efrm}")
        base = _VARIANT.sub("", token)
        if base in _NON_WORDS or (base.startswith("++") and base.endswith("++")):
            continue
        start = round(offset + sfrm * FRAME, 4)
        end = round(offset + (efrm + 1) * FRAME, 4)
        if limit is not None:
            start, end = min(start, limit), min(end, limit)
        if end > start:
            words.append([base, start, end])
    return words


def wav_duration(path: Path) -> float:
    try:
        info = sf.info(str(path))
    except Exception as err:  # soundfile raises RuntimeError / LibsndfileError
        raise RecipeError(path, None, f"cannot read wav header: {err}") from None
    return info.frames / info.samplerate


def read_corpus(path: str | Path, progress: bool = False) -> Corpus:
    """Read all five sessions; utterances sorted by (dialog, start, id)."""
    root = find_corpus_root(path)
    corpus = Corpus(root=root, utterances=[])
    seen: dict[str, str] = {}
    for session_dir in (root / s for s in SESSIONS):
        emo_files = _listing(session_dir / "dialog" / "EmoEvaluation", "*.txt")
        if not emo_files:
            raise RecipeError(session_dir / "dialog" / "EmoEvaluation", None,
                              "no EmoEvaluation *.txt files")
        tr_dir = session_dir / "dialog" / "transcriptions"
        fa_dir = session_dir / "sentences" / "ForcedAlignment"
        swav_dir = session_dir / "sentences" / "wav"
        dwav_dir = session_dir / "dialog" / "wav"
        for d in (tr_dir, fa_dir, swav_dir, dwav_dir):
            if not d.is_dir():
                raise RecipeError(d, None, "missing directory")
        for emo_file in emo_files:
            dialog = emo_file.stem
            utts = read_emo_evaluation(emo_file)
            tr_file = tr_dir / f"{dialog}.txt"
            if not tr_file.is_file():
                raise RecipeError(tr_file, None, f"missing transcription for dialog {dialog}")
            texts = read_transcription(tr_file)
            dwav = dwav_dir / f"{dialog}.wav"
            if not dwav.is_file():
                raise RecipeError(dwav, None, f"missing dialog wav for {dialog}")
            duration = wav_duration(dwav)
            corpus.dialog_durations[dialog] = duration
            for u in utts:
                if u.id in seen:
                    raise RecipeError(u.source, u.line, f"utterance {u.id} already listed at {seen[u.id]}")
                seen[u.id] = f"{u.source}:{u.line}"
                if u.id not in texts:
                    corpus.warnings.append(f"{tr_file}: no transcription for {u.id}")
                u.text = texts.get(u.id, "")
                wav = swav_dir / dialog / f"{u.id}.wav"
                if not wav.is_file():
                    raise RecipeError(wav, None, f"missing sentence wav for {u.id} ({u.source}:{u.line})")
                wav_duration(wav)
                u.wav = str(wav.resolve())
                if u.start >= duration:
                    raise RecipeError(u.source, u.line, f"utterance {u.id} starts at {u.start} "
                                      f"after the end of {dwav} ({duration:.4f} s)")
                if u.end > duration + FRAME:
                    corpus.warnings.append(f"{u.source}:{u.line}: {u.id} ends after {dwav}; clipped")
                    u.end = round(duration, 4)
                wdseg = fa_dir / dialog / f"{u.id}.wdseg"
                if wdseg.is_file():
                    u.words = read_wdseg(wdseg, offset=u.start, limit=u.end)
                else:
                    corpus.warnings.append(f"{wdseg}: missing; {u.id} has no word alignment")
            corpus.utterances.extend(utts)
        if progress:
            print(f"read {session_dir}", file=sys.stderr)
    corpus.utterances.sort(key=lambda u: (u.dialog, u.start, u.id))
    return corpus


def _show(line: str, width: int = 60) -> str:
    return repr(line if len(line) <= width else line[:width] + "...")
