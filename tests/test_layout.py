"""The package layout is the pipeline: imports only point down, and no module grows past a page.

Each stage package sits on a floor; a module may import its own package and the floors below,
never a floor above it nor a neighbour on its own floor. Imports inside functions count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "autotosis"

FLOORS = {
    "core": 0,
    "media": 1,
    "pick": 2,
    "learn": 3,
    "signals": 4,
    "publish": 4,
    "run": 5,
    "demo": 6,
    "web": 6,
    "cli": 7,
}
MAX_LINES = 400


def stage_of(module: str) -> str | None:
    """'autotosis.learn.labels' -> 'learn'; top-level files (`__init__`, `__main__`) have none."""
    parts = module.split(".")
    if parts[0] != "autotosis" or len(parts) < 2:
        return None
    return parts[1] if parts[1] in FLOORS else None


def module_name(path: Path, package: Path = PACKAGE) -> str:
    return ".".join(path.relative_to(package.parent).with_suffix("").parts)


def imported_modules(path: Path, package: Path = PACKAGE) -> list[tuple[int, str]]:
    """(line, absolute module name) of every autotosis import in the file, lazy ones included."""
    tree = ast.parse(path.read_text(), filename=str(path))
    here = module_name(path, package)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here.split(".")[: -node.level]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            if base == "autotosis":  # `from autotosis import media`: the names are modules
                found += [(node.lineno, f"autotosis.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, base))
    return sorted((line, name) for line, name in found if name.split(".")[0] == "autotosis")


def python_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_module_lives_in_a_stage_package() -> None:
    loose = [p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py")]
    assert loose == [], f"modules outside a stage package: {loose}"
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert packages == set(FLOORS), "a new package needs a floor in FLOORS (and a docstring)"


def upward_imports(path: Path, package: Path = PACKAGE) -> list[str]:
    """Imports of a stage on the same floor or above the file's own stage."""
    own = stage_of(module_name(path, package))
    if own is None:
        return []
    upward = []
    for line, name in imported_modules(path, package):
        target = stage_of(name)
        if target is not None and target != own and FLOORS[target] >= FLOORS[own]:
            upward.append(f"line {line}: {own} (floor {FLOORS[own]}) imports {name} (floor {FLOORS[target]})")
    return upward


@pytest.mark.parametrize("path", python_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path: Path) -> None:
    assert upward_imports(path) == []


def test_no_module_is_over_a_page() -> None:
    sizes = {str(p.relative_to(PACKAGE)): len(p.read_text().splitlines()) for p in python_files()}
    long = {name: n for name, n in sizes.items() if n > MAX_LINES}
    assert long == {}, f"split these along their seams (limit {MAX_LINES} lines)"


def test_each_package_says_what_it_holds_and_may_import() -> None:
    for name in FLOORS:
        doc = ast.get_docstring(ast.parse((PACKAGE / name / "__init__.py").read_text())) or ""
        assert "May import" in doc, f"autotosis/{name}/__init__.py: docstring must say what it may import"


def test_the_checker_sees_upward_and_sideways_imports(tmp_path: Path) -> None:
    # The rule must be able to fail: made-up modules that import up, sideways, relatively and lazily.
    learn = tmp_path / "autotosis" / "learn"
    learn.mkdir(parents=True)
    (learn / "probe.py").write_text(
        "from autotosis.core.errors import LabelError\n"
        "from autotosis import media\n"
        "from . import labels\n"
        "from ..signals import scan\n"
        "def f():\n    from autotosis.run import compile\n"
    )
    found = upward_imports(learn / "probe.py", tmp_path / "autotosis")
    assert [line.split(":")[0] for line in found] == ["line 4", "line 6"]
    publish = tmp_path / "autotosis" / "publish"
    publish.mkdir()
    (publish / "probe.py").write_text("import autotosis.signals.chat\n")
    assert len(upward_imports(publish / "probe.py", tmp_path / "autotosis")) == 1
