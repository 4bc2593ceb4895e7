"""teer.options: the keyword options, declared once on ``resolve``, and how they are checked."""
import inspect
import pydoc

import pytest

import teer
from teer import api
from teer.options import option_names, resolve

REF = [dict(file="a", start=0, end=5, speaker="s", emotion="hap")]


@pytest.mark.parametrize("function", [teer.score, api.run])
def test_forwarding_functions_show_every_option(function):
    shown = inspect.signature(function).parameters
    assert set(option_names()) <= set(shown)
    assert shown["collar"].default is None and shown["collar"].kind is inspect.Parameter.KEYWORD_ONLY
    assert not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in shown.values())


def test_help_lists_the_options():
    text = pydoc.render_doc(teer.score, renderer=pydoc.plaintext)
    assert "collar: 'float | None' = None" in text and "neutral" in text and "jobs" in text


@pytest.mark.parametrize("function, name", [(teer.score, "score"), (api.run, "run")])
def test_an_unknown_keyword_is_a_type_error_naming_it(function, name):
    with pytest.raises(TypeError, match=rf"{name}\(\) got an unexpected keyword argument 'colar'; "
                                        r"the scoring options are collar, regions"):
        function(REF, REF, colar=0.25)


def test_options_reach_resolve():
    assert option_names()[:2] == ("collar", "regions")
    report = teer.score(REF, REF, collar=0.5)
    assert report.total.TOTAL == pytest.approx(4.0)
    assert resolve(collar=0.5).collar == 0.5
