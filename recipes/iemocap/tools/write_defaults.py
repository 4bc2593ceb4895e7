"""Write ``conf/default.yaml`` from the dataclasses of ``config.py``, where the defaults live.

    python -m recipes.iemocap.tools.write_defaults           # rewrite conf/default.yaml
    python -m recipes.iemocap.tools.write_defaults --check   # exit 1 if it is not what config.py says

Every setting appears with its default value and, as a comment above it, the
docstring that follows its field in ``config.py`` (read from the source, as
Sphinx reads attribute docstrings). The file is never edited by hand: a test
checks that it is exactly what this module writes.
"""
from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import sys
import textwrap
from typing import Any

import yaml

from .. import config
from ..config import DEFAULT_CONFIG, RecipeConfig, as_dict

WIDTH = 96
HEADER = """\
# Every setting of the IEMOCAP recipe with its default: the real corpus, roberta-base +
# facebook/wav2vec2-base.
#
#   python -m recipes.iemocap run --config recipes/iemocap/conf/default.yaml --out exp/iemocap
#
# Written from the dataclasses of recipes/iemocap/config.py, where the defaults and their
# checks live, by `python -m recipes.iemocap.tools.write_defaults`: change config.py and run it;
# never edit this file by hand (a test checks it). A config file of your own needs only the
# settings it changes; `--set KEY=VALUE` changes one more on the command line.
"""


def field_docs() -> dict[tuple[str, str], str]:
    """(class name, field name) -> the docstring that follows the field in ``config.py``."""
    tree = ast.parse(inspect.getsource(config))
    docs = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        body = node.body
        for stmt, after in zip(body, body[1:]):
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) \
                    and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant) \
                    and isinstance(after.value.value, str):
                docs[(node.name, stmt.target.id)] = after.value.value
    return docs


def _comment(text: str | None, indent: str) -> list[str]:
    if not text:
        return []
    text = " ".join(inspect.cleandoc(text).replace("``", "`").split())
    return [f"{indent}# {line}" for line in textwrap.wrap(text, WIDTH - len(indent) - 2)]


def _flow(value: Any) -> str:
    """One value on one line, as YAML."""
    text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=10**6)
    return text.removesuffix("\n").removesuffix("\n...").strip()


def _doc(cls: type, name: str, docs: dict) -> str | None:
    for klass in cls.__mro__:
        if (klass.__name__, name) in docs:
            return docs[(klass.__name__, name)]
    return None


def _section(obj: Any, indent: str, docs: dict) -> list[str]:
    lines = []
    for f in dataclasses.fields(obj):
        if not f.metadata:
            continue
        value = getattr(obj, f.name)
        if "section" in f.metadata:
            lines += _comment(inspect.getdoc(type(value)), indent)
            lines.append(f"{indent}{f.name}:")
            lines += _section(value, indent + "  ", docs)
            continue
        lines += _comment(_doc(type(obj), f.name, docs), indent)
        plain = as_dict(value)
        if isinstance(plain, dict) and plain:   # a mapping: one entry a line
            lines.append(f"{indent}{f.name}:")
            lines += [f"{indent}  {_flow(k)}: {_flow(v)}" for k, v in plain.items()]
        else:
            lines.append(f"{indent}{f.name}: {_flow(plain)}")
    return lines


def defaults_yaml() -> str:
    """The text of ``conf/default.yaml``: every section of :class:`RecipeConfig`, commented."""
    docs = field_docs()
    cfg = RecipeConfig()
    out = [HEADER.rstrip("\n")]
    for f in dataclasses.fields(cfg):
        if not f.metadata:
            continue
        section = getattr(cfg, f.name)
        out += ["", *_comment(inspect.getdoc(type(section)), ""), f"{f.name}:", *_section(section, "  ", docs)]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recipes.iemocap.tools.write_defaults",
                                     description="Write conf/default.yaml from config.py's dataclasses.")
    parser.add_argument("--check", action="store_true", help="only check that the file is up to date")
    args = parser.parse_args(argv)
    text = defaults_yaml()
    if args.check:
        same = DEFAULT_CONFIG.is_file() and DEFAULT_CONFIG.read_text(encoding="utf-8") == text
        if not same:
            print(f"{DEFAULT_CONFIG}: not what config.py says; run python -m recipes.iemocap.tools.write_defaults",
                  file=sys.stderr)
        return 0 if same else 1
    DEFAULT_CONFIG.write_text(text, encoding="utf-8")
    print(f"wrote {DEFAULT_CONFIG}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
