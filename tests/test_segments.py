"""teer.segments: the SegmentTable and its label encoding."""
from __future__ import annotations

from teer.io import from_records

RECORDS = [
    dict(file="f1", start=0.5, end=2.25, speaker="A", emotion="neu"),
    dict(file="f2", start=0.0, end=1.5, speaker="A", emotion=None),
    dict(file="f1", start=3.0, end=4.0, speaker="B", emotion="hap"),
    dict(file="f3", start=4.0, end=9.75, speaker="C", emotion="ang"),
]


def test_select_files_keeps_the_segments_of_the_files_named_in_order():
    table = from_records(RECORDS, source="ref.rttm")
    chosen = table.select_files({"f1", "f3", "elsewhere"})
    assert chosen.records() == [RECORDS[0], RECORDS[2], RECORDS[3]]
    assert chosen.source == "ref.rttm" and chosen.files == table.files
    assert len(table.select_files([])) == 0
