"""A regular RTTM file is read in pieces; the table, or the error, is the one of the whole-file reader."""
from __future__ import annotations

import numpy as np
import pytest

from teer.io import load, rttm
from teer.io.text import read_bytes
from teer.segments import InputError

LINE = "SPEAKER {f} 1 {s} {d} {e} <NA> {k} <NA> <NA>"


def lines(n: int) -> list[str]:
    return [LINE.format(f=f"file{i // 7}", s=f"{i * 0.5:.2f}", d="0.75", e=("neu", "hap", "ängstlich")[i % 3],
                        k=f"spk{i % 4}") for i in range(n)]


CASES = {
    "regular": "\n".join(lines(60)) + "\n",
    "no final newline": "\n".join(lines(60)),
    "trailing blank lines": "\n".join(lines(60)) + "\n\n  \n",
    "crlf": "\r\n".join(lines(60)) + "\r\n",
    "bom": "\ufeff" + "\n".join(lines(60)) + "\n",
    "comment": ";; a comment\n" + "\n".join(lines(60)) + "\n",
    "blank line inside": "\n".join(lines(30)) + "\n\n" + "\n".join(lines(30)) + "\n",
    "other record": "\n".join(lines(40)) + "\nSPKR-INFO x 1 <NA> <NA> <NA> unknown a <NA> <NA>\n" + "\n".join(lines(5)),
    "bad number late": "\n".join(lines(50)) + "\nSPEAKER f 1 1_0 2.0 neu <NA> a <NA> <NA>\n",
    "negative duration late": "\n".join(lines(50)) + "\nSPEAKER f 1 1.0 -2.0 neu <NA> a <NA> <NA>\n",
    "zero duration": "\n".join(lines(20)) + "\nSPEAKER f 1 1.0 0 neu <NA> a <NA> <NA>\n",
    "eleven fields": "\n".join(x + " 0.5" for x in lines(30)) + "\n",
}
BINARY = {
    "latin-1 byte late": ("\n".join(lines(50)) + "\n").encode() + b"SPEAKER f 1 1.0 2.0 n\xe9u <NA> a <NA> <NA>\n",
    "nul late": ("\n".join(lines(50)) + "\n").encode() + b"SPEAKER f 1 1.0 2.0 neu <NA> a\x00 <NA> <NA>\n",
}


def outcome(read):
    try:
        table = read()
    except InputError as err:
        return str(err)
    return (table.files, table.speakers, table.emotions, table.warnings,
            *(getattr(table, k).tobytes() for k in ("file", "start", "end", "speaker", "emotion", "origin")))


@pytest.mark.parametrize("block", [1 << 24, 64, 333])
@pytest.mark.parametrize("name", [*CASES, *BINARY])
def test_pieces_give_the_whole_file_reader_table_or_error(tmp_path, monkeypatch, name, block):
    monkeypatch.setattr(rttm, "_BLOCK", block)
    path = tmp_path / "x.rttm"
    path.write_bytes(CASES[name].encode("utf-8") if name in CASES else BINARY[name])

    def whole():
        data, source = read_bytes(path)
        return rttm.parse_rttm(data, source)

    assert outcome(lambda: load(path)) == outcome(whole)


def test_text_files_are_streamed_others_are_not(tmp_path, monkeypatch):
    monkeypatch.setattr(rttm, "_BLOCK", 100)
    regular, comment, binary = tmp_path / "a.rttm", tmp_path / "b.rttm", tmp_path / "c.rttm"
    regular.write_text(CASES["regular"], encoding="utf-8")
    comment.write_text(CASES["comment"], encoding="utf-8")
    binary.write_bytes(BINARY["nul late"])
    table = rttm.read_streamed(regular, lambda head: False)
    assert table is not None and len(table) == 60 and table.origin[-1] == 60
    assert np.isin(["neu", "hap", "ängstlich"], table.emotions).all()
    assert rttm.read_streamed(comment, lambda head: False).origin[0] == 2
    assert rttm.read_streamed(binary, lambda head: False) is None
    assert rttm.read_streamed(regular, lambda head: True) is None  # claimed by another format
    assert rttm.read_streamed(tmp_path / "missing.rttm", lambda head: False) is None
    assert rttm.read_streamed(tmp_path, lambda head: False) is None


@pytest.mark.parametrize("size", [None, 0, 100])
def test_columns_grow_when_the_size_is_unknown_or_too_small(monkeypatch, size):
    """The column arrays are sized from the text's length; a wrong or missing length
    (a file that grew while read) gives the same columns, grown as needed."""
    monkeypatch.setattr(rttm, "_CHUNK", 64)
    data = "\n".join(lines(5000)).encode() + b"\n"
    exact = rttm._columns([data], "x", len(data))
    cut = data.index(b"\n", 40000) + 1  # pieces end at line ends
    grown = rttm._columns([data[:cut], data[cut:]], "x", size)
    for a, b in zip(exact, grown):
        if isinstance(a, tuple):  # a label column: (vocabulary, codes)
            assert list(a[0].index) == list(b[0].index)
            a, b = a[1], b[1]
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()
    assert len(exact[0]) == 5000
