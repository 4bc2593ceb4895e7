"""``align``: ASR words + diarization -> the system's speaker turns.

Sources of words:

* ``oracle``: the wdseg word alignments from ``prepare`` (``utterances.jsonl``)
  with the reference speakers. Utterances without a wdseg file get their
  transcript words spread evenly over the utterance.
* ``whisperx``: one WhisperX-style JSON per dialog, ``ASR/<dialog>.json``:
  ``{"segments": [{"start", "end", "text", "speaker"?, "words": [{"word",
  "start"?, "end"?, "speaker"?}, ...]}, ...]}``, and optionally a diarization
  RTTM (``SPEAKER <dialog> 1 <onset> <dur> ... <speaker> ...``).

Steps (each a function the later stages can import):

1. :func:`assign_speakers`: each timed word goes to the diarization speaker
   whose turns overlap it most (intervaltree); a word overlapping none goes to
   the nearest turn. Without a diarization for the dialog the words' own
   ``speaker`` (or their segment's) is kept.
2. :func:`fill_untimed_words`: words without times are attached to their
   neighbours (the previous timed word, else the next, preferring the same ASR
   segment): they take its time (zero duration) and its speaker, so they join
   its turn. A segment with no
   timed word at all but with times spreads its words over the segment.
   Nothing is dropped.
3. :func:`build_turns`: per dialog and speaker, consecutive words stay in one
   turn unless the pause between them exceeds ``max_gap`` or another speaker
   starts a word inside that pause (a speaker change). Overlapping speech
   (another speaker starting while this one is still in a word) does not end
   a turn.
4. :func:`match_utterances`: each turn gets the reference utterance it overlaps
   most, if overlap / min(turn duration, utterance duration) >= ``min_overlap``,
   else null (for training labels).
5. :func:`turns_to_seglst` -> ``OUT/hyp_turns.json``, SegLST that ``teer score``
   reads: ``session_id, start_time, end_time, speaker, emotion ("<NA>": none
   yet), words, utterance_id``.

Optional: ``--run-whisperx`` runs WhisperX (ASR + word alignment) and
pyannote.audio (diarization) on the dialog wavs first, when those packages are
installed; it writes ``ASR/<dialog>.json`` and ``ASR/diarization.rttm``.
"""
from __future__ import annotations

import argparse
import bisect
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from intervaltree import IntervalTree

from ..config import RecipeConfig, WhisperXConfig, add_config_arguments, data_dir, load_config, override
from ..lib.io_utils import (RecipeError, atomic_write_json, read_segments, report_error, teer_errors, write_segments,
                       write_turns)
from .prepare import load_utterances

EPS = 1e-9


@dataclass
class Word:
    word: str
    start: float | None
    end: float | None
    speaker: str | None = None
    dialog: str = ""
    segment: int = 0                 # index of the ASR segment it came from
    attached: bool = False           # True when its times came from a neighbour


@dataclass
class Turn:
    dialog: str
    speaker: str
    words: list[Word] = field(default_factory=list)
    utterance_id: str | None = None

    @property
    def start(self) -> float:
        return min(w.start for w in self.words)  # type: ignore[type-var]

    @property
    def end(self) -> float:
        return max(w.end for w in self.words)  # type: ignore[type-var]

    @property
    def text(self) -> str:
        return " ".join(w.word for w in self.words)


# --------------------------------------------------------------------------
# inputs

def read_diarization(path: str | Path) -> dict[str, list[tuple[float, float, str]]]:
    """Speaker turns of an RTTM file (read by ``teer.io``; emotion labels may be ``<NA>``):
    ``{dialog: [(start, end, speaker), ...]}``."""
    table = read_segments(path)
    turns: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    # (teer's tables count ticks, ns: as float seconds here)
    start, end = (table.start / 1e9).tolist(), (table.end / 1e9).tolist()
    for f, s, e, k in zip(table.file.tolist(), start, end, table.speaker.tolist()):
        turns[table.files[f]].append((s, e, table.speakers[k]))
    return dict(turns)


def read_whisperx_json(path: str | Path, dialog: str | None = None) -> list[Word]:
    """Words of a WhisperX-style JSON file, in file order (times may be None)."""
    path = Path(path)
    dialog = dialog or path.stem
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise RecipeError(path, err.lineno, f"not valid JSON: {err.msg}") from None
    except OSError as err:
        raise RecipeError(path, None, f"cannot read: {err.strerror}") from None
    segments = doc.get("segments") if isinstance(doc, dict) else None
    if not isinstance(segments, list):
        raise RecipeError(path, None, "expected an object with a 'segments' list (WhisperX output)")
    words: list[Word] = []
    for k, seg in enumerate(segments):
        if not isinstance(seg, dict):
            raise RecipeError(path, None, f"segments[{k}] is not an object")
        seg_words = seg.get("words")
        if seg_words is None:            # segment-level output: one pseudo-word per token
            seg_words = [{"word": w} for w in str(seg.get("text", "")).split()]
        if not isinstance(seg_words, list):
            raise RecipeError(path, None, f"segments[{k}].words is not a list")
        timed_in_seg = []
        for j, w in enumerate(seg_words):
            if not isinstance(w, dict) or "word" not in w:
                raise RecipeError(path, None, f"segments[{k}].words[{j}] has no 'word'")
            start, end = _time(w.get("start"), path, k, j), _time(w.get("end"), path, k, j)
            if (start is None) != (end is None):
                start = end = None
            if start is not None and end < start:
                raise RecipeError(path, None, f"segments[{k}].words[{j}] ends before it starts")
            word = Word(str(w["word"]).strip(), start, end, w.get("speaker") or seg.get("speaker"),
                        dialog, k)
            words.append(word)
            timed_in_seg.append(word)
        # a segment with times but no timed word: spread its words over it
        s0, s1 = _time(seg.get("start"), path, k, None), _time(seg.get("end"), path, k, None)
        if timed_in_seg and all(w.start is None for w in timed_in_seg) and s0 is not None \
                and s1 is not None and s1 >= s0:
            _spread(timed_in_seg, s0, s1)
    return words


def _time(value: Any, path: Path, k: int, j: int | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        where = f"segments[{k}]" + ("" if j is None else f".words[{j}]")
        raise RecipeError(path, None, f"{where}: bad time {value!r}") from None


def _spread(words: Sequence[Word], start: float, end: float) -> None:
    step = (end - start) / max(len(words), 1)
    for i, w in enumerate(words):
        w.start, w.end = start + i * step, start + (i + 1) * step
        w.attached = True


_PUNCT = re.compile(r"[^\w']+")


def oracle_words(records: Iterable[dict]) -> dict[str, list[Word]]:
    """Reference words with reference speakers, per dialog.

    Utterances without a wdseg alignment get their transcript words spread
    evenly over the utterance (one ``<unk>`` if the transcript is empty).
    """
    out: dict[str, list[Word]] = defaultdict(list)
    for r in records:
        if r.get("words"):
            ws = [Word(w, float(s), float(e), r["speaker"], r["dialog"]) for w, s, e in r["words"]]
        else:
            tokens = [t for t in (_PUNCT.sub(" ", r.get("text") or "").upper().split()) if t]
            ws = [Word(t, None, None, r["speaker"], r["dialog"]) for t in tokens or ["<unk>"]]
            _spread(ws, float(r["start"]), float(r["end"]))
        out[r["dialog"]].extend(ws)
    return dict(out)


# --------------------------------------------------------------------------
# the reusable steps

def assign_speakers(words: Sequence[Word], turns: Sequence[tuple[float, float, str]]) -> list[Word]:
    """Give each timed word the speaker whose turns overlap it most.

    ``turns`` are one dialog's diarization ``(start, end, speaker)``. A word
    that overlaps no turn takes the nearest turn's speaker. Untimed words are
    left as they are (see :func:`fill_untimed_words`). Returns ``words``.
    """
    if not turns:
        return list(words)
    tree = IntervalTree()
    for s, e, spk in turns:
        if e > s:
            tree.addi(s, e, spk)
    starts = sorted((s, e, spk) for s, e, spk in turns)
    for w in words:
        if w.start is None:
            continue
        overlap: dict[str, float] = defaultdict(float)
        lo, hi = w.start, max(w.end, w.start + EPS)
        for iv in tree.overlap(lo, hi):
            overlap[iv.data] += min(hi, iv.end) - max(lo, iv.begin)
        if overlap:
            w.speaker = max(sorted(overlap), key=lambda spk: overlap[spk])
        else:
            mid = (w.start + w.end) / 2
            w.speaker = min(starts, key=lambda t: (max(t[0] - mid, mid - t[1], 0.0), t[2]))[2]
    return list(words)


def fill_untimed_words(words: Sequence[Word], source: str = "") -> list[Word]:
    """Attach words without times to their neighbours (in list order).

    An untimed word takes the end time (zero duration) and the speaker of the
    previous timed word, or the start time and speaker of the next one: a
    neighbour from the same ASR segment (``Word.segment``) first, the previous
    one before the next. Raises if there is no timed word at all.
    """
    words = list(words)
    timed = [i for i, w in enumerate(words) if w.start is not None]
    if not timed and words:
        raise RecipeError(source or None, None, "no word has times; cannot place the words")
    for i, w in enumerate(words):
        if w.start is not None:
            continue
        k = bisect.bisect_left(timed, i)
        prev = words[timed[k - 1]] if k > 0 else None
        nxt = words[timed[k]] if k < len(timed) else None
        # a neighbour in the same ASR segment first, the previous one before the next
        if prev is not None and (prev.segment == w.segment or nxt is None
                                 or nxt.segment != w.segment):
            w.start = w.end = prev.end
            w.speaker = prev.speaker
        else:
            w.start = w.end = nxt.start  # type: ignore[union-attr]
            w.speaker = nxt.speaker  # type: ignore[union-attr]
        w.attached = True
    for w in words:
        if w.speaker is None:
            raise RecipeError(source or None, None,
                              f"word {w.word!r} at {w.start:.2f} s has no speaker "
                              "(no diarization and no speaker in the ASR output)")
    return words


def build_turns(words: Sequence[Word], max_gap: float) -> list[Turn]:
    """Group one or more dialogs' timed words into speaker turns.

    A speaker's turn ends at a pause longer than ``max_gap`` or where another
    speaker starts a word inside the pause (speaker change). Turns are sorted
    by (dialog, start, speaker).
    """
    turns: list[Turn] = []
    by_dialog: dict[str, list[Word]] = defaultdict(list)
    for w in words:
        if w.start is None or w.speaker is None:
            raise RecipeError(None, None, f"build_turns: word {w.word!r} has no time or speaker")
        by_dialog[w.dialog].append(w)
    for dialog, ws in by_dialog.items():
        ws = sorted(ws, key=lambda w: (w.start, w.end))
        speakers = sorted({w.speaker for w in ws})  # type: ignore[type-var]
        for spk in speakers:
            own = [w for w in ws if w.speaker == spk]
            others = sorted(w.start for w in ws if w.speaker != spk)
            turn = Turn(dialog, spk, [own[0]])
            for prev, cur in zip(own, own[1:]):
                gap_lo, gap_hi = max(w.end for w in turn.words), cur.start
                k = bisect.bisect_left(others, gap_lo)
                interrupted = k < len(others) and others[k] < gap_hi
                if gap_hi - gap_lo > max_gap or interrupted:
                    turns.append(turn)
                    turn = Turn(dialog, spk, [])
                turn.words.append(cur)
            turns.append(turn)
    turns.sort(key=lambda t: (t.dialog, t.start, t.speaker))
    return turns


def match_utterances(turns: Sequence[Turn], records: Iterable[dict],
                     min_overlap: float) -> list[str | None]:
    """The id of the reference utterance each turn overlaps most, or None.

    A match needs overlap / min(turn duration, utterance duration) of at least
    ``min_overlap``; ties go to the utterance of the same speaker name, then
    the earlier one. Sets ``turn.utterance_id`` and returns the ids.
    """
    trees: dict[str, IntervalTree] = defaultdict(IntervalTree)
    for r in records:
        if r["end"] > r["start"]:
            trees[r["dialog"]].addi(float(r["start"]), float(r["end"]), r)
    out: list[str | None] = []
    for t in turns:
        lo, hi = t.start, t.end
        best, best_key = None, None
        for iv in trees.get(t.dialog, IntervalTree()).overlap(lo, max(hi, lo + EPS)):
            r = iv.data
            ov = min(hi, iv.end) - max(lo, iv.begin)
            shorter = min(hi - lo, iv.end - iv.begin)
            ratio = 1.0 if shorter <= EPS else max(ov, 0.0) / shorter
            if ratio + EPS < min_overlap:
                continue
            key = (ov, r["speaker"] == t.speaker, -iv.begin)
            if best_key is None or key > best_key:
                best, best_key = r["id"], key
        t.utterance_id = best
        out.append(best)
    return out


def turns_to_seglst(turns: Sequence[Turn]) -> list[dict]:
    """SegLST rows for ``teer score`` (emotion ``"<NA>"``, teer's "no emotion", until a model fills it)."""
    return [{
        "session_id": t.dialog, "start_time": round(t.start, 4), "end_time": round(t.end, 4),
        "speaker": t.speaker, "emotion": "<NA>", "words": t.text, "utterance_id": t.utterance_id,
    } for t in turns]


def align_words(words_by_dialog: dict[str, list[Word]], records: list[dict],
                diarization: dict[str, list[tuple[float, float, str]]] | None,
                max_gap: float, min_overlap: float,
                sources: dict[str, str] | None = None) -> list[Turn]:
    """Steps 1-4 for every dialog; returns the matched turns."""
    all_words: list[Word] = []
    for dialog in sorted(words_by_dialog):
        ws = words_by_dialog[dialog]
        if not ws:
            continue
        if diarization is not None and diarization.get(dialog):
            assign_speakers(ws, diarization[dialog])
        all_words.extend(fill_untimed_words(ws, (sources or {}).get(dialog, dialog)))
    turns = build_turns(all_words, max_gap)
    match_utterances(turns, records, min_overlap)
    return turns


# --------------------------------------------------------------------------
# optional: WhisperX + pyannote.audio on the dialog wavs

def whisperx_device(wx_cfg: WhisperXConfig) -> tuple[str, str]:
    """``(device, compute_type)``: the configured ones, else ``cuda`` and ``float16`` when torch
    sees a GPU, ``cpu`` and ``int8`` when it does not."""
    device = wx_cfg.device
    if device is None:
        import torch   # whisperx brings it

        device = "cuda" if torch.cuda.is_available() else "cpu"
    compute_type = wx_cfg.compute_type or ("float16" if device.startswith("cuda") else "int8")
    return device, compute_type


def diarization_pipeline(pipeline_class, wx_cfg: WhisperXConfig, device: str, token: str | None):
    """``whisperx.diarize.DiarizationPipeline`` with the Hugging Face token under the name its
    version takes: ``token`` (whisperx >= 3.8, pyannote.audio 4), ``use_auth_token`` (3.2-3.7);
    a pipeline is named only when ``diarization_model`` is set (3.2 takes no None for it)."""
    import inspect

    params = inspect.signature(pipeline_class).parameters
    key = "token" if "token" in params else "use_auth_token"
    kwargs = {key: token, "device": device}
    if wx_cfg.diarization_model:
        kwargs["model_name"] = wx_cfg.diarization_model
    return pipeline_class(**kwargs)


def diarization_rows(frame, dialog: str) -> list[dict]:
    """The speaker turns of WhisperX's diarization DataFrame (columns ``start``, ``end``,
    ``speaker``) as teer records of ``dialog``."""
    return [{"file": dialog, "start": float(start), "end": float(end), "speaker": str(speaker)}
            for start, end, speaker in zip(frame["start"], frame["end"], frame["speaker"])]


def plain(obj: Any) -> Any:
    """``obj`` with numpy scalars and arrays made Python numbers and lists (for JSON)."""
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if hasattr(obj, "tolist"):        # numpy scalar or array
        return obj.tolist()
    return obj


def run_whisperx(wavs: dict[str, Path], out: Path, wx_cfg: WhisperXConfig) -> None:
    """Write ``out/<dialog>.json`` (WhisperX) and ``out/diarization.rttm``.

    WhisperX's own pipeline, as SER-Align runs it: ``load_model`` (VAD onset
    ``vad_onset``), ``transcribe``, ``align`` (word times), the pyannote diarization of
    ``whisperx.diarize.DiarizationPipeline`` with ``speakers`` as both the minimum and the
    maximum, ``assign_word_speakers``. Needs ``pip install "whisperx>=3.8"`` and, for the
    diarization model, a Hugging Face token in ``HF_TOKEN``; it imports nothing of the
    recipe's model code, so it runs in an environment of its own (README).
    """
    import os

    try:
        import whisperx  # type: ignore[import-not-found]
        from whisperx.diarize import DiarizationPipeline  # type: ignore[import-not-found]
    except ImportError as err:
        raise RecipeError(None, None, f"--run-whisperx needs whisperx >= 3.8 ({err}); pip install "
                          "'whisperx>=3.8' (in an environment of its own: see the recipe README), "
                          "or give --asr DIR with WhisperX JSON files") from None
    device, compute_type = whisperx_device(wx_cfg)
    vad = {"vad_onset": wx_cfg.vad_onset} if wx_cfg.vad_onset is not None else None
    model = whisperx.load_model(wx_cfg.model, device, compute_type=compute_type, language=wx_cfg.language,
                                vad_options=vad)
    align_model, meta = whisperx.load_align_model(language_code=wx_cfg.language, device=device)
    diarize = diarization_pipeline(DiarizationPipeline, wx_cfg, device, os.environ.get("HF_TOKEN"))
    speakers = {"min_speakers": wx_cfg.speakers, "max_speakers": wx_cfg.speakers} if wx_cfg.speakers else {}
    turns = []
    for dialog, wav in sorted(wavs.items()):
        audio = whisperx.load_audio(str(wav))
        result = model.transcribe(audio, batch_size=wx_cfg.batch_size, language=wx_cfg.language)
        result = whisperx.align(result["segments"], align_model, meta, audio, device,
                                return_char_alignments=False)
        spk = diarize(audio, **speakers)
        result = whisperx.assign_word_speakers(spk, result)
        turns += diarization_rows(spk, dialog)
        atomic_write_json(out / f"{dialog}.json", {"segments": plain(result["segments"])})
    from teer.io import from_records

    with teer_errors():
        table = from_records(turns, source="<pyannote diarization>")
    write_segments(out / "diarization.rttm", table)


# --------------------------------------------------------------------------
# the stage

def align(data: str | Path, out: str | Path, cfg: RecipeConfig, verbose: bool = True) -> list[dict]:
    """Write ``out/hyp_turns.json`` from the words and speakers ``align:`` names; returns its rows."""
    acfg = cfg.align
    source = acfg.source
    records = load_utterances(data)
    sources: dict[str, str] = {}
    diar = None
    if source == "oracle":
        words = oracle_words(records)
    elif source == "whisperx":
        asr = acfg.asr
        if not asr:
            raise RecipeError(cfg.path, None, "source whisperx needs align.asr "
                              "(--set align.asr=DIR) or --run-whisperx")
        asr = Path(asr)
        files = sorted(p for p in asr.glob("*.json") if not p.name.startswith("._"))
        if not files:
            raise RecipeError(asr, None, "no <dialog>.json WhisperX files")
        known = {r["dialog"] for r in records}
        words = {}
        for p in files:
            if p.stem not in known:
                raise RecipeError(p, None, f"{p.stem} is not a dialog of the prepared corpus")
            words[p.stem] = read_whisperx_json(p)
            sources[p.stem] = str(p)
        diarization = acfg.diarization
        if diarization is None and (asr / "diarization.rttm").is_file():
            diarization = asr / "diarization.rttm"
        if diarization:
            diar = read_diarization(diarization)
    else:
        raise RecipeError(cfg.path, None, f"align.source must be oracle or whisperx, not {source!r}")
    turns = align_words(words, records, diar, acfg.max_gap, acfg.min_overlap, sources)
    rows = turns_to_seglst(turns)
    write_turns(Path(out) / "hyp_turns.json", rows)
    if verbose:
        matched = sum(r["utterance_id"] is not None for r in rows)
        n_words = sum(len(t.words) for t in turns)
        attached = sum(w.attached for t in turns for w in t.words)
        print(f"{source}: {n_words} words ({attached} placed from neighbours) -> {len(rows)} turns "
              f"in {len({r['session_id'] for r in rows})} dialogs; {matched} matched to an utterance")
        print(f"wrote {Path(out) / 'hyp_turns.json'}")
    return rows


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, help="prepare's output directory (utterances.jsonl); "
                        "default: prepare.out")
    parser.add_argument("--out", type=Path, help="where to write hyp_turns.json (default: --data)")
    add_config_arguments(parser)
    parser.add_argument("--run-whisperx", action="store_true",
                        help="first run WhisperX + pyannote.audio on the dialog wavs into align.asr "
                             "(default OUT/asr), then align its words (align.source whisperx)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress or summary output; errors are still printed")


def main(args: argparse.Namespace) -> int:
    try:
        cfg = load_config(args.config, args.overrides)
        data = data_dir(cfg, args)
        out = args.out or data
        if args.run_whisperx:
            asr = cfg.align.asr or Path(out) / "asr"
            cfg = override(cfg, {"align.source": "whisperx", "align.asr": str(asr)}, "--run-whisperx")
            records = load_utterances(data)
            wavs = {}
            for r in records:
                wav = Path(r["wav"]).parents[3] / "dialog" / "wav" / f"{r['dialog']}.wav"
                wavs[r["dialog"]] = wav
            run_whisperx(wavs, Path(asr), cfg.align.whisperx)
        align(data, out, cfg, verbose=not args.quiet)
    except RecipeError as err:
        return report_error(err)
    return 0
