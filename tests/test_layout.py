"""The house rules that keep the layout readable: the service never imports training or evaluation code,
the HTTP layer is the only one that imports the web framework, and the README's paths exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SERVICE = REPO / "service"
OFFLINE_ONLY = ("service.training", "service.evaluation")


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    return modules


def runtime_modules() -> list[Path]:
    return [path for path in SERVICE.rglob("*.py") if not {"training", "evaluation"} & set(path.relative_to(SERVICE).parts)]


def test_no_runtime_module_imports_training_or_evaluation_code():
    modules = runtime_modules()
    assert len(modules) > 30
    offenders = {str(path.relative_to(REPO)): sorted(m for m in imported_modules(path) if m.startswith(OFFLINE_ONLY)) for path in modules}
    assert {path: found for path, found in offenders.items() if found} == {}


@pytest.mark.parametrize("stage", ["pipeline", "index", "runtime"])
def test_only_the_http_layer_imports_the_web_framework(stage):
    modules = list((SERVICE / stage).rglob("*.py"))
    assert modules
    web = ("fastapi", "starlette", "uvicorn")
    assert {str(p.relative_to(REPO)) for p in modules if any(m.split(".")[0] in web for m in imported_modules(p))} == set()


def test_the_readmes_layout_names_what_is_in_the_tree():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    layout = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    names = set(re.findall(r"`([\w/]+?)(?:\.py)?/?`", layout)) - {"unit", "integration", "browser", "slow"}
    files = {path.stem for path in REPO.rglob("*.py") if ".venv" not in path.parts}
    files |= {path.name for path in REPO.rglob("*") if path.is_dir()}
    assert len(names) > 30
    assert sorted(name for name in names if name.rstrip("/").split("/")[-1] not in files) == []
    packages = {str(path.parent.relative_to(REPO)) for path in SERVICE.rglob("__init__.py")} - {"service"}
    assert sorted(package for package in packages if package.split("/")[-1] not in {n.rstrip("/").split("/")[-1] for n in names}) == []


def test_training_reads_no_evaluation_code_but_the_near_topic_split_rule():
    """Training may know where the benchmark sets are and how the near-topic ones split, to keep them out of its pairs."""
    found = {
        str(path.relative_to(REPO)): sorted(m for m in imported_modules(path) if m.startswith("service.evaluation"))
        for path in (SERVICE / "training").rglob("*.py")
    }
    assert {path: modules for path, modules in found.items() if modules} == {
        "service/training/hard_neutrals.py": ["service.evaluation.near_topic"],
        "service/training/corpus_pairs.py": ["service.evaluation.near_topic"],  # SETS_DIR: the treaty-settled set held out
    }
