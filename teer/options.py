"""The options of one scoring run, resolved from a preset and checked once.

``resolve(preset, collar=..., ...)`` starts from the preset's values
(``teer.presets``), puts the options given (not None) on top and returns a
frozen ``ScoringOptions``; everything downstream (the API, the sweep,
``teer.pyannote``) reads that object and checks nothing again. Every rule about
an option lives here, one function each: its allowed values (``check_option``)
and what a preset fixes (``check_fixed``). The command line only turns text
into values (``teer.commands``) and calls ``resolve``.
"""
from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import presets
from .emotions import EmotionMapLike, EmotionsLike, parse_emotion_map, parse_emotions
from .segments import OptionError, SegmentTable
from .ticks import MAX_TICKS, of_value

REGIONS = ("all", "single", "overlap", "nonoverlap")
UEM_DEFAULTS = ("reference", "union")
NON_TARGET = ("noscore", "drop")
AVERAGES = ("sums", "files")


@dataclass(frozen=True)
class ScoringOptions:
    """What is scored and how: a preset's values with the options given on top.

    Build it with ``resolve``; the fields are those of ``teer.score``, checked.
    """

    preset: presets.Preset
    collar: float
    #: "reference" or "union"; the eder preset's "utterance" (its own scored time)
    uem_default: str
    regions: str
    non_target: str
    average: str
    #: the eder preset's label of reference time outside the emotion events, else None
    neutral: str | None = None
    #: fixed speaker mapping ``{(file, hyp speaker): ref speaker}``, or None (optimal)
    speaker_map: Mapping[tuple[str, str], str] | None = None
    #: extra no-score zones (like collars), or None
    noscore: SegmentTable | None = None
    #: the scored emotion set, or None (every label)
    emotions: tuple[str, ...] | None = None
    #: emotion labels renamed on both sides first, or None
    emotion_map: Mapping[str, str] | None = None

    @property
    def same_speaker_overlap(self) -> str:
        return self.preset.same_speaker_overlap

    @property
    def collar_ticks(self) -> int:
        """The collar in ticks (``collar_ticks``)."""
        return collar_ticks(self.collar)


def collar_ticks(collar: float) -> int:
    """A collar in ticks (``teer.ticks``: the nearest tick, 0.25 s is 250,000,000). Times
    lie within ``MAX_TICKS``: a wider collar removes nothing more, and bounding it keeps
    every boundary plus or minus the collar within int64. (``ScoringOptions`` and the
    sweep's ``teer.engine.SweepOptions`` both read it.)"""
    return min(of_value(collar), MAX_TICKS)


def resolve(
    preset: str | presets.Preset = presets.DEFAULT_PRESET,
    *,
    collar: float | None = None,
    regions: str | None = None,
    uem_default: str | None = None,
    speaker_map: Mapping[tuple[str, str], str] | None = None,
    noscore: SegmentTable | None = None,
    emotions: EmotionsLike = None,
    emotion_map: EmotionMapLike = None,
    non_target: str | None = None,
    average: str | None = None,
    neutral: str | None = None,
) -> ScoringOptions:
    """The preset's options with those given (None = not given) on top, checked.

    An option the preset fixes may only be given the preset's own value (or, for
    ``speaker_map`` and ``noscore``, not at all). Raises ``ValueError`` naming the
    option otherwise (``OptionError`` for a value outside the option's rule).
    """
    chosen = _preset(preset)
    given = dict(collar=collar, regions=regions, uem_default=uem_default, speaker_map=speaker_map,
                 noscore=noscore, non_target=non_target, average=average, neutral=neutral)
    settings: dict[str, Any] = {
        "collar": chosen.collar, "uem_default": chosen.uem_default, "regions": chosen.regions,
        "non_target": chosen.non_target, "speaker_map": None, "noscore": None,
        "average": chosen.average, "neutral": chosen.neutral,
    }
    for name, value in given.items():
        if value is None:
            continue
        if name == "neutral" and chosen.neutral is None:
            raise ValueError(f"neutral (the label of unannotated reference time) belongs to the eder "
                             f"preset; preset {chosen.name} does not label that time")
        check_option(name, value)
        check_fixed(chosen, name, value)
        settings[name] = value
    if emotions is None and non_target not in (None, chosen.non_target):
        raise ValueError(f"non_target={non_target!r} says what happens to reference speech outside "
                         "the scored emotion set: give the set too (emotions, --emotions)")
    return ScoringOptions(chosen, emotions=parse_emotions(emotions), emotion_map=parse_emotion_map(emotion_map),
                          **settings)


def check_fixed(preset: str | presets.Preset, option: str, value: Any, *,
                remedy: str = f"use --preset {presets.DEFAULT_PRESET} to set it") -> None:
    """Raise ``ValueError`` where ``preset`` fixes ``option`` (``Preset.fixed``) and ``value``
    is other than the preset's own (for ``speaker_map`` and ``noscore``: given at all).
    ``value`` None is not given, and always allowed. The rule ``resolve`` applies, for
    configurations that choose options per preset (the IEMOCAP recipe's); ``remedy``, what
    the message tells the user to do instead (by default the CLI's and API's way)."""
    chosen = _preset(preset)
    if value is None or option not in chosen.fixed:
        return
    own = getattr(chosen, option, None)
    if value != own:
        shown = "given" if option in ("speaker_map", "noscore") else repr(value)
        raise ValueError(
            f"preset {chosen.name} fixes {option.replace('_', '-')} "
            f"({'not used' if own is None else repr(own)}); "
            f"{shown} would no longer reproduce it ({remedy})")


def _preset(preset: str | presets.Preset) -> presets.Preset:
    return preset if isinstance(preset, presets.Preset) else presets.get(preset)


def option_names() -> tuple[str, ...]:
    """The keyword options of ``resolve`` (and so of ``teer.score``), in order."""
    return tuple(name for name, p in inspect.signature(resolve).parameters.items()
                 if p.kind is inspect.Parameter.KEYWORD_ONLY)


def of_call(caller: str, preset: str | presets.Preset, options: ScoringOptions | None,
            given: Mapping[str, Any]) -> ScoringOptions:
    """The options of an API call (``teer.score`` and its siblings): ``options`` as resolved
    already (by ``resolve``: taken as they are, not checked again), else ``resolve(preset,
    **given)``. Giving both is a ``TypeError``."""
    check_keywords(given, caller)
    if options is None:
        return resolve(preset, **given)
    if not isinstance(options, ScoringOptions):
        raise TypeError(f"{caller}(): options must be ScoringOptions (teer.options.resolve), "
                        f"not {type(options).__name__}")
    if any(value is not None for value in given.values()) or \
            preset not in (presets.DEFAULT_PRESET, options.preset.name, options.preset):
        raise TypeError(f"{caller}(): give the options resolved (options=) or one by one, not both")
    return options


def check_keywords(options: Mapping[str, Any], caller: str) -> None:
    """Raise ``TypeError`` for a keyword that is not an option, naming the ones there are."""
    unknown = [name for name in options if name not in option_names()]
    if unknown:
        raise TypeError(f"{caller}() got an unexpected keyword argument {unknown[0]!r}; "
                        f"the scoring options are {', '.join(option_names())}")


def with_options(function: Callable) -> Callable:
    """Give ``function(..., **options)`` the signature that lists ``resolve``'s options.

    The options are declared once, on ``resolve``; ``help()`` and ``inspect.signature``
    of a function that forwards them show them in place of ``**options``.
    """
    own = inspect.signature(function)
    params = [p for p in own.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    names = {p.name for p in params}
    params += [p for p in inspect.signature(resolve).parameters.values()
               if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name not in names]
    function.__signature__ = own.replace(parameters=params)
    return function


_CHOICES = {"regions": REGIONS, "uem_default": UEM_DEFAULTS, "non_target": NON_TARGET, "average": AVERAGES}


def check_option(name: str, value: Any) -> None:
    """The rule of option ``name`` (one of ``resolve``'s): raise ``OptionError`` (a
    ``ValueError``) for a value it does not allow, ``TypeError`` for a collar that is no
    number. The one check of each rule: ``resolve`` calls it, and so do direct callers of
    the engine (``teer.engine.SweepOptions.checked``); nothing below checks again."""
    if name in _CHOICES and value not in _CHOICES[name]:
        raise OptionError(name, f"must be one of {', '.join(_CHOICES[name])}, not {value!r}")
    if name == "collar":
        check_seconds(name, value)
    if name == "neutral" and not (isinstance(value, str) and value and not value.isspace()):
        raise OptionError(name, f"must be a non-empty label, not {value!r}")


def check_seconds(name: str, value: Any) -> None:
    """A non-negative, finite number of seconds (the collar, ``teer plot``'s window):
    ``TypeError`` for no number (booleans are none), ``OptionError`` naming ``name`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number of seconds, not {value!r}")
    if not 0 <= value < math.inf:
        raise OptionError(name, f"must be a non-negative finite number of seconds, not {value}")
