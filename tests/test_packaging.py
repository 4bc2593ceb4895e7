"""First contact: the distribution's name, the install hints, the README's commands and CI."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from teer.extras import DISTRIBUTION, install_hint

ROOT = Path(__file__).resolve().parents[1]

#: every text a user reads an install line in
HINT_SOURCES = ["README.md", "recipes/iemocap/README.md", ".ci/run", "pyproject.toml",
                *(str(p.relative_to(ROOT)) for p in sorted((ROOT / "teer").rglob("*.py"))),
                *(str(p.relative_to(ROOT)) for p in sorted((ROOT / "recipes").rglob("*.py")))]


def quickstart_commands() -> list[str]:
    """The lines of the first code block of README.md's Quickstart section."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Quickstart\n", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, "README.md's Quickstart has no ```bash block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_distribution_name_in_pyproject_is_the_one_hints_use():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^name = "([^"]+)"$', pyproject, re.M).group(1) == DISTRIBUTION
    assert DISTRIBUTION != "teer"  # `teer` on PyPI is another project
    assert re.search(r'^teer = "teer.cli:main"$', pyproject, re.M)  # the command stays `teer`
    assert install_hint("plot") == 'pip install "teer-scorer[plot]"'


def test_no_install_line_names_the_other_projects_teer():
    offenders = []
    for name in HINT_SOURCES:
        text = (ROOT / name).read_text(encoding="utf-8")
        for match in re.finditer(r"pip install\s+(?:-\S+\s+)*[\"']?([^\s\"'`]+)", text):
            target = match.group(1)
            if target.startswith("teer") and not target.startswith(DISTRIBUTION):
                offenders.append(f"{name}: {match.group(0)}")
    assert offenders == []


def test_readme_says_near_the_top_that_the_distribution_name_differs():
    head = (ROOT / "README.md").read_text(encoding="utf-8")[:800]
    assert f"`{DISTRIBUTION}`" in head and "`import teer`" in head


def test_ci_runs_the_readme_quickstart_commands_as_written():
    commands = quickstart_commands()
    assert len(commands) == 2
    install_and_score, install_and_test = commands
    assert "teer score examples/" in install_and_score
    assert "[test]" in install_and_test and "pytest" in install_and_test
    # the test command installs no torch: the recipe extra is not in it
    assert "recipe" not in install_and_test and "torch" not in install_and_test
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert commands == [line for line in ci if line in commands]
    # CPU torch comes after the test command and before the recipe's extra
    torch_at = ci.index("python -m pip install --quiet torch==2.13.0")
    recipe_at = next(i for i, line in enumerate(ci) if ".[recipe]" in line)
    assert ci.index(install_and_test) < torch_at < recipe_at
    assert ci[-1] == "python -m pytest -q recipes/iemocap/tests"


def test_import_teer_pyannote_without_pyannote_metrics_names_the_extra():
    # pyannote.metrics made unimportable, as on a machine without it
    code = ("import sys; sys.modules['pyannote.metrics'] = None\n"
            "try:\n    import teer.pyannote\n"
            "except ImportError as err:\n    print(type(err).__name__, err)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ('ImportError teer.pyannote needs pyannote.metrics: '
                                  'pip install "teer-scorer[pyannote]"')


#: the documents a reader is sent to, each linking to the others by relative paths
DOCUMENTS = ["README.md", "CONTRIBUTING.md", "CHANGELOG.md", "benchmarks/README.md",
             *(str(p.relative_to(ROOT)) for p in sorted((ROOT / "docs").glob("*.md"))),
             *(str(p.relative_to(ROOT)) for p in sorted((ROOT / "benchmarks" / "results").rglob("README.md")))]


def test_readme_is_for_users_within_its_budget_and_points_to_docs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 400
    for page in ("conventions", "presets", "formats", "usage", "algorithm"):
        assert f"(docs/{page}.md" in readme and (ROOT / "docs" / f"{page}.md").is_file()
    for heading in ("## Quickstart", "## Install", "## Usage", "## Performance", "## Citation"):
        assert f"\n{heading}" in readme
    # the history lives in CHANGELOG.md, with a section the next change goes into
    assert "\n## Unreleased\n" in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")


def test_relative_links_of_the_documents_lead_to_files_that_exist():
    broken = []
    for name in DOCUMENTS:
        text = (ROOT / name).read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            path = target.split("#", 1)[0]
            if not path or re.match(r"[a-z]+:", path):
                continue
            if not ((ROOT / name).parent / path).exists():
                broken.append(f"{name}: {target}")
    assert broken == []
