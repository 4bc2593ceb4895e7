"""Figures (PNG, PDF, SVG, EPS, PS): the emotion confusion matrix, and one file's timeline.

matplotlib is an optional extra (``pip install "teer-scorer[plot]"``), imported only
here and only when a figure is drawn; figures are drawn on a ``Figure`` with
the Agg canvas, without pyplot, so no GUI backend is touched. Files are
written atomically (temporary file, then rename).
"""
from __future__ import annotations

import io
import os

import numpy as np

from .analysis import FALSE_ALARM, MISSED, NONE_LABEL, Confusion
from .extras import install_hint
from .io.writing import atomic_write_bytes
from .messages import sample
from .ticks import TICKS_PER_SECOND

#: the most labels a confusion figure draws (its size grows with them)
MAX_PLOT_LABELS = 60
MISSING = f"plotting needs matplotlib: {install_hint('plot')}"


class PlotError(ValueError):
    """matplotlib is missing, or the figure cannot be drawn (reported as ``teer: error: ...``)."""


def _figure(width: float, height: float):
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise PlotError(MISSING) from None
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def require_matplotlib() -> None:
    """``PlotError`` saying how to install matplotlib where it cannot be imported (``teer plot``
    checks it before scoring)."""
    _figure(1, 1)


def _colours(labels: list[str]) -> dict[str, tuple]:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if len(labels) <= 10 else "tab20"]
    real = [x for x in labels if x != NONE_LABEL]
    out = {label: cmap(i % cmap.N) for i, label in enumerate(real)}
    out[NONE_LABEL] = (0.6, 0.6, 0.6, 1.0)
    return out


#: the formats matplotlib writes without further packages, by file extension
FIGURE_FORMATS = ("png", "pdf", "svg", "eps", "ps")


def figure_format(path: str | os.PathLike) -> str:
    """The format named by ``path``'s extension; ``ValueError`` for one teer cannot write."""
    target = os.fspath(path)
    extension = os.path.splitext(target)[1].lower().lstrip(".")
    if extension not in FIGURE_FORMATS:
        shown = f".{extension}" if extension else "no"
        raise ValueError(f"{target}: {shown} extension: teer plot writes "
                         + ", ".join(f".{f}" for f in FIGURE_FORMATS) + " (the extension chooses the format)")
    return extension


def save_figure(fig, path: str | os.PathLike) -> None:
    """Write the figure in the format its extension names (``figure_format``), so that
    ``path`` holds the old file or the whole new one."""
    fmt = figure_format(path)
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt)
    atomic_write_bytes(path, buffer.getvalue())


def confusion_figure(c: Confusion, title: str = "Emotion confusion (seconds)"):
    """Heat map of the matrix, with the missed column and the false-alarm row.

    Cells are coloured by the share of their reference row (the false-alarm row
    by its share of all false alarms) and labelled in seconds.
    """
    if len(c.labels) > MAX_PLOT_LABELS:
        raise PlotError(f"{len(c.labels)} emotion labels: a confusion figure takes at most {MAX_PLOT_LABELS} "
                        "(teer analyze gives the matrix as a table; --emotion-map merges labels)")
    rows = [*c.labels, FALSE_ALARM]
    cols = [*c.labels, MISSED]
    data = np.zeros((len(rows), len(cols)))
    data[:-1, :-1] = c.matrix
    data[:-1, -1] = c.missed
    data[-1, :-1] = c.false_alarm
    totals = data.sum(axis=1, keepdims=True)
    share = np.divide(data, totals, out=np.zeros_like(data), where=totals > 0)
    fig = _figure(1.6 + 0.9 * len(cols), 1.4 + 0.6 * len(rows))
    ax = fig.add_subplot()
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for i in range(len(rows)):
        for j in range(len(cols)):
            if i == len(rows) - 1 and j == len(cols) - 1:
                continue
            ax.text(j, i, f"{data[i, j]:.1f}", ha="center", va="center", fontsize=9,
                    color="white" if share[i, j] > 0.6 else "black")
    ax.set_xticks(range(len(cols)), cols, rotation=30, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    ax.set_xlabel("hypothesis")
    ax.set_ylabel("reference")
    ax.axhline(len(rows) - 1.5, color="black", linewidth=1)
    ax.axvline(len(cols) - 1.5, color="black", linewidth=1)
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label="share of the row")
    fig.tight_layout()
    return fig


#: the kinds of error a timeline shades, each in a lane of its own: (label, colour)
ERROR_LANES = (("missed", "#252525"), ("false alarm", "#7f3b08"), ("emotion confusion", "#b2182b"),
               ("speaker confusion", "#2166ac"))


def error_spans(sweep, regions: np.ndarray, emotions: bool) -> dict[str, np.ndarray]:
    """Per kind of error (``ERROR_LANES``), which of ``regions`` have it: MS, FA, CONF_emo
    or CONF_spk > 0 there. Without emotions (a DER-only reference, a hypothesis without
    labels) there is no emotion confusion to show."""
    n_ref, n_hyp = sweep.n_ref[regions], sweep.n_hyp[regions]
    agree = np.minimum(n_ref, n_hyp)
    kinds = {"missed": n_ref > agree, "false alarm": n_hyp > agree,
             "emotion confusion": agree > sweep.matched_emo[regions],
             "speaker confusion": agree > sweep.matched_spk[regions]}
    if not emotions:
        del kinds["emotion confusion"]
    return kinds


def timeline_figure(scoring, file: str, start: float | None = None, end: float | None = None):
    """One file, or the window [``start``, ``end``] of it: a lane per reference and per
    hypothesis speaker, segments coloured by emotion; below them, a lane per kind of error
    (missed, false alarm, emotion confusion, speaker confusion), shaded where the scored
    time has it; unscored time (outside the UEM, collars) grey."""
    sweep = scoring.sweep
    if file not in sweep.files:
        raise ValueError(f"no file {file!r} in the inputs (files: {sample(sweep.files, 5)})")
    if start is not None and end is not None and not start < end:
        raise ValueError(f"--start {start:g} is not before --end {end:g}")
    f = sweep.files.index(file)
    emotions = list(sweep.emotions) + [NONE_LABEL]
    colours = _colours(emotions)
    ref_table, hyp_table = scoring.ref, scoring.hyp

    lanes: list[tuple[str, object, np.ndarray, str]] = []  # name, side, speaker index, role
    ref_speakers = np.flatnonzero(sweep.ref.speaker_file == f)
    hyp_speakers = np.flatnonzero(sweep.hyp.speaker_file == f)
    for s in ref_speakers:
        lanes.append((f"ref {ref_table.speakers[sweep.ref.speaker_name[s]]}", sweep.ref, s, "ref"))
    # hypothesis lanes in the order of the reference speakers they are mapped to
    order = sorted(hyp_speakers.tolist(), key=lambda h: (sweep.mapping[h] < 0, sweep.mapping[h], h))
    for h in order:
        name = hyp_table.speakers[sweep.hyp.speaker_name[h]]
        target = sweep.mapping[h]
        if target >= 0:
            name += f" -> {ref_table.speakers[sweep.ref.speaker_name[target]]}"
        lanes.append((f"hyp {name}", sweep.hyp, h, "hyp"))

    in_file = np.flatnonzero((sweep.grid_file == f) & (sweep.duration > 0))
    t0 = sweep.grid_time[in_file] / TICKS_PER_SECOND
    t1 = t0 + sweep.duration[in_file] / TICKS_PER_SECOND
    scored = sweep.scored[in_file]
    kinds = error_spans(sweep, in_file, scoring.report.total.emotions)
    error_lanes = [(label, colour) for label, colour in ERROR_LANES if label in kinds]

    n_lanes = len(lanes) + len(error_lanes)
    fig = _figure(11, 1.6 + 0.45 * max(n_lanes, 1))
    ax = fig.add_subplot()
    _shade(ax, t0[~scored], t1[~scored], "#999999", 0.25)
    used = set()
    for y, (_, side, speaker, role) in enumerate(lanes):
        mine = np.flatnonzero(side.speaker == speaker)
        seg_start = sweep.grid_time[side.i0[mine]] / TICKS_PER_SECOND
        seg_end = sweep.grid_time[side.i1[mine]] / TICKS_PER_SECOND
        labels = [emotions[e] if e >= 0 else NONE_LABEL for e in side.emotion[mine].tolist()]
        for label in dict.fromkeys(labels):
            pick = [i for i, x in enumerate(labels) if x == label]
            ax.broken_barh(list(zip(seg_start[pick], (seg_end - seg_start)[pick])), (y - 0.35, 0.7),
                           facecolors=colours[label], edgecolor="black", linewidth=0.4,
                           hatch="//" if role == "hyp" else None)
            used.add(label)
    for k, (label, colour) in enumerate(error_lanes):
        where = scored & kinds[label]
        _shade(ax, t0[where], t1[where], colour, 0.85, lane=len(lanes) + k)
    n_ref = len(ref_speakers)
    if n_ref and len(lanes) > n_ref:
        ax.axhline(n_ref - 0.5, color="black", linewidth=0.8)
    if error_lanes:
        ax.axhline(len(lanes) - 0.5, color="black", linewidth=0.8)
    ax.set_yticks(range(n_lanes), [name for name, *_ in lanes] + [label for label, _ in error_lanes])
    ax.set_ylim(n_lanes - 0.5, -0.5)
    if len(in_file) or start is not None or end is not None:
        lo = start if start is not None else float(t0.min())
        hi = end if end is not None else float(t1.max())
        ax.set_xlim(lo, hi if hi > lo else lo + 1)
    ax.set_xlabel("time (s)")
    c = scoring.report.files.get(file)
    teer = "" if c is None or c.TEER is None else f"  TEER {100 * c.TEER:.1f}%"
    window = "" if start is None and end is None else f"  [{ax.get_xlim()[0]:g}, {ax.get_xlim()[1]:g}] s"
    ax.set_title(f"{file}{teer}{window}  (grey: not scored; hypothesis hatched)")
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=colours[x], label=x) for x in emotions if x in used]
    handles += [Patch(facecolor="#999999", alpha=0.4, label="not scored")]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def _shade(ax, start: np.ndarray, end: np.ndarray, colour: str, alpha: float, lane: int | None = None) -> None:
    """Shade the spans, over the whole height or over one ``lane``."""
    if len(start) == 0:
        return
    # join touching spans so that the shading has no seams
    new = np.ones(len(start), bool)
    new[1:] = start[1:] > end[:-1]
    first = np.flatnonzero(new)
    last = np.append(first[1:] - 1, len(start) - 1)
    spans = list(zip(start[first], end[last] - start[first]))
    height = (-1e3, 2e3) if lane is None else (lane - 0.35, 0.7)
    ax.broken_barh(spans, height, facecolors=colour, alpha=alpha, linewidth=0, zorder=0 if lane is None else 2)
