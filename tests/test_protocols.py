"""Protocols (``teer.protocols``): each preset names one, and scoring asks it, never its name."""
from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import warnings

import teer
from teer import protocols, stream
from teer.options import resolve
from teer.presets import PRESETS
from teer.protocols.literal import Literal
from teer.ser_align import only_files

from .corpus import table

PACKAGE = Path(teer.__file__).resolve().parent


def test_every_preset_names_a_protocol_that_exists():
    for preset in PRESETS.values():
        protocol = protocols.get(preset.protocol)
        assert protocol.name == preset.protocol
    assert {p.name for p in protocols.PROTOCOLS.values()} == {p.protocol for p in PRESETS.values()}


def test_no_module_outside_the_protocols_compares_a_protocol_name():
    names = set(protocols.PROTOCOLS)
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "protocols" in path.relative_to(PACKAGE).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare):
                for operand in [node.left, *node.comparators]:
                    if isinstance(operand, ast.Constant) and operand.value in names:
                        found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert found == []


def test_only_a_protocol_that_streams_reads_in_batches():
    assert stream.applies(resolve("wu2023"))
    assert not stream.applies(resolve("ser-align")) and not stream.applies(resolve("eder"))
    # a fixed speaker map needs the whole tables whatever the protocol
    assert not stream.applies(resolve("wu2023", speaker_map={("a", "X"): "A"}))


class SkipsFileB(Literal):
    """A protocol of a test: literal labels, but file ``b`` is not scored."""

    name = "skips-b"
    streams = False  # prepare changes the tables

    def prepare(self, tables, options):
        prepared = super().prepare(tables, options)
        keep = [name for name in prepared.given_files if name != "b"]
        runs = {"speaker": tuple(only_files(side, keep) for side in prepared.runs["speaker"])}
        return dataclasses.replace(prepared, runs=runs, given_files=keep, skipped={"b": "a test's reason"})


def test_a_new_protocol_is_one_class_and_one_entry(monkeypatch):
    monkeypatch.setitem(protocols.PROTOCOLS, SkipsFileB.name, SkipsFileB())
    preset = dataclasses.replace(PRESETS["wu2023"], name="skips-b", protocol=SkipsFileB.name, collar=0.0)
    ref = table(("a", 0, 10, "A", "hap"), ("b", 0, 10, "A", "sad"))
    hyp = table(("a", 0, 10, "X", "hap"), ("b", 0, 10, "X", "hap"))
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        report = teer.score(ref, hyp, preset=preset)
    assert [str(w.message) for w in said] == []  # the skipped file is the protocol's to report
    assert list(report.files) == ["a"] and report.skipped == {"b": "a test's reason"}
    assert report.total.TEER == 0.0
    assert teer.score(ref, hyp, collar=0).total.CONF_emo == 10  # file b is wrong where it is scored
