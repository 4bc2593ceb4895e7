"""TEER, sTEER and DER computed with pyannote.metrics, the way the papers did.

Run as a whole process by ``benchmarks/run.py`` (it is timed, reading included)::

    python benchmarks/pyannote_scorers.py wu|seralign REF.rttm HYP.rttm [--collar C]

* ``wu`` -- Wu, Zhang & Woodland (Interspeech 2023): TEER is pyannote's
  ``IdentificationErrorRate`` on emotion labels; DER is ``DiarizationErrorRate``
  on speaker labels; sTEER renames hypothesis speakers by the DER optimal
  mapping, then ``IdentificationErrorRate`` on joint (speaker, emotion) labels.
* ``seralign`` -- the SER-Align way: three ``DiarizationErrorRate`` runs, on
  all-"speech" labels (detection), on emotion labels and on joint
  ``emotion_speaker`` labels (each with its own optimal mapping).

Both score, per file, the extent of reference and hypothesis together (the UEM
that spyder uses by default and ``teer --uem-default union``); ``--collar`` is
teer's / md-eval's (seconds each side), passed to pyannote as its total width 2C.
Prints one JSON object with the rates and components.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict


def read_rttm(path: str) -> dict[str, list[tuple[float, float, str, str]]]:
    """{file: [(start, end, speaker, emotion)]} from an RTTM with the emotion in field 6."""
    out: dict[str, list] = defaultdict(list)
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) < 9 or p[0] != "SPEAKER":
                continue
            start = float(p[3])
            out[p[1]].append((start, start + float(p[4]), p[7], p[5]))
    return out


def annotation(rows, uri, label):
    from pyannote.core import Annotation, Segment

    ann = Annotation(uri=uri)
    for k, row in enumerate(rows):
        ann[Segment(row[0], row[1]), k] = label(row)
    return ann


def extent(*sides):
    from pyannote.core import Segment, Timeline

    rows = [r for side in sides for r in side]
    return Timeline([Segment(min(r[0] for r in rows), max(r[1] for r in rows))])


def _add(total: dict, part: dict, prefix: str) -> None:
    for k, v in part.items():
        total[prefix + k] = total.get(prefix + k, 0.0) + v


def _rate(c: dict, prefix: str) -> float | None:
    t = c.get(prefix + "total", 0.0)
    if not t:
        return None
    return (c[prefix + "missed detection"] + c[prefix + "false alarm"] + c[prefix + "confusion"]) / t


def wu(ref, hyp, collar: float) -> dict:
    from pyannote.metrics.diarization import DiarizationErrorRate
    from pyannote.metrics.identification import IdentificationErrorRate

    total: dict = {}
    for uri in ref:
        r, h = ref[uri], hyp.get(uri, [])
        uem = extent(r, h)
        ier = IdentificationErrorRate(collar=2 * collar)
        _add(total, ier.compute_components(annotation(r, uri, lambda x: x[3]),
                                           annotation(h, uri, lambda x: x[3]), uem=uem), "emo:")
        der = DiarizationErrorRate(collar=2 * collar)
        r_spk, h_spk = annotation(r, uri, lambda x: x[2]), annotation(h, uri, lambda x: x[2])
        _add(total, der.compute_components(r_spk, h_spk, uem=uem), "spk:")
        mapping = der.optimal_mapping(r_spk, h_spk, uem=uem)
        joint_r = annotation(r, uri, lambda x: (x[2], x[3]))
        joint_h = annotation(h, uri, lambda x: (mapping.get(x[2], "unmapped:" + x[2]), x[3]))
        _add(total, IdentificationErrorRate(collar=2 * collar).compute_components(
            joint_r, joint_h, uem=uem), "emo_spk:")
    return {"TEER": _rate(total, "emo:"), "sTEER": _rate(total, "emo_spk:"),
            "DER": _rate(total, "spk:"), "components": total}


def seralign(ref, hyp, collar: float) -> dict:
    from pyannote.metrics.diarization import DiarizationErrorRate

    labels = {"speech": lambda x: "speech", "emo": lambda x: x[3],
              "emo_spk": lambda x: f"{x[3]}_{x[2]}"}
    total: dict = {}
    for uri in ref:
        r, h = ref[uri], hyp.get(uri, [])
        uem = extent(r, h)
        for name, label in labels.items():
            der = DiarizationErrorRate(collar=2 * collar)
            _add(total, der.compute_components(annotation(r, uri, label),
                                               annotation(h, uri, label), uem=uem), name + ":")
    return {"SAD_DER": _rate(total, "speech:"), "TEER": _rate(total, "emo:"),
            "sTEER": _rate(total, "emo_spk:"), "components": total}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("method", choices=("wu", "seralign"))
    p.add_argument("reference")
    p.add_argument("hypothesis")
    p.add_argument("--collar", type=float, default=0.0)
    args = p.parse_args(argv)
    ref, hyp = read_rttm(args.reference), read_rttm(args.hypothesis)
    result = (wu if args.method == "wu" else seralign)(ref, hyp, args.collar)
    json.dump(result, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
