"""teer.api: what ``teer.score`` accepts as inputs and options, and what it raises otherwise."""
from __future__ import annotations

import re

import pytest

import teer


@pytest.mark.parametrize("collar", [float("inf"), float("nan"), -1.0])
def test_python_api_refuses_a_non_finite_collar(collar):
    with pytest.raises(ValueError, match="collar"):
        teer.score("examples/ref.rttm", "examples/hyp.json", collar=collar)


@pytest.mark.parametrize("reference, error, message", [
    (b"ref.rttm", TypeError, "path"),
    ({"a": 1}, TypeError, "cannot score a dict"),
    ([dict(file="a", start=0, end=1)], teer.InputError, r"record \[0\]: missing key 'speaker'"),
    ([dict(file="a", start="abc", end=1, speaker="s")], teer.InputError, r"record \[0\]: start 'abc' is not"),
    ([dict(file="a", start=True, end=1, speaker="s")], teer.InputError, "found a boolean"),
    ([dict(file="a", start=0, end=1, speaker=None)], teer.InputError, "speaker must be a string"),
    ([dict(file="a", start=0, end=1, speaker="s"), 3], teer.InputError, r"record \[1\]: expected a mapping"),
    ([dict(file="a", start=2, end=1, speaker="s")], teer.InputError, r"record \[0\]: end 1.0 is before"),
])
def test_python_api_raises_input_error_or_type_error(reference, error, message):
    with pytest.raises(error, match=message):
        teer.score(reference, [])


@pytest.mark.parametrize("options, error", [
    (dict(collar=True), TypeError), (dict(collar="0.25"), TypeError),
    (dict(speaker_map=[("a", "X", "A")]), TypeError), (dict(speaker_map={"spk0": "alice"}), TypeError),
    (dict(uem={"a": [(0, 5), (4, 6)]}), teer.InputError), (dict(uem={"a": [(True, 5)]}), TypeError),
    (dict(uem={"a": [(0,)]}), teer.InputError),
])
def test_python_api_options_are_checked(options, error):
    ref = [dict(file="a", start=0, end=5, speaker="s", emotion="hap")]
    with pytest.raises(error):
        teer.score(ref, ref, **options)


def test_integer_labels_in_records_mean_their_decimal_string():
    ref = [dict(file=1, start=0, end=5, speaker=7, emotion="hap")]
    assert list(teer.score(ref, ref, collar=0).files) == ["1"]


def test_input_error_carries_source_and_place():
    with pytest.raises(teer.InputError) as caught:
        teer.score([dict(file="a", start="x", end=1, speaker="s")], [])
    assert (caught.value.source, caught.value.location) == ("<reference>", "record [0]")
    assert re.match(r"<reference>:record \[0\]: ", str(caught.value))


@pytest.mark.parametrize("options", [dict(emotions=5), dict(emotion_map=5), dict(uem=5), dict(emotions=b"neu")])
def test_python_api_names_what_an_option_accepts(options):
    ref = [dict(file="a", start=0, end=5, speaker="s", emotion="hap")]
    with pytest.raises(TypeError, match="must be"):
        teer.score(ref, ref, **options)


def test_report_to_dataframe_has_a_row_per_file_and_the_total(tmp_path):
    import io
    import math

    import pandas as pd

    from teer.render import as_csv

    report = teer.score("examples/ref.rttm", "examples/hyp.json")
    frame = report.to_dataframe()
    assert list(frame.index) == ["dialog1", "dialog2", "TOTAL"] and frame.index.name == "file"
    assert list(frame.columns) == list(report.fields)
    assert frame.loc["TOTAL", "TEER"] == report.total.TEER
    assert frame.loc["dialog2", "MS"] == report.files["dialog2"].MS
    csv = pd.read_csv(io.StringIO(as_csv(report, per_file=True)), comment="#", index_col=0)
    pd.testing.assert_frame_equal(frame, csv, rtol=1e-9)
    # a rate that is not available is NaN, and the mean of per-file rates is a row of its own
    der_only = teer.score([dict(file="a", start=0, end=2, speaker="A", emotion=None)],
                          [dict(file="a", start=0, end=1, speaker="X", emotion=None)], average="files")
    frame = der_only.to_dataframe()
    assert list(frame.index) == ["a", "TOTAL", "MEAN"]
    assert math.isnan(frame.loc["TOTAL", "TEER"]) and frame.loc["MEAN", "DER"] == 0.5


def _example_seglst() -> list:
    import json

    return json.loads(open("examples/hyp.json").read())


def test_a_list_of_seglst_dicts_is_read_as_the_json_file_holding_it():
    expected = teer.score("examples/ref.rttm", "examples/hyp.json").to_dict()
    assert teer.score("examples/ref.rttm", _example_seglst()).to_dict() == expected
    # the JSON rules: every segment an emotion, errors naming the segment
    seglst = _example_seglst()
    del seglst[2]["emotion"]
    with pytest.raises(teer.InputError, match=r"<hypothesis>:segment \[2\]: missing key 'emotion'"):
        teer.score("examples/ref.rttm", seglst)


def test_dataframes_with_teer_or_seglst_columns():
    import numpy as np
    import pandas as pd

    expected = teer.score("examples/ref.rttm", "examples/hyp.json").to_dict()
    seglst = pd.DataFrame(_example_seglst())
    assert teer.score("examples/ref.rttm", seglst).to_dict() == expected
    records = pd.DataFrame({"file": seglst.session_id, "start": seglst.start_time, "end": seglst.end_time,
                            "speaker": seglst.speaker, "emotion": seglst.emotion, "score": 0.5})
    assert teer.score("examples/ref.rttm", records).to_dict() == expected
    # float32 times are read as the decimals they hold (0.05, not 0.05000000074505806)
    narrow = records.astype({"start": np.float32, "end": np.float32})
    assert teer.score("examples/ref.rttm", narrow).to_dict() == expected
    # a missing emotion is none in teer's columns, an error in SegLST's (as in a JSON file)
    records.loc[0, "emotion"] = None
    assert teer.score("examples/ref.rttm", records).total.TEER > expected["total"]["TEER"]
    seglst.loc[0, "emotion"] = np.nan
    with pytest.raises(teer.InputError, match=r"segment \[0\]: key 'emotion' is null"):
        teer.score("examples/ref.rttm", seglst)
    with pytest.raises(teer.InputError, match="the DataFrame has no column 'end'"):
        teer.score("examples/ref.rttm", records.drop(columns=["end"]))


def test_numpy_scalars_as_times_and_labels():
    import numpy as np

    plain = [dict(file="a", start=0.1, end=2.3, speaker="7", emotion="hap"),
             dict(file="a", start=1, end=4, speaker="8", emotion="sad")]
    expected = teer.score(plain, plain[:1]).to_dict()
    for kind in (np.float32, np.float64):
        records = [dict(r, start=kind(r["start"]), end=kind(r["end"]), speaker=np.int64(r["speaker"]))
                   for r in plain]
        assert teer.score(records, records[:1]).to_dict() == expected, kind
    ints = [dict(r, start=np.int32(round(r["start"])), end=np.uint64(round(r["end"]))) for r in plain]
    assert teer.score(ints, ints, collar=0).total.TOTAL == 5
    # a float32 time where float32 steps are coarser than a millisecond is refused, with the reason
    late = [dict(plain[0], start=np.float32(20000.1), end=np.float32(20001.5))]
    with pytest.raises(teer.InputError, match=r"record \[0\]: start 20000.1 is a float32 value: at this time a "
                                              r"float32 holds only steps of 0.00195312 s; give times as float64"):
        teer.score(late, late)
    with pytest.raises(teer.InputError, match=r"end 2.3 is a float16 value: .* steps of 0.00195312 s"):
        teer.score([dict(plain[0], start=np.float16(0.1), end=np.float16(2.3))], plain)
    with pytest.raises(teer.InputError, match="start must be a number"):
        teer.score([dict(plain[0], start=np.bool_(True))], plain)
