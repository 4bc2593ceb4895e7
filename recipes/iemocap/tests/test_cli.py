"""The recipe's command line: help without torch, output paths, corrupted data files, options.

Every error is one line ``iemocap: error: FILE[:LINE]: problem``, exit status 2,
no traceback, and nothing written.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from recipes.iemocap.__main__ import main as cli
from recipes.iemocap.config import RETIRED_FLAGS

ROOT = Path(__file__).resolve().parents[3]

# torch and transformers made unimportable in the child process, as on a machine without them
NO_TORCH = "import sys; sys.modules['torch'] = sys.modules['transformers'] = None\n"


def python(code: str, cwd: Path = ROOT, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={"PATH": "", **env})


def one_error(capsys, rc: int, *needles: str) -> str:
    err = capsys.readouterr().err
    assert rc == 2, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("iemocap: error: "), err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def test_every_stage_help_without_torch():
    # a stage's options need no model packages: its module imports torch only when it runs
    out = python(NO_TORCH + "from recipes.iemocap.__main__ import STAGES, main\n"
                 "for stage in STAGES:\n"
                 "    try:\n        main([stage, '--help'])\n"
                 "    except SystemExit as exc:\n        assert exc.code == 0, (stage, exc.code)\n"
                 "    else:\n        raise AssertionError(stage)\n", PYTHONPATH=str(ROOT))
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("usage: python -m recipes.iemocap") == 7
    for option in ("--set", "--data", "--out", "--resume", "--smoke", "--checkpoint", "--run-whisperx", "-q"):
        assert option in out.stdout, option
    for option in RETIRED_FLAGS:   # setting flags are gone: every setting is a --set
        assert option not in out.stdout, option


def test_importing_the_torch_stages_does_not_import_torch():
    out = python("import sys\nimport recipes.iemocap.__main__\n"
                 "import recipes.iemocap.stages.train, recipes.iemocap.stages.evaluate, recipes.iemocap.stages.score\n"
                 "import recipes.iemocap.stages.run, recipes.iemocap.stages.alignment_study, recipes.iemocap.stages.common\n"
                 "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))\n",
                 PYTHONPATH=str(ROOT))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_a_torch_stage_without_torch_says_how_to_install_it(tmp_path):
    out = python(NO_TORCH + "from recipes.iemocap.__main__ import main\n"
                 f"sys.exit(main(['train', '--data', {str(tmp_path)!r}, '--out', {str(tmp_path / 'o')!r}]))\n",
                 PYTHONPATH=str(ROOT))
    assert out.returncode == 2
    assert out.stderr.startswith("iemocap: error: the train stage needs torch, which is not installed: ")
    assert "download.pytorch.org/whl/cpu" in out.stderr and '".[recipe]"' in out.stderr
    assert len(out.stderr.splitlines()) == 1


def test_running_a_torch_stage_without_torch_is_one_line(tmp_path):
    # run's options need no torch (its --help works); running it does
    out = python(NO_TORCH + "from recipes.iemocap.__main__ import main\n"
                 f"sys.exit(main(['run', '--smoke', '--out', {str(tmp_path / 'o')!r}]))\n",
                 PYTHONPATH=str(ROOT))
    assert out.returncode == 2, out.stderr
    assert out.stderr.startswith("iemocap: error: the run stage needs torch, which is not installed: ")
    assert len(out.stderr.splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_prepare_and_align_do_not_import_torch(tmp_path):
    code = ("import sys\nfrom recipes.iemocap.__main__ import main\n"
            "from recipes.iemocap.tools.synthetic import make_corpus\n"
            f"make_corpus({str(tmp_path / 'c')!r}, seed=1, dialogs_per_session=1, utterances_per_dialog=4)\n"
            f"assert main(['prepare', '--set', {'prepare.corpus=' + str(tmp_path / 'c')!r}, '--out', {str(tmp_path / 'd')!r}, '-q']) == 0\n"
            f"assert main(['align', '--data', {str(tmp_path / 'd')!r}, '-q']) == 0\n"
            "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))\n")
    out = python(code, PYTHONPATH=str(ROOT))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_runs_from_another_directory_with_pythonpath(tmp_path):
    out = subprocess.run([sys.executable, "-m", "recipes.iemocap", "prepare", "--help"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120,
                         env={"PATH": "", "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    # the default config is found relative to the recipe, not the working directory
    # (argparse may wrap the path at a hyphen, so the help is compared without white space)
    assert "".join(str(ROOT / "recipes" / "iemocap" / "conf" / "default.yaml").split()) in "".join(out.stdout.split())


def test_help_is_written_for_users(capsys):
    with pytest.raises(SystemExit):
        cli(["--help"])
    text = capsys.readouterr().out
    assert "add_arguments" not in text and "main(args)" not in text
    for stage in ("prepare", "align", "train", "evaluate", "score", "run"):
        assert stage in text
    with pytest.raises(SystemExit):
        cli(["align", "--help"])
    text = capsys.readouterr().out
    # every option says what it is for
    options = [line.split()[0] for line in text.splitlines() if line.startswith("  -")]
    described = [line for line in text.splitlines() if line.startswith("  -") and len(line.split()) > 2]
    assert options and len(described) + text.count("\n                       ") >= len(options)


def test_usage_errors_are_one_line(capsys):
    with pytest.raises(SystemExit) as info:
        cli(["align", "--data"])
    assert info.value.code == 2
    one_error(capsys, 2, "--data", "expected one argument")
    with pytest.raises(SystemExit):
        cli(["nope"])
    one_error(capsys, 2, "invalid choice: 'nope'")


# --------------------------------------------------------------------------
# prepare: where the outputs go

@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from recipes.iemocap.tools.synthetic import make_corpus

    root = tmp_path_factory.mktemp("tiny")
    make_corpus(root / "corpus", seed=2, dialogs_per_session=1, utterances_per_dialog=4)
    assert cli(["prepare", "--set", f'prepare.corpus={root / "corpus"}', "--out", str(root / "data"), "-q"]) == 0
    return root / "corpus", root / "data"


@pytest.mark.parametrize("stage, message", [
    ("prepare", "{target}: cannot write the outputs here: not a directory"),
    ("align", "{target}/hyp_turns.json: cannot write"),
])
def test_out_is_an_existing_file(tiny, tmp_path, capsys, stage, message):
    corpus, data = tiny
    source = ["--set", f'prepare.corpus={corpus}'] if stage == "prepare" else ["--data", str(data)]
    target = tmp_path / "taken"
    target.write_text("mine\n")
    one_error(capsys, cli([stage, *source, "--out", str(target), "-q"]), message.format(target=target))
    assert target.read_text() == "mine\n"


def test_prepare_out_below_an_existing_file(tiny, tmp_path, capsys):
    corpus, _ = tiny
    target = tmp_path / "taken"
    target.write_text("mine\n")
    one_error(capsys, cli(["prepare", "--set", f'prepare.corpus={corpus}', "--out", str(target / "sub"), "-q"]),
              f"{target / 'sub'}: cannot write the outputs here")


def test_prepare_out_in_an_unwritable_place(tiny, capsys):
    corpus, _ = tiny
    # /proc refuses new directories even to root
    one_error(capsys, cli(["prepare", "--set", f'prepare.corpus={corpus}', "--out", "/proc/teer-test", "-q"]),
              "/proc/teer-test: cannot write the outputs here")


# --------------------------------------------------------------------------
# align: a corrupted utterances.jsonl

def corrupt(data: Path, tmp_path: Path, line: int, new: bytes) -> Path:
    """A copy of the prepared data whose utterances.jsonl line ``line`` is ``new``."""
    copy = tmp_path / "data"
    shutil.copytree(data, copy)
    lines = (copy / "utterances.jsonl").read_bytes().splitlines(keepends=True)
    lines[line - 1] = new + b"\n"
    (copy / "utterances.jsonl").write_bytes(b"".join(lines))
    return copy


def first_row(data: Path) -> dict:
    return json.loads((data / "utterances.jsonl").read_text(encoding="utf-8").splitlines()[0])


@pytest.mark.parametrize("make, problem", [
    (lambda row: b"\xff" + json.dumps(row).encode(), "not UTF-8 text"),                 # UnicodeDecodeError
    (lambda row: b"[1, 2]", "expected a JSON object, not list"),                        # AttributeError
    (lambda row: b'"text"', "expected a JSON object, not str"),
    (lambda row: json.dumps({k: v for k, v in row.items() if k != "dialog"}).encode(),  # KeyError
     "missing field(s) dialog"),
    (lambda row: b"[" * 100_000 + b"]" * 100_000, "JSON nested too deeply"),            # RecursionError
    (lambda row: b"{", "not JSON"),
    (lambda row: json.dumps({**row, "start": "abc"}).encode(), "start and end must be times"),
    (lambda row: json.dumps({**row, "end": -1}).encode(), "start and end must be times"),
    (lambda row: json.dumps({**row, "start": float("nan")}).encode(), "start and end must be times"),
    (lambda row: json.dumps({**row, "speaker": None}).encode(), "speaker must be a non-empty string"),
    (lambda row: json.dumps({**row, "text": "a\ud800"}, ensure_ascii=False).encode("utf-8", "surrogatepass"),
     "not UTF-8 text"),
    (lambda row: json.dumps({**row, "text": "a\ud800"}).encode(), "text is not valid Unicode"),
    (lambda row: json.dumps({**row, "text": None}).encode(), "text must be a string, not null"),
    (lambda row: json.dumps({**row, "words": [["HI", 2, 1]]}).encode(), "words[0] must be"),
    (lambda row: json.dumps({**row, "words": "HI"}).encode(), "words must be a list"),
])
def test_align_on_a_corrupted_utterances_file(tiny, tmp_path, capsys, make, problem):
    _, data = tiny
    bad = corrupt(data, tmp_path, 1, make(first_row(data)))
    one_error(capsys, cli(["align", "--data", str(bad), "--out", str(tmp_path / "o"), "-q"]),
              f"{bad / 'utterances.jsonl'}:1: ", problem)
    assert not (tmp_path / "o").exists()


def test_align_on_a_repeated_utterance(tiny, tmp_path, capsys):
    _, data = tiny
    text = (data / "utterances.jsonl").read_bytes()
    bad = corrupt(data, tmp_path, 2, text.splitlines()[0])
    one_error(capsys, cli(["align", "--data", str(bad), "-q"]),
              f"{bad / 'utterances.jsonl'}:2: ", "is listed twice")


# --------------------------------------------------------------------------
# align: options

@pytest.mark.parametrize("key, value", [
    ("min_overlap", ".nan"), ("min_overlap", "-1"), ("min_overlap", ".inf"), ("min_overlap", "5"),
    ("max_gap", "-1"), ("max_gap", ".nan"), ("max_gap", ".inf"),
])
def test_align_rejects_out_of_range_options(tiny, tmp_path, capsys, key, value):
    _, data = tiny
    rc = cli(["align", "--data", str(data), "--out", str(tmp_path / "o"), "-q", "--set", f"align.{key}={value}"])
    one_error(capsys, rc, f"iemocap: error: --set: align.{key}: expected ")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("argv, replacement", [
    (["align", "--max-gap", "2"], "--set 'align.max_gap=2'"),
    (["align", "--source", "whisperx", "--asr", "A"], "--set 'align.source=whisperx'"),
    (["prepare", "--corpus", "/data/IEMOCAP"], "--set 'prepare.corpus=/data/IEMOCAP'"),
    (["prepare", "--label-set", "full"], "--set 'labels.set=full'"),
    (["train", "--out", "o", "--folds", "1", "2"], "--set 'train.folds=[1, 2]'"),
    (["evaluate", "--out", "o", "--device", "cuda:1"], "--set 'train.device=cuda:1'"),
    (["score", "--out", "o", "--folds", "3"], "--set 'train.folds=[3]'"),
    (["run", "--smoke", "--out", "o", "--seeds", "3", "4"], "--set 'run.seeds=[3, 4]'"),
    (["alignment-study", "--out", "o", "--seed", "0", "1"], "--set 'study.seeds=[0, 1]'"),
    (["alignment-study", "--out", "o", "--factors", "word_drop"], "--set 'study.factors=[word_drop]'"),
])
def test_an_old_setting_flag_names_its_set(capsys, argv, replacement):
    with pytest.raises(SystemExit) as info:
        cli(argv)
    assert info.value.code == 2
    flag = next(a for a in argv if a in RETIRED_FLAGS)
    one_error(capsys, 2, f"iemocap: error: {flag} is gone: settings are set with --set, here {replacement} ")


@pytest.mark.parametrize("key, value", [("max_gap", "abc"), ("max_gap", -2), ("min_overlap", 1.5),
                                        ("min_overlap", True)])
def test_align_rejects_out_of_range_config_values(tiny, tmp_path, capsys, key, value):
    _, data = tiny
    config = tmp_path / "c.yaml"
    config.write_text(f"align:\n  {key}: {json.dumps(value)}\n")
    rc = cli(["align", "--data", str(data), "--config", str(config), "--out", str(tmp_path / "o"), "-q"])
    one_error(capsys, rc, f"{config}:2: align.{key}: expected ", repr(value))


def test_align_accepts_the_range_limits(tiny, tmp_path, capsys):
    _, data = tiny
    for gap, overlap in (("0", "0"), ("1e6", "1")):
        assert cli(["align", "--data", str(data), "--out", str(tmp_path / gap), "-q",
                    "--set", f"align.max_gap={gap}", "--set", f"align.min_overlap={overlap}"]) == 0, \
            capsys.readouterr().err
        assert json.loads((tmp_path / gap / "hyp_turns.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------
# the documentation's command lines are ones the parser accepts

def documented_commands() -> list[list[str]]:
    """Each concrete ``python -m recipes.iemocap ...`` line of the two READMEs, as argv."""
    import shlex

    commands = []
    for readme in (ROOT / "README.md", ROOT / "recipes" / "iemocap" / "README.md"):
        for line in readme.read_text(encoding="utf-8").splitlines():
            code = line.split("#")[0].strip()
            if not code.startswith("python -m recipes.iemocap ") or any(c in code for c in "{[") \
                    or "..." in code:
                continue
            commands.append(shlex.split(code)[3:])
    return commands


def test_documented_command_lines_parse(capsys):
    from recipes.iemocap.__main__ import build_parser

    commands = documented_commands()
    assert ["run", "--smoke", "--out", "/tmp/smoke"] in commands
    for argv in commands:
        parser, _ = build_parser(argv[0])
        parser.parse_args(argv)  # exits (failing the test) on an argument the code does not take
    with pytest.raises(SystemExit):  # --out is required, as the READMEs say
        build_parser("run")[0].parse_args(["run", "--smoke"])
    assert "--out" in capsys.readouterr().err
