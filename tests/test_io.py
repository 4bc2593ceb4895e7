"""Readers and writers in teer.io, on real files."""
from __future__ import annotations

import io as stdio
import json
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import teer.io

from teer.io import (atomic_write_text, from_records, load, load_hypothesis, load_reference, read_rttm,
                     read_seglst, read_uem, write_rttm, write_seglst)
from teer.io import rttm, rttm_bulk
from teer import ticks
from teer.io.formats import JSON_SHAPES
from teer.io.seglst import format_seglst
from teer.io.rttm import parse_rttm
from teer.segments import NO_EMOTION, InputError, SegmentTable, Vocab

VOXCONVERSE = Path(__file__).resolve().parents[2] / "shared/data/voxconverse"

RECORDS = [
    dict(file="f1", start=0.5, end=2.25, speaker="A", emotion="neu"),
    dict(file="f1", start=1.0, end=3.0, speaker="B", emotion="hap"),
    dict(file="f2", start=0.0, end=1.5, speaker="A", emotion=None),
    dict(file="f2", start=4.0, end=9.75, speaker="C", emotion="ang"),
]


def put(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    return path


def line(file="f1", start="0.0", dur="1.0", emotion="neu", speaker="A", ten=True) -> str:
    tail = " <NA>" if ten else ""
    return f"SPEAKER {file} 1 {start} {dur} {emotion} <NA> {speaker} <NA>{tail}\n"


def error(fn, *args) -> str:
    with pytest.raises(InputError) as info:
        fn(*args)
    message = str(info.value)
    assert "\n" not in message
    return message


def assert_same_table(a: SegmentTable, b: SegmentTable, origin: bool = True) -> None:
    assert (a.files, a.speakers, a.emotions) == (b.files, b.speakers, b.emotions)
    for name in ("file", "start", "end", "speaker", "emotion") + (("origin",) if origin else ()):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype, name
        np.testing.assert_array_equal(x, y, err_msg=name)
    if origin:  # warnings name the source and a line
        assert a.warnings == b.warnings


# --- RTTM -------------------------------------------------------------------------------


def test_rttm_basic_fields(tmp_path):
    path = put(tmp_path, "ref.rttm",
               ";; a comment\n"
               "# another\n"
               "\n"
               + line("f1", "0.5", "1.75", "neu", "A")
               + "SPKR-INFO f1 1 <NA> <NA> <NA> unknown A <NA> <NA>\n"
               + line("f1", "1", "2", "<na>", "B"))
    t = read_rttm(path)
    assert t.records() == [
        dict(file="f1", start=0.5, end=2.25, speaker="A", emotion="neu"),
        dict(file="f1", start=1.0, end=3.0, speaker="B", emotion=None),
    ]
    assert t.origin.tolist() == [4, 6]
    assert t.source == str(path)
    assert t.warnings == []
    assert t.emotion.dtype == np.int32 and t.start.dtype == np.int64  # ticks (teer.ticks: ns)


def test_rttm_crlf_tabs_nine_fields_and_no_final_newline(tmp_path):
    text = (line("f1", "0", "1", ten=False) + line("f1", "2", "1", "hap", "B")).replace(" ", "\t")
    path = put(tmp_path, "crlf.rttm", text.replace("\n", "\r\n").rstrip("\r\n"))
    t = read_rttm(path)
    assert [(r["start"], r["end"], r["emotion"]) for r in t.records()] == [
        (0.0, 1.0, "neu"), (2.0, 3.0, "hap")]
    assert t.origin.tolist() == [1, 2]


def test_rttm_non_ascii_labels(tmp_path):
    path = put(tmp_path, "u.rttm", line("fïle", "0", "1", "frö_hlich", "Sprecher_ß"))
    r = read_rttm(path).records()[0]
    assert (r["file"], r["emotion"], r["speaker"]) == ("fïle", "frö_hlich", "Sprecher_ß")


def test_rttm_empty_file_is_an_empty_table(tmp_path):
    for name, text in [("e1.rttm", ""), ("e2.rttm", "\n\n  \n"), ("e3.rttm", ";; nothing\n")]:
        t = read_rttm(put(tmp_path, name, text))
        assert len(t) == 0 and t.files == [] and t.warnings == []


def _generated_rttm(n: int, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        dur = "0" if i % 97 == 5 else f"{rng.uniform(0.01, 5):.3f}"
        emotion = ["neu", "hap", "<NA>", "ang", "sad"][int(rng.integers(5))]
        out.append(line(f"file{i // 50}", f"{rng.uniform(0, 600):.3f}", dur, emotion,
                        f"spk{int(rng.integers(6))}"))
    return "".join(out)


def parse_by(data: bytes, reader: str):
    """``parse_rttm`` with some piece readers only: "bulk" (an error if a piece needs
    another reader), "fast" (the token reader; an error if a piece needs the line
    reader), "slow" (every piece read line by line) or "all"."""
    saved = rttm_bulk.read_piece, rttm._piece_fast, rttm._piece_slow

    def unused(*args):
        raise AssertionError(f"a piece took another reader than {reader!r}")

    if reader == "bulk":
        rttm._piece_fast = rttm._piece_slow = unused
    if reader == "fast":
        rttm_bulk.read_piece = lambda piece, columns: None
        rttm._piece_slow = unused
    if reader == "slow":
        rttm_bulk.read_piece = lambda piece, columns: None
        rttm._piece_fast = lambda chunk, lines: None
    try:
        return parse_rttm(data, "x.rttm")
    finally:
        rttm_bulk.read_piece, rttm._piece_fast, rttm._piece_slow = saved


@pytest.mark.parametrize("reader", ["bulk", "fast"])
def test_fast_paths_equal_slow_path(monkeypatch, reader):
    data = _generated_rttm(3000).encode()
    # Small pieces so that labels and line numbers cross piece boundaries.
    monkeypatch.setattr("teer.io.rttm._CHUNK", 1000)
    monkeypatch.setattr("teer.io.rttm._BULK", 1000)
    fast = parse_by(data, reader)  # the generated file does take this path
    slow = parse_by(data, "slow")
    assert_same_table(fast, slow)
    assert fast.warnings and "zero-duration" in fast.warnings[0]


def test_nine_field_file_takes_fast_path(monkeypatch):
    data = "".join(line("f", str(i), "1", speaker=f"S{i % 3}", ten=False)
                   for i in range(50)).replace("\n", "\r\n").encode()
    fast = parse_by(data, "fast")
    assert_same_table(fast, parse_by(data, "slow"))
    assert len(fast) == 50 and fast.speakers == ["S0", "S1", "S2"]


_PIECES = [line(), line("g", "1.5", "2", "hap", "B"), line(emotion="<NA>"), line(ten=False),
           line(dur="0"), line(dur="-1"), line(start="x"), line(start="nan"), line(start="1_0"),
           line(speaker="SPEAKER"), "SPEAKER f 1 0 1 neu <NA> A <NA> <NA> SPEAKER\n",
           "f 1 0 1 neu <NA> A <NA> <NA>\n", ";; c\n", "\n", "  \n", "SPEAKER f 1 0 1\n"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=12), st.booleans())
def test_fast_and_slow_paths_agree_on_anything(pieces, crlf):
    text = "".join(pieces)
    data = (text.replace("\n", "\r\n") if crlf else text).encode()

    def parse(fast: bool):
        try:
            return parse_by(data, "all" if fast else "slow")
        except InputError as err:
            return str(err)

    a, b = parse(True), parse(False)
    if isinstance(a, str) or isinstance(b, str):
        assert a == b
    else:
        assert_same_table(a, b)


def _plain_decimal(token: str) -> bool:
    """What the bulk reader reads: digits and at most one point, 1 to 15 digits, 16 characters,
    at most 9 digits after the point (a tick is 1 ns), at most the largest time."""
    digits = sum(c.isdigit() for c in token)
    return (token.count(".") <= 1 and set(token) <= set("0123456789.") and 1 <= digits <= 15
            and len(token) <= 16 and len(token.partition(".")[2]) <= 9 and ticks.parse(token) <= ticks.MAX_TICKS)


_NUMBER_TOKENS = st.text(alphabet="0123456789.", min_size=1, max_size=18) | st.sampled_from(
    ["1e3", "-1", "+2", "1_0", "inf", "nan", "0x1", "1..2", "..", ".", "١", "9" * 16, "9" * 15 + ".",
     "0.000000000000001", "123456789012.345", "4503599627370497"])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(_NUMBER_TOKENS, _NUMBER_TOKENS), min_size=1, max_size=40))
def test_bulk_numbers_are_exactly_float_or_refused(pairs):
    """Each onset and duration the bulk reader returns is the exact decimal of its token in
    ticks (up to 16 characters, in one or two words); a piece with any other token is
    refused (None), and the token reader takes it."""
    piece = "".join(line(start=a, dur=b) for a, b in pairs).encode()
    read = rttm_bulk.read_piece(piece, tuple(rttm_bulk.LabelColumn(Vocab()) for _ in range(3)))
    if all(_plain_decimal(t) for pair in pairs for t in pair):
        assert read is not None
        onset, dur, _ = read
        assert onset.tolist() == [ticks.parse(a) for a, _ in pairs]
        assert dur.tolist() == [ticks.parse(b) for _, b in pairs]
        # and the nearest double to the ticks is float() of the token, bit for bit
        assert (onset / 1e9).tobytes() == np.array([float(a) for a, _ in pairs]).tobytes()
    else:
        assert read is None


_LABELS = st.text(st.characters(min_codepoint=33, exclude_categories=["Cs"]), min_size=1, max_size=20)


@settings(max_examples=200, deadline=None)
@given(st.lists(_LABELS, min_size=1, max_size=6), st.lists(st.tuples(*[st.integers(0, 5)] * 3), min_size=1,
                                                                 max_size=60), st.sampled_from([60, 1000, 1 << 18]),
       st.sampled_from([2, 4096]))
def test_bulk_labels_equal_the_line_reader(pool, rows, bulk, known):
    """Labels of 1 to 20 characters (multi-byte ones too, across words and pieces, with a
    column that stops learning labels early or not) get the line reader's vocabularies and
    codes, or its error."""
    text = "".join(line(file=pool[f % len(pool)], start=str(i), emotion=pool[e % len(pool)],
                        speaker=pool[k % len(pool)]) for i, (f, e, k) in enumerate(rows)).encode()

    def outcome(reader):
        try:
            table = parse_by(text, reader)
        except InputError as err:
            return str(err)
        return table

    saved = rttm._BULK, rttm_bulk._KNOWN
    rttm._BULK, rttm_bulk._KNOWN = bulk, known
    try:
        bulk_read, slow_read = outcome("bulk"), outcome("slow")
    finally:
        rttm._BULK, rttm_bulk._KNOWN = saved
    if isinstance(bulk_read, str) or isinstance(slow_read, str):
        assert bulk_read == slow_read
    else:
        assert_same_table(bulk_read, slow_read)


def test_comment_line_takes_slow_path_with_same_result(tmp_path):
    text = _generated_rttm(2000, seed=1)
    plain = read_rttm(put(tmp_path, "plain.rttm", text))
    commented = read_rttm(put(tmp_path, "commented.rttm", ";; header\n" + text))
    assert_same_table(plain, commented, origin=False)
    np.testing.assert_array_equal(commented.origin, plain.origin + 1)


def test_a_comment_sends_only_its_piece_to_the_line_reader(monkeypatch):
    # a comment line used to send the whole file to the line reader (3x the memory)
    text = _generated_rttm(3000, seed=2)
    lines = text.splitlines(keepends=True)
    data = "".join(lines[:1500] + [";; a comment\n"] + lines[1500:]).encode()
    monkeypatch.setattr("teer.io.rttm._CHUNK", 1000)
    calls = []
    slow = rttm._piece_slow
    monkeypatch.setattr(rttm, "_piece_slow", lambda *a: calls.append(a[2]) or slow(*a))
    table = parse_rttm(data, "x.rttm")
    assert len(calls) == 1
    assert_same_table(table, parse_by(data, "slow"))


@pytest.mark.parametrize("bad, where, message", [
    (line(start="abc"), 3, "onset 'abc' is not a number"),
    (line(dur="1,5"), 3, "duration '1,5' is not a number"),
    (line(start="nan"), 3, "onset nan is not a finite number"),
    (line(dur="inf"), 3, "duration inf is not a finite number"),
    (line(dur="-0.5"), 3, "negative duration -0.5"),
    (line(start="-1"), 3, "negative onset -1.0"),
    ("SPEAKER f1 1 0.0 1.0 neu <NA> A\n", 3, "too few fields: expected 9 or 10, found 8"),
    (line().rstrip("\n") + " extra\n", 3, "too many fields: expected 9 or 10, found 11"),
])
def test_rttm_errors_name_file_and_line(tmp_path, bad, where, message):
    text = line("f1", "0", "1") + line("f1", "1", "1") + bad + line("f1", "5", "1")
    path = put(tmp_path, "hyp.rttm", text)
    assert error(read_rttm, path) == f"{path}:{where}: {message}"
    # the same error through the per-line parser, whatever made the fast path give up
    assert error(parse_rttm, (";;\n" + text).encode(), "hyp.rttm") == \
        f"hyp.rttm:{where + 1}: {message}"


def test_rttm_zero_durations_skipped_with_one_warning(tmp_path):
    text = line(start="0", dur="1") + line(start="2", dur="0") + line(start="3", dur="0.000") \
        + line(start="4", dur="1", speaker="Z")
    path = put(tmp_path, "ref.rttm", text)
    t = read_rttm(path)
    assert [r["start"] for r in t.records()] == [0.0, 4.0]
    assert t.origin.tolist() == [1, 4]
    assert t.warnings == [f"{path}: skipped 2 zero-duration segments (first at line 2)"]


def test_zero_duration_segment_leaves_no_unused_labels(tmp_path):
    text = line(speaker="gone", emotion="sad", dur="0") + line(speaker="B", emotion="hap") \
        + line(speaker="A", emotion="neu")
    t = read_rttm(put(tmp_path, "z.rttm", text))
    assert t.speakers == ["B", "A"] and t.emotions == ["hap", "neu"]
    assert t.speaker.tolist() == [0, 1] and t.emotion.tolist() == [0, 1]


def test_rttm_round_trip(tmp_path):
    table = from_records(RECORDS)
    path = tmp_path / "out.rttm"
    write_rttm(table, path)
    assert read_rttm(path).records() == RECORDS  # binary fractions survive exactly
    buf = stdio.StringIO()
    write_rttm(table, buf)
    assert buf.getvalue() == path.read_text()
    assert buf.getvalue().splitlines()[2] == "SPEAKER f2 1 0.0 1.5 <NA> <NA> A <NA> <NA>"


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(
    st.floats(0, 1e5, allow_nan=False), st.floats(1e-3, 1e3, allow_nan=False),
    st.sampled_from(["a", "b", "ä"]), st.sampled_from([None, "neu", "hap"])), max_size=20))
def test_rttm_and_seglst_round_trip_property(tmp_path_factory, rows):
    records = [dict(file="f", start=s, end=s + d, speaker=k, emotion=e) for s, d, k, e in rows]
    table = from_records(records)
    out = tmp_path_factory.mktemp("rt")
    write_rttm(table, out / "a.rttm")
    write_seglst(table, out / "a.json")
    assert read_seglst(out / "a.json").records() == table.records()
    back = read_rttm(out / "a.rttm").records()
    assert len(back) == len(records)
    for got, want in zip(back, table.records()):
        assert got["start"] == pytest.approx(want["start"], abs=1e-8)
        assert got["end"] == pytest.approx(want["end"], abs=1e-8)
        assert (got["speaker"], got["emotion"]) == (want["speaker"], want["emotion"])


def test_write_rttm_rejects_labels_with_spaces(tmp_path):
    table = from_records([dict(file="f", start=0, end=1, speaker="A",
                                            emotion="very happy")])
    path = tmp_path / "x.rttm"
    assert error(write_rttm, table, path) == (
        f"{path}: cannot write emotion 'very happy' to RTTM: labels must be non-empty "
        "and contain no whitespace")
    assert not path.exists()
    # a label that no remaining segment uses is not written, so it does not matter
    other = from_records(RECORDS[:1] + [dict(file="f", start=0, end=1, speaker="A",
                                                          emotion="very happy")])
    write_rttm(other.select(np.array([True, False])), path)
    assert read_rttm(path).records() == RECORDS[:1]


# --- files that are not what they should be ---------------------------------------------


@pytest.mark.parametrize("reader", [read_rttm, read_seglst, read_uem, load])
def test_missing_file_and_directory(tmp_path, reader):
    missing = tmp_path / "nope.rttm"
    assert error(reader, missing) == f"{missing}: no such file"
    assert error(reader, tmp_path) == f"{tmp_path}: is a directory"


@pytest.mark.parametrize("reader", [read_rttm, read_seglst, read_uem, load])
def test_binary_garbage(tmp_path, reader):
    nul = put(tmp_path, "bin.rttm", line().encode() + b"\x00\x01\x02garbage")
    assert error(reader, nul) == f"{nul}:2: not a text file (contains NUL bytes)"
    latin1 = line(emotion="fr\xf6h").encode("latin-1")
    latin = put(tmp_path, "latin1.rttm", line().encode() + latin1)
    assert error(reader, latin) == f"{latin}:2: not UTF-8 (invalid byte 0xf6)"
    utf16 = put(tmp_path, "u16.rttm", line().encode("utf-16"))
    assert "looks like UTF-16" in error(reader, utf16)


def test_utf8_bom_is_ignored(tmp_path):
    assert len(load(put(tmp_path, "bom.rttm", b"\xef\xbb\xbf" + line().encode()))) == 1
    assert len(load(put(tmp_path, "bom.json", b"\xef\xbb\xbf[]"))) == 0


# --- JSON -------------------------------------------------------------------------------


def test_seglst_list_shape(tmp_path):
    doc = [
        {"session_id": "s1", "start_time": "0.5", "end_time": "2.25", "speaker": "A",
         "emotion": "very happy", "words": "hello", "channel": 0},
        {"session_id": "s1", "start_time": 3, "end_time": 4.5, "speaker": 7, "emotion": "<NA>"},
        {"session_id": "s2", "start_time": 1, "end_time": 2, "speaker": "B", "emotion": "<na>"},
    ]
    path = put(tmp_path, "hyp.json", json.dumps(doc))
    t = load(path)
    assert t.records() == [
        dict(file="s1", start=0.5, end=2.25, speaker="A", emotion="very happy"),
        dict(file="s1", start=3.0, end=4.5, speaker="7", emotion=None),
        dict(file="s2", start=1.0, end=2.0, speaker="B", emotion=None),
    ]
    assert t.origin.tolist() == [0, 1, 2]


def test_json_mapping_shape(tmp_path):
    doc = {"f1": [{"start": 0, "end": 1, "speaker": "A", "emotion": "ärger"}],
           "f2": [{"start": "1.5", "end": "2", "speaker": "B", "emotion": "neu"},
                  {"start": 3, "end": 4, "speaker": "A", "emotion": "neu"}]}
    t = load(put(tmp_path, "ref.json", json.dumps(doc, ensure_ascii=False)))
    assert t.records() == [
        dict(file="f1", start=0.0, end=1.0, speaker="A", emotion="ärger"),
        dict(file="f2", start=1.5, end=2.0, speaker="B", emotion="neu"),
        dict(file="f2", start=3.0, end=4.0, speaker="A", emotion="neu"),
    ]
    assert t.origin.tolist() == [0, 1, 2]


def test_empty_json_documents(tmp_path):
    assert len(load(put(tmp_path, "a.json", "[]"))) == 0
    assert len(load(put(tmp_path, "b.json", "  {}\n"))) == 0


def seg(**kw):
    base = {"session_id": "s", "start_time": 0, "end_time": 1, "speaker": "A", "emotion": "neu"}
    base.update(kw)
    return {k: v for k, v in base.items() if v != "DROP"}


@pytest.mark.parametrize("bad, message", [
    (seg(start_time="DROP"), "segment [1]: missing key 'start_time'"),
    (seg(speaker=None), "segment [1]: key 'speaker' is null"),
    (seg(end_time="soon"), "segment [1]: end_time 'soon' is not a number"),
    (seg(end_time=True), "segment [1]: end_time must be a number, found a boolean"),
    (seg(start_time=2, end_time=1), "segment [1]: end time 1.0 is before start time 2.0"),
    (seg(start_time=-1), "segment [1]: negative start time -1.0"),
    (seg(start_time="nan"), "segment [1]: start_time nan is not a finite number"),
    (seg(emotion=3.5), "segment [1]: key 'emotion' must be a string, found a number"),
    (seg(end_time=10**400), "segment [1]: end_time 1" + "0" * 39 + "... (401 characters) is beyond the largest "
                            "time teer accepts (4294967296 s)"),
    ([1, 2], "segment [1]: segment is not an object (found a list)"),
])
def test_seglst_errors(tmp_path, bad, message):
    path = put(tmp_path, "hyp.json", json.dumps([seg(), bad, seg()]))
    assert error(load, path) == f"{path}:{message}"


def test_json_mapping_errors(tmp_path):
    doc = {"f1": [{"start": 0, "end": 1, "speaker": "A", "emotion": "neu"}],
           "f2": [{"start": 0, "end": 1, "speaker": "A", "emotion": "neu"}, {"start": 0, "speaker": "A"}]}
    path = put(tmp_path, "m.json", json.dumps(doc))
    assert error(load, path) == f"{path}:segment f2[1]: missing key 'end'"
    doc["f2"][1]["end"] = -3
    doc["f2"][1]["emotion"] = "neu"
    assert error(load, put(tmp_path, "m.json", json.dumps(doc))) == \
        f"{path}:segment f2[1]: end time -3.0 is before start time 0.0"
    path = put(tmp_path, "n.json", json.dumps({"f1": {"start": 0}}))
    assert error(load, path).startswith(f"{path}:file 'f1': expected a list of segments, found an object "
                                        "(the JSON shapes teer reads: SegLST")


@pytest.mark.parametrize("text, message", [
    ('[{"session_id": "s", "start_time": 0,\n', ":2: truncated JSON (unexpected end of file)"),
    ('[{"session_id": "s",,}]', ":1: not valid JSON: Expecting property name enclosed in "
                                "double quotes (column 21)"),
    ("42", ": found a number, not one of the JSON shapes teer reads: " + "; ".join(JSON_SHAPES)),
    ('{"session_id": "s", "start_time": 0}', ": expected a list of segments, found a single "
                                            "segment object (wrap it in [ ])"),
])
def test_broken_json(tmp_path, text, message):
    path = put(tmp_path, "bad.json", text)
    assert error(read_seglst, path) == error(load, path) == f"{path}{message}"


def test_json_zero_durations_warn(tmp_path):
    path = put(tmp_path, "z.json", json.dumps([seg(), seg(end_time=0), seg(end_time="0.0")]))
    t = load(path)
    assert len(t) == 1
    assert t.warnings == [f"{path}: skipped 2 zero-duration segments (first at segment [1])"]
    doc = {"a": [{"start": 0, "end": 1, "speaker": "A", "emotion": "neu"}],
           "b": [{"start": 0, "end": 1, "speaker": "A", "emotion": "neu"},
                 {"start": 2, "end": 2, "speaker": "A", "emotion": "neu"}]}
    path = put(tmp_path, "zm.json", json.dumps(doc))
    assert load(path).warnings == [
        f"{path}: skipped 1 zero-duration segment (first at segment b[1])"]


def test_seglst_round_trip(tmp_path):
    table = from_records(RECORDS + [
        dict(file="f 3", start=0.1, end=0.30000000000000004, speaker="Ö Ü", emotion="very sad")])
    path = tmp_path / "out.json"
    write_seglst(table, path)
    assert load(path).records() == table.records()
    items = json.loads(path.read_text(encoding="utf-8"))
    assert items[0] == {"session_id": "f1", "start_time": 0.5, "end_time": 2.25,
                        "speaker": "A", "emotion": "neu"}
    assert items[2]["emotion"] == "<NA>"  # no emotion, written as RTTM writes it


def test_seglst_extra_keys_are_written_after_teers_and_ignored_on_reading(tmp_path):
    table = from_records(RECORDS)
    extra = {"words": ["hello there", "", "ok", "bye"], "utterance_id": ["u1", None, "u3", "u4"]}
    path = tmp_path / "turns.json"
    write_seglst(table, path, extra)
    items = json.loads(path.read_text(encoding="utf-8"))
    assert list(items[0]) == ["session_id", "start_time", "end_time", "speaker", "emotion", "words",
                              "utterance_id"]
    assert [(i["words"], i["utterance_id"]) for i in items] == list(zip(*extra.values()))
    assert load(path).records() == table.records()


@pytest.mark.parametrize("extra, message", [({"speaker": ["x"] * 4}, "one teer writes itself"),
                                            ({"words": ["x"]}, "1 values for 4 segments")])
def test_seglst_extra_keys_are_checked(extra, message):
    with pytest.raises(ValueError, match=message):
        format_seglst(from_records(RECORDS), extra)


def test_load_detects_format_by_content(tmp_path):
    table = from_records(RECORDS)
    write_seglst(table, tmp_path / "looks_like.rttm")
    write_rttm(table, tmp_path / "looks_like.json")
    assert load(tmp_path / "looks_like.rttm").records() == RECORDS
    assert load(tmp_path / "looks_like.json").records() == RECORDS


# --- roles ------------------------------------------------------------------------------


def test_reference_role_checks(tmp_path):
    empty = put(tmp_path, "empty.rttm", ";; nothing here\n")
    assert error(load_reference, empty) == f"{empty}: reference has no segments"
    assert len(load_hypothesis(empty)) == 0

    mixed = put(tmp_path, "ref.rttm", line() + ";;\n" + line(emotion="<NA>") + line())
    assert error(load_reference, mixed) == \
        f"{mixed}:3: segment has no emotion label, but others do"
    assert len(load_hypothesis(mixed)) == 3

    mixed_json = put(tmp_path, "ref.json", json.dumps({"a": [
        {"start": 0, "end": 1, "speaker": "A", "emotion": "neu"},
        {"start": 1, "end": 2, "speaker": "A", "emotion": "<NA>"}]}))
    assert error(load_reference, mixed_json) == \
        f"{mixed_json}:segment a[1]: segment has no emotion label, but others do"

    none = put(tmp_path, "der_only.rttm", line(emotion="<NA>") + line(emotion="<NA>"))
    t = load_reference(none)
    assert len(t) == 2 and (t.emotion == NO_EMOTION).all() and t.emotions == []


# --- UEM --------------------------------------------------------------------------------


def test_uem(tmp_path):
    path = put(tmp_path, "all.uem", ";; scored regions\nf1 1 10 20\nf2 1 0.5 3\n\n"
                                    "f1 1 0.0 10.0\r\n# done\n")
    assert read_uem(path) == {"f1": [(0.0, 10.0), (10.0, 20.0)], "f2": [(0.5, 3.0)]}


@pytest.mark.parametrize("bad, message", [
    ("f1 1 5", "2: expected 4 fields (file channel start end), found 3"),
    ("f1 1 x 6", "2: start 'x' is not a number"),
    ("f1 1 6 5", "2: end 5.0 is before start 6.0"),
    ("f1 1 6 6", "2: empty interval: end 6.0 equals start"),
    ("f1 1 inf 7", "2: start inf is not a finite number"),
    ("f1 1 0.5 1.5", "2: interval overlaps the one at line 1 for file 'f1'"),
])
def test_uem_errors(tmp_path, bad, message):
    path = put(tmp_path, "u.uem", f"f1 1 0 1\n{bad}\nf2 1 0 1\n")
    assert error(read_uem, path) == f"{path}:{message}"


# --- atomic writes ----------------------------------------------------------------------


def test_atomic_write_text(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    atomic_write_text(path, "new ✓\n")
    assert path.read_text(encoding="utf-8") == "new ✓\n"
    assert os.listdir(tmp_path) == ["out.txt"]
    missing_dir = tmp_path / "no" / "out.txt"
    assert error(atomic_write_text, missing_dir, "x").startswith(f"{missing_dir}: cannot write")
    # a directory in the way: the rename fails, and no temporary file is left behind
    (tmp_path / "d").mkdir()
    blocked = tmp_path / "d"
    assert error(atomic_write_text, blocked, "x").startswith(f"{blocked}: cannot write")
    assert sorted(os.listdir(tmp_path)) == ["d", "out.txt"]


# --- real data --------------------------------------------------------------------------


def test_voxconverse_files_read_completely():
    folder = VOXCONVERSE / "dev"
    files = sorted(folder.glob("*.rttm"))[:25] if folder.is_dir() else []
    if not files:
        pytest.skip(f"VoxConverse data not found under {VOXCONVERSE}")
    for path in files:
        lines = [ln for ln in path.read_text().splitlines() if ln.startswith("SPEAKER")]
        t = read_rttm(path)
        zero = sum(float(ln.split()[4]) == 0 for ln in lines)
        assert len(t) == len(lines) - zero, path
        assert t.files == [path.stem]
        assert t.emotions == [] and (t.emotion == NO_EMOTION).all()
        durations = sum(ticks.parse(ln.split()[4]) for ln in lines)
        assert int((t.end - t.start).sum()) == durations  # ticks, exactly
        assert_same_table(t, load_reference(path))


# --- input that does not mean what the user thinks -------------------------------------


@pytest.mark.parametrize("text, line_no, token", [
    ("file,start,end,speaker,emotion\nd1,0,1,A,hap\n", 1, "file,start,end,speaker,emotion"),
    (";; a comment\n\nd1\t0.0\t1.0\tA\thap\n", 3, "d1"),
    ("SPEAKER f1 1 0.0 1.0 neu <NA> A <NA> <NA>\nhello world\n", 2, "hello"),
])
def test_text_that_is_neither_rttm_nor_json_is_an_error(tmp_path, text, line_no, token):
    path = put(tmp_path, "hyp.csv", text)
    message = error(load_hypothesis, path)
    assert message.startswith(f"{path}:{line_no}: not an RTTM line ({token!r} is not an RTTM record type)")
    assert "JSON (a SegLST list" in message and "SPEAKER file chnl onset dur" in message


def test_other_rttm_record_types_and_comments_are_skipped(tmp_path):
    text = (";; comment\n# comment\nSPKR-INFO f1 1 <NA> <NA> <NA> unknown A <NA> <NA>\n"
            "LEXEME f1 1 0.1 0.2 hello lex A <NA> <NA>\nNON-SPEECH f1 1 2 1 <NA> noise <NA> <NA> <NA>\n" + line())
    assert len(load(put(tmp_path, "ok.rttm", text))) == 1


@pytest.mark.parametrize("text, found", [("42", "a number"), ('"ref.rttm"', "a string"), ("null", "null"),
                                         ("true", "a boolean"), ("  -1.5\n", "a number")])
def test_json_that_is_not_a_segment_shape_is_an_error(tmp_path, text, found):
    path = put(tmp_path, "hyp.json", text)
    # every shape teer reads is named, the frame-wise and ZED ones too
    assert error(load_hypothesis, path) == (f"{path}: found {found}, not one of the JSON shapes teer "
                                            "reads: " + "; ".join(JSON_SHAPES))
    assert "frame labels" in JSON_SHAPES[-1] and "ZED" in JSON_SHAPES[-2]


@pytest.mark.parametrize("emotion, problem", [
    (..., "missing key 'emotion'"), (None, "key 'emotion' is null")])
def test_json_segment_without_an_emotion_is_an_error(tmp_path, emotion, problem):
    seg = {"session_id": "s", "start_time": 0, "end_time": 1, "speaker": "A"}
    bad = dict(seg) if emotion is ... else dict(seg, emotion=emotion)
    path = put(tmp_path, "hyp.json", json.dumps([dict(seg, emotion="neu"), bad]))
    assert error(load_hypothesis, path) == \
        f'{path}:segment [1]: {problem} (give every segment an emotion label, or "<NA>" for none)'
    mapping = put(tmp_path, "m.json", json.dumps({"s": [{"start": 0, "end": 1, "speaker": "A"}]}))
    assert "segment s[0]: missing key 'emotion'" in error(load_reference, mapping)
    # "<NA>" says "no emotion" on purpose, as in RTTM
    path = put(tmp_path, "na.json", json.dumps([dict(seg, emotion="<NA>")]))
    assert load(path).records()[0]["emotion"] is None


# --------------------------------------------------------------------------
# readers


def test_rttm_odd_but_valid_layouts_read_the_same_by_both_parsers(tmp_path):
    from teer.io.rttm import _piece_slow, parse_rttm

    plain = ("SPEAKER a 1 0.5 2 hap <NA> A <NA> <NA>\n"
             "SPEAKER a 1 3 1.5 sad <NA> B <NA> <NA>\n")
    odd = (";; comment\n"
           "\tSPEAKER  a\t1 0.5 2 hap <NA> A <NA> <NA>\r\n"
           "\n"
           "# another comment\n"
           "SPKR-INFO a 1 <NA> <NA> <NA> unknown A <NA>\n"
           "SPEAKER a 1 3 1.5 sad <NA> B <NA>\r\n")  # 9 fields
    expected = parse_rttm(plain.encode(), "plain").records()
    assert parse_rttm(odd.encode(), "odd").records() == expected
    # the fast path (only SPEAKER lines) and the line parser agree on the plain file
    assert _piece_slow(plain.encode(), "plain", 1)[0].tolist() == [500_000_000, 3_000_000_000]  # ticks
    path = tmp_path / "ref.rttm"
    path.write_bytes(b"\xef\xbb\xbf" + plain.replace("\n", "\r\n").encode())
    assert teer.io.load_reference(path).records() == expected


def test_json_mapping_and_seglst_read_alike(tmp_path):
    import json

    seglst = [{"session_id": "a", "start_time": "0.5", "end_time": 2.5, "speaker": 1, "emotion": "hap",
               "words": "extra key"},
              {"session_id": "a", "start_time": 3, "end_time": 4.5, "speaker": "2", "emotion": "<NA>"}]
    mapping = {"a": [{"start": 0.5, "end": "2.5", "speaker": "1", "emotion": "hap"},
                     {"start": 3, "end": 4.5, "speaker": 2, "emotion": "<na>"}]}
    (tmp_path / "s.json").write_text(json.dumps(seglst))
    (tmp_path / "m.json").write_text(json.dumps(mapping))
    a = teer.io.load_hypothesis(tmp_path / "s.json").records()
    b = teer.io.load_hypothesis(tmp_path / "m.json").records()
    assert a == b == [dict(file="a", start=0.5, end=2.5, speaker="1", emotion="hap"),
                      dict(file="a", start=3.0, end=4.5, speaker="2", emotion=None)]


# --- JSON Lines, Lhotse supervisions, gzip, standard input ------------------------------

def _seglst_line(r: dict) -> str:
    return json.dumps({"session_id": r["file"], "start_time": r["start"], "end_time": r["end"],
                       "speaker": r["speaker"], "emotion": r["emotion"] or "<NA>"})


def _jsonl(records=RECORDS) -> str:
    # both record shapes, and a blank line
    lines = [_seglst_line(r) if i % 2 else json.dumps({**r, "emotion": r["emotion"] or "<NA>"})
             for i, r in enumerate(records)]
    return "\n".join(lines[:2] + [""] + lines[2:]) + "\n"


def _supervisions(records=RECORDS) -> str:
    out = []
    for i, r in enumerate(records):
        item = {"id": f"s{i}", "recording_id": r["file"], "start": r["start"], "duration": r["end"] - r["start"],
                "channel": 0, "speaker": r["speaker"], "text": "words", "language": "English"}
        if r["emotion"] is not None:
            item.update({"custom": {"emotion": r["emotion"]}} if i % 2 else {"emotion": r["emotion"]})
        out.append(json.dumps(item))
    return "\n".join(out) + "\n"


def test_json_lines_in_both_record_shapes_read_as_the_records(tmp_path):
    table = load(put(tmp_path, "hyp.jsonl", _jsonl()))
    assert_same_table(table, from_records(RECORDS), origin=False)
    assert table.origin.tolist() == [1, 2, 4, 5]  # line numbers: messages name the line
    assert teer.io.detect(_jsonl().encode()).name == "JSON Lines"


@pytest.mark.parametrize("content, message", [
    ('{"file": "f", "start": 0, "end": 1, "speaker": "A", "emotion": "hap"}\n{"file": "f", "start": 2}\n',
     ":2: missing key 'end'"),
    ('{"file": "f", "start": 0, "end": 1, "speaker": "A", "emotion": "hap"}\n{"file": "f", "start": 2,\n',
     ":2: not valid JSON"),
    ('{"file": "f", "start": 0, "end": 1, "speaker": "A", "emotion": "hap"}\n[1, 2]\n',
     ":2: expected a segment object, found a list"),
    ('{"file": "f", "start": 0, "end": 1, "speaker": "A", "emotion": "hap"}\n\n'
     '{"file": "f", "start": 3, "end": 2, "speaker": "A", "emotion": "hap"}\n', ":3: end time 2.0 is before"),
    ('{"file": "f", "start": 0, "end": 1, "speaker": "A"}\n{"file": "f", "start": 1, "end": 2, "speaker": "A", '
     '"emotion": "hap"}\n', ":1: missing key 'emotion'"),
    ('{"file": "f", "start": 0, "end": 1, "speaker": "A", "emotion": "hap", "start": 1}\n{}\n',
     ":1: key 'start' appears twice"),
])
def test_json_lines_errors_name_the_line(tmp_path, content, message):
    assert message in error(load, put(tmp_path, "hyp.jsonl", content))


def test_one_line_with_one_segment_object_stays_the_json_readers_error(tmp_path):
    path = put(tmp_path, "hyp.json", '{"session_id": "s", "start_time": 0, "end_time": 1, "speaker": "A"}\n')
    assert "wrap it in [ ]" in error(load, path)


def test_validate_lists_every_bad_json_line(tmp_path):
    from teer.validation import check_file

    lines = _jsonl().splitlines()
    lines[0] = lines[0].replace('"start": 0.5', '"start": "x"')
    lines[3] = "not json"
    check = check_file(put(tmp_path, "hyp.jsonl", "\n".join(lines) + "\n"))
    assert check.format == "JSON Lines" and len(check.problems) == 2
    assert ":1: start 'x' is not a number" in check.problems[0] and ":4: not valid JSON" in check.problems[1]
    assert check.counts["segments"] == 2


def test_lhotse_supervisions_read_without_lhotse(tmp_path):
    import gzip

    text = _supervisions()
    for name, content in (("supervisions_test.jsonl", text), ("supervisions_test.jsonl.gz", gzip.compress(text.encode()))):
        table = load(put(tmp_path, name, content))
        assert_same_table(table, from_records(RECORDS), origin=False)
        assert table.origin.tolist() == [1, 2, 3, 4]
    assert teer.io.detect(text.encode()).name == "Lhotse supervisions"


@pytest.mark.parametrize("change, message", [
    ({"speaker": None}, ":2: null key 'speaker' (teer scores who spoke when"),
    ({"duration": -1}, ":2: negative duration -1.0"),
    ({"custom": {"emotion": "sad"}, "emotion": "hap"}, ":2: custom.emotion 'sad' and emotion 'hap' differ"),
    ({"custom": "hap"}, ":2: key 'custom' must be an object"),
    ({"recording_id": 7.5}, ":2: key 'recording_id' must be a string"),
])
def test_lhotse_supervision_errors_name_the_line(tmp_path, change, message):
    lines = _supervisions().splitlines()
    lines[1] = json.dumps({**json.loads(lines[1]), **change})
    assert message in error(load, put(tmp_path, "sup.jsonl", "\n".join(lines) + "\n"))


def test_a_supervision_without_emotion_has_none(tmp_path):
    records = [{**r, "emotion": None} for r in RECORDS]
    table = load_reference(put(tmp_path, "sup.jsonl", _supervisions(records)))
    assert not table.has_emotions()  # scored for DER only, with a note


def test_gzip_inputs_read_as_the_plain_ones(tmp_path):
    import gzip

    plain = "".join(line(file=f, start=s, dur=d, emotion=e, speaker=k)
                    for f, s, d, e, k in (("f1", "0.5", "1.25", "neu", "A"), ("f2", "1", "2", "hap", "B")))
    expected = load(put(tmp_path, "ref.rttm", plain))
    assert_same_table(load(put(tmp_path, "ref.rttm.gz", gzip.compress(plain.encode()))), expected, origin=False)
    seglst = format_seglst(expected)
    assert_same_table(load(put(tmp_path, "hyp.JSON.GZ", gzip.compress(seglst.encode()))),
                      load(put(tmp_path, "hyp.json", seglst)), origin=False)


@pytest.mark.parametrize("content, message", [
    (b"SPEAKER f1 1 0 1 neu <NA> A <NA> <NA>\n", "not a gzip file (the name ends in .gz)"),
    (None, "truncated gzip file"),
    (b"\x00" * 4096, "not a text file (contains NUL bytes)"),
])
def test_bad_gzip_is_one_error(tmp_path, content, message):
    import gzip

    if content is None:
        content = gzip.compress(line().encode() * 100)[:-30]
    elif content.startswith(b"\x00"):
        content = gzip.compress(content)
    assert message in error(load, put(tmp_path, "ref.rttm.gz", content))


def test_standard_input_is_read_for_a_dash(monkeypatch):
    text = _jsonl()
    monkeypatch.setattr("sys.stdin", stdio.TextIOWrapper(stdio.BytesIO(text.encode())))
    table = load("-")
    assert_same_table(table, from_records(RECORDS), origin=False)
    assert table.source == "<stdin>"
    with pytest.raises(ValueError, match="standard input"):
        teer.score("-", "-")
