"""Exact time (teer.ticks): times read once into integer nanoseconds, every sum exact, seconds
written as exact decimals. The shift and tie properties are in test_properties.py."""
from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import teer
import teer.io
from teer import ticks

ROOT = Path(__file__).resolve().parents[1]


def teer_cli(*args):
    return subprocess.run([sys.executable, "-m", "teer.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT)


def rttm_line(file, start, dur, speaker, emotion="neu"):
    return f"SPEAKER {file} 1 {start} {dur} {emotion} <NA> {speaker} <NA> <NA>\n"


# --------------------------------------------------------------------------
# reading


@pytest.mark.parametrize("text, expected", [
    ("0.1", 100_000_000), ("12.345678901", 12_345_678_901), (".5", 500_000_000), ("7", 7_000_000_000),
    ("1e3", 10 ** 12), ("2.5E-1", 250_000_000), ("0.0000000005", 0), ("0.0000000015", 2),  # ties to even
    ("0.00000000150001", 2), ("4294967296", ticks.MAX_TICKS), ("-0.25", -250_000_000),
    ("123456789.123456789", 123_456_789_123_456_789),  # 18 digits: no double holds it
])
def test_decimals_are_read_exactly(text, expected):
    assert ticks.parse(text) == expected


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2 ** 22 * 10 ** 9 - 1))
def test_a_float_of_nine_decimals_is_its_decimal(n):
    """A time given as a float (the Python API) is the decimal it was written as: float() of
    a decimal of at most 9 digits after the point, below 2**22 s, comes back as its ticks."""
    text = ticks.text(n)
    assert ticks.of_value(float(text)) == n == ticks.parse(text)
    assert ticks.to_seconds(n) == float(text)


def test_every_reader_gives_the_same_ticks(tmp_path):
    times = [("0.1", "0.2"), ("1.000000001", "2.5"), ("123456.789012345", "0.000000001")]
    (tmp_path / "a.rttm").write_text("".join(rttm_line("f", s, d, "A") for s, d in times))
    (tmp_path / "b.rttm").write_text("".join(rttm_line("f", s, d, "A").replace(" ", "\t") for s, d in times))
    segments = [{"session_id": "f", "start_time": float(s), "end_time": float(Decimal(s) + Decimal(d)),
                 "speaker": "A", "emotion": "neu"} for s, d in times]
    (tmp_path / "c.json").write_text(json.dumps(segments))
    expected = [(ticks.parse(s), ticks.parse(s) + ticks.parse(d)) for s, d in times]
    for name in ("a.rttm", "b.rttm", "c.json"):
        table = teer.io.load(tmp_path / name)
        assert list(zip(table.start.tolist(), table.end.tolist())) == expected, name


# --------------------------------------------------------------------------
# collars


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 10 ** 6), st.sampled_from(["0.25", "0.1", "0.333", "1.7"]))
def test_collars_that_exactly_cover_a_segment_leave_no_scored_time(start_ms, collar):
    """A segment 2 x collar long (start on a millisecond grid): its two collars meet exactly,
    nothing is scored, and every rate is not available (float arithmetic left 1e-16 s and
    a rate of 100 %)."""
    start = Decimal(start_ms) / 1000
    length = 2 * Decimal(collar)
    ref = [dict(file="f", start=str(start), end=str(start + length), speaker="A", emotion="neu")]
    hyp = [dict(file="f", start=str(start), end=str(start + length / 2), speaker="X", emotion="hap")]
    for given_as in (str, float):
        r = [dict(row, start=given_as(row["start"]), end=given_as(row["end"])) for row in ref]
        h = [dict(row, start=given_as(row["start"]), end=given_as(row["end"])) for row in hyp]
        total = teer.score(r, h, collar=float(collar)).total
        assert total.TOTAL == total.MS == total.FA == total.AGREE == 0
        assert total.TEER is None and total.DER is None and total.EERa is None


def test_collars_covering_the_segment_print_na(tmp_path):
    ref, hyp = tmp_path / "ref.rttm", tmp_path / "hyp.rttm"
    ref.write_text(rttm_line("f", "0.1", "0.5", "A"))
    hyp.write_text(rttm_line("f", "0.1", "0.3", "X", "hap"))
    out = teer_cli("score", ref, hyp, "--collar", "0.25")
    assert out.returncode == 0, out.stderr
    total = out.stdout.splitlines()[-1].split()
    assert total[:6] == ["TOTAL", "n/a", "n/a", "n/a", "n/a", "n/a"] and total[-1] == "0.00"


# --------------------------------------------------------------------------
# exact decimals in JSON and CSV


def _large_corpus(tmp_path, n_files=40, per_file=500):
    """Durations of 9 decimals that no float sum keeps exact, over a corpus of 20,000 segments
    and 17 significant digits of total."""
    lines, total = [], Decimal(0)
    for f in range(n_files):
        t = Decimal(0)
        for k in range(per_file):
            dur = Decimal(f"{1 + (k * 7919 + f * 104729) % 9}.{(k * 2654435761 + f) % 10 ** 9:09d}")
            lines.append(rttm_line(f"file{f}", t, dur, f"S{k % 3}"))
            t += dur
            total += dur
    # a file beyond 2**22 s, where a double's last digits are above the tick
    lines.append(rttm_line("far", "12345678.123456789", "0.000000123", "A"))
    total += Decimal("0.000000123")
    ref = tmp_path / "ref.rttm"
    ref.write_text("".join(lines))
    return ref, total


def test_json_and_csv_seconds_are_exact_decimals_at_any_corpus_size(tmp_path):
    ref, total = _large_corpus(tmp_path)
    out = teer_cli("score", ref, ref, "--collar", "0", "--format", "json")
    assert out.returncode == 0, out.stderr
    assert re.search(rf'"TOTAL": {re.escape(str(total))}[,\n]', out.stdout)
    data = json.loads(out.stdout, parse_float=Decimal)
    assert data["total"]["TOTAL"] == total and data["files"]["far"]["TOTAL"] == Decimal("0.000000123")
    assert sum(row["TOTAL"] for row in data["files"].values()) == total
    assert not re.search(r"\d\.\d*(99999999|00000001)\d*\b", out.stdout)
    out = teer_cli("score", ref, ref, "--collar", "0", "--format", "csv", "--per-file")
    rows = {row["file"]: row for row in csv.DictReader(line for line in io.StringIO(out.stdout)
                                                       if not line.startswith("#"))}
    assert Decimal(rows["TOTAL"]["TOTAL"]) == total
    assert sum(Decimal(row["TOTAL"]) for name, row in rows.items() if name != "TOTAL") == total


def test_validate_json_seconds_are_exact(tmp_path):
    ref = tmp_path / "ref.rttm"
    ref.write_text(rttm_line("f", "0", "0.1", "A") + rttm_line("f", "1", "0.2", "B")
                   + rttm_line("f", "2", "100.803", "A"))
    out = teer_cli("validate", ref, "--format", "json")
    assert out.returncode == 0, out.stderr
    assert '"seconds": 101.103' in out.stdout and "101.10300000000001" not in out.stdout
    assert '"speech": 101.103' in out.stdout


def test_python_api_keeps_floats_and_exact_ticks():
    report = teer.score([dict(file="f", start=0.1, end=0.3, speaker="A", emotion="neu")],
                        [dict(file="f", start=0.1, end=0.2, speaker="X", emotion="neu")], collar=0)
    total = report.total
    assert isinstance(total.TOTAL, float) and total.TOTAL == 0.2 and total.TOTAL.ticks == 200_000_000
    assert total.TEER == 0.5 and repr(total.MS) == "0.1"
    # sums across reports stay exact
    assert (total + total + total).TOTAL.ticks == 600_000_000
    assert teer.Components(MS=0.1, TOTAL=0.3).MS.ticks == 100_000_000
