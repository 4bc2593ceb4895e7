"""Protocol presets: named sets of scoring conventions (``--preset NAME``).

``wu2023`` (the default) is the scoring core as it stands: emotion labels
compared literally, md-eval's speaker mapping and counting, collar 0.25,
reference-extent UEM; it reproduces Wu, Zhang & Woodland (Interspeech 2023).
Every option may be changed on top of it.

``ser-align`` reproduces the evaluation script of SER-Align (Wang, Lee & Chen,
IALP 2025): pyannote.metrics' ``DiarizationErrorRate`` with default settings
(collar 0, no overlap skipping, UEM = reference ∪ hypothesis extent), run on
"speech" labels (MS, FA, TOTAL), on emotion labels (CONF_emo: emotions are
mapped per file by the Hungarian algorithm) and on ``emotion_speaker`` labels
(CONF_emo_spk); reference speech outside the scored emotion set is dropped.
The options that would break that reproduction are fixed: giving them a
different value is an error.

``eder`` reproduces the Emotion Diarization Error Rate of SpeechBrain
(``speechbrain.utils.EDER``, Wang et al. 2023): each file is one speaker's
utterance, scored over all of it (``[0, duration]``) with collar 0; reference
time outside the emotion events has the neutral label; labels are compared by
their first letter; each file's EDER is its TEER under these conventions and
the figure is the mean over files.
"""
from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_PRESET = "wu2023"


@dataclass(frozen=True)
class Preset:
    """A named protocol: the value of every option it sets, and which of them it fixes.

    ``teer.options.resolve`` turns a preset and the options given into ``ScoringOptions``;
    the command line's help texts are derived from these values.
    """

    name: str
    #: one line for ``--preset``'s help
    summary: str
    collar: float
    uem_default: str
    regions: str
    non_target: str
    #: the protocol (``teer.protocols``): how the tables are prepared and the runs combined.
    #: "literal": emotions compared as labels; "hungarian": per-file optimal label mapping;
    #: "first-letter": labels compared by their first letter, one speaker per file (eder)
    protocol: str
    #: "once" (md-eval) or "each" (pyannote: every segment is an item)
    same_speaker_overlap: str
    #: "sums": rates of the summed components; "files": mean of the per-file rates
    average: str = "sums"
    #: the label of reference time outside the emotion events (eder), or None: not labelled
    neutral: str | None = None
    #: options that cannot be given a value other than the preset's
    fixed: tuple[str, ...] = ()
    conventions: dict[str, str] = field(default_factory=dict)


PRESETS: dict[str, Preset] = {
    "wu2023": Preset(
        name="wu2023",
        summary="Wu, Zhang & Woodland 2023; literal emotions, md-eval speaker mapping",
        collar=0.25, uem_default="reference", regions="all", non_target="noscore",
        protocol="literal", same_speaker_overlap="once",
        conventions={
            "emotion_matching": "literal labels",
            "speaker_mapping": "optimal one-to-one (Hungarian) on overlap within the UEM, before collars",
            "same_speaker_overlap": "counted once",
        },
    ),
    "ser-align": Preset(
        name="ser-align",
        summary="the SER-Align evaluation script: pyannote DER on emotion labels",
        collar=0.0, uem_default="union", regions="all", non_target="drop",
        protocol="hungarian", same_speaker_overlap="each",
        fixed=("collar", "uem_default", "regions", "non_target", "speaker_map", "noscore"),
        conventions={
            "emotion_matching": "Hungarian mapping of emotion labels per file (pyannote DER on emotions)",
            "speaker_mapping": "Hungarian mapping of emotion_speaker labels per file (sTEER); "
                               "of speakers (DER)",
            "same_speaker_overlap": "every segment counts (pyannote)",
        },
    ),
    "eder": Preset(
        name="eder",
        summary="SpeechBrain's Emotion Diarization Error Rate: one speaker per utterance, mean over files",
        collar=0.0, uem_default="utterance", regions="all", non_target="noscore",
        protocol="first-letter", same_speaker_overlap="once", average="files",
        neutral="n",  # the label SpeechBrain gives reference time outside the emotion event
        # non_target: dropping an event would make its time neutral, not unscored
        fixed=("collar", "uem_default", "regions", "non_target", "speaker_map", "noscore", "average"),
        conventions={
            "emotion_matching": "first letter of the label (SpeechBrain)",
            "speakers": "one per file (the utterance)",
        },
    ),
}


def get(name: str) -> Preset:
    """The preset called ``name`` (``ValueError`` naming the known ones otherwise)."""
    try:
        return PRESETS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown preset {name!r} (known: {', '.join(PRESETS)})") from None


def describe(option: str) -> str:
    """Each preset's value of ``option``, for help texts: ``0.25 for wu2023, 0.0 for ser-align, ...``."""
    return ", ".join(f"{getattr(p, option)} for {name}" for name, p in PRESETS.items())
