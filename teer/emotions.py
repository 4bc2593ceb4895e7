"""Emotion sets: merging labels (``--emotion-map``) and the scored set (``--emotions``).

The map is applied first, to both sides, once (``a=b,b=c`` sends ``a`` to ``b``,
not to ``c``). Then reference speech whose emotion is outside the scored set is
either a **no-score zone** (``non_target="noscore"``: that time is removed from
scoring, like a collar) or **dropped** (``"drop"``: those reference segments are
deleted, so hypothesis speech there is false alarm). Hypothesis segments are
never removed: a hypothesis emotion outside the set (e.g. ``UNK`` for "no
prediction") is simply an emotion no reference speech has.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Union

import numpy as np

from .segments import NO_EMOTION, InputError, SegmentTable, encode

EmotionsLike = Union[str, Sequence[str], None]
EmotionMapLike = Union[str, os.PathLike, Mapping[str, str], None]


def parse_emotions(emotions: EmotionsLike) -> tuple[str, ...] | None:
    """``"neu,hap"`` or ``["neu", "hap"]`` as a tuple of distinct labels; None stays None."""
    if emotions is None:
        return None
    if not isinstance(emotions, (str, Iterable)) or isinstance(emotions, (bytes, Mapping)):
        raise TypeError(f"emotions must be a comma-separated string or a list of labels, not {emotions!r}")
    items = emotions.split(",") if isinstance(emotions, str) else list(emotions)
    labels = [str(e).strip() for e in items]
    if not labels or any(not e for e in labels):
        raise ValueError(f"emotions must be a non-empty comma-separated list of labels, not {emotions!r}")
    if any(any(c.isspace() for c in e) for e in labels):
        raise ValueError(f"emotion labels cannot contain whitespace: {emotions!r}")
    seen = set()
    duplicates = [e for e in labels if e in seen or seen.add(e)]
    if duplicates:
        raise ValueError(f"emotion {duplicates[0]!r} is listed twice in {emotions!r}")
    return tuple(labels)


def parse_emotion_map(spec: EmotionMapLike) -> dict[str, str] | None:
    """An emotion map from a mapping, ``"a=b,c=d"``, or a file of lines ``a b`` / ``a=b``.

    A string naming an existing file is read as a file; otherwise it must be
    ``a=b`` pairs. In a file, blank lines and lines starting with ``#`` are
    ignored. A label mapped twice (to different labels) is an error.
    """
    if spec is None:
        return None
    if not isinstance(spec, (str, os.PathLike, Mapping)):
        raise TypeError(f"emotion_map must be a mapping, 'a=b,...' or a path, not {spec!r}")
    if isinstance(spec, Mapping):
        pairs = [(str(k), str(v), None) for k, v in spec.items()]
        source = "emotion map"
    elif isinstance(spec, os.PathLike) or os.path.isfile(str(spec)) or "=" not in str(spec):
        if not isinstance(spec, os.PathLike) and not os.path.exists(spec):
            _check_map_syntax(str(spec))
        return _read_map_file(spec)
    else:
        source = "--emotion-map"
        pairs = []
        for item in str(spec).split(","):
            if not item.strip():
                continue
            if item.count("=") != 1:
                raise ValueError(f"{source}: expected label=label, not {item.strip()!r}")
            a, b = (x.strip() for x in item.split("="))
            pairs.append((a, b, None))
    return _build(pairs, source)


def _check_map_syntax(spec: str) -> None:
    """A map given in another syntax (``exc:hap``) gets the right one in the error."""
    pairs = [item.strip() for item in spec.split(",") if item.strip()]
    for separator in (":", "->", "=>"):
        if pairs and all(item.count(separator) == 1 and all(side.strip() for side in item.split(separator))
                         for item in pairs):
            right = ",".join("=".join(side.strip() for side in item.split(separator)) for item in pairs)
            raise ValueError(f"--emotion-map: {spec!r} is not a file; a map is written "
                             f"label=label: {right}")
    if "/" not in spec and "." not in spec:
        raise ValueError(f"--emotion-map: {spec!r} is neither a file nor a map (label=label,...)")


def _read_map_file(path: str | os.PathLike) -> dict[str, str]:
    from .io.text import check_text, read_bytes

    data, source = read_bytes(path)
    pairs = []
    for number, line in enumerate(check_text(data, source).splitlines(), 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        fields = text.split("=") if "=" in text else text.split()
        fields = [f.strip() for f in fields]
        if len(fields) != 2 or not all(fields) or any(any(c.isspace() for c in f) for f in fields):
            raise InputError(source, number, f"expected 'label label' or 'label=label', not {text!r}")
        pairs.append((fields[0], fields[1], number))
    return _build(pairs, source)


def _build(pairs, source: str) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for a, b, number in pairs:
        if not a or not b:
            _fail(source, number, f"empty label in {a}={b}")
        if a in mapping and mapping[a] != b:
            _fail(source, number, f"emotion {a!r} is mapped twice ({mapping[a]!r} and {b!r})")
        mapping[a] = b
    return mapping


def _fail(source: str, number: int | None, problem: str):
    if number is None:
        raise ValueError(f"{source}: {problem}")
    raise InputError(source, number, problem)


def describe_map(mapping: Mapping[str, str]) -> str:
    """``exc=hap,...`` for the settings line."""
    return ",".join(f"{a}={b}" for a, b in mapping.items())


def apply_map(table: SegmentTable, mapping: Mapping[str, str] | None) -> SegmentTable:
    """The table with every emotion label replaced by its image under ``mapping``."""
    if not mapping:
        return table
    vocab, index = encode([mapping.get(e, e) for e in table.emotions])
    emotion = np.where(table.emotion == NO_EMOTION, NO_EMOTION,
                       index[np.maximum(table.emotion, 0)] if len(index) else table.emotion)
    return table.relabel_emotions(vocab, emotion)


def outside(table: SegmentTable, emotions: Sequence[str]) -> np.ndarray:
    """Per segment: it has an emotion, and that emotion is not in ``emotions``."""
    wanted = set(emotions)
    in_set = np.asarray([e in wanted for e in table.emotions], dtype=bool)
    has = table.emotion != NO_EMOTION
    result = np.zeros(len(table), bool)
    if len(in_set):
        result[has] = ~in_set[table.emotion[has]]
    return result


def restrict(ref: SegmentTable, emotions: Sequence[str] | None, non_target: str
             ) -> tuple[SegmentTable, SegmentTable | None, list[str]]:
    """Apply the scored set to the reference.

    Returns the reference to score, the no-score zones (or None) and warnings.
    """
    if emotions is None:
        return ref, None, []
    warnings = []
    if len(ref) and (ref.emotion == NO_EMOTION).all():
        return ref, None, ["emotions given but the reference has no emotion labels: nothing restricted"]
    # (labels of the set that the inputs lack: ``checks.emotion_option_warnings``)
    mask = outside(ref, emotions)
    if not mask.any():
        return ref, None, warnings
    if non_target == "drop":
        return ref.select(~mask), None, warnings
    zones = SegmentTable.from_columns(
        [ref.files[i] for i in ref.file[mask]], ref.start[mask], ref.end[mask],
        ["<non-target>"] * int(mask.sum()), [None] * int(mask.sum()), origin=ref.origin[mask],
        source=ref.source, in_ticks=True)
    return ref, zones, warnings


def concat_zones(a: SegmentTable | None, b: SegmentTable | None) -> SegmentTable | None:
    """Two no-score tables as one (either may be None)."""
    if a is None or len(a) == 0:
        return b
    if b is None or len(b) == 0:
        return a
    return SegmentTable.from_columns(
        [a.files[i] for i in a.file] + [b.files[i] for i in b.file],
        np.concatenate([a.start, b.start]), np.concatenate([a.end, b.end]),
        ["<no-score>"] * (len(a) + len(b)), [None] * (len(a) + len(b)))
