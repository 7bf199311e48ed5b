"""The import graph docs/architecture.md describes, checked on the source itself.

- `artists` (people and certifications) never imports `cases` (the clinical record).
- Inside an app, imports run one way: views → forms → services → rules → models.
  A module is placed by its path: a `views`/`forms`/`services`/`models` part in it.
- `smpclinic` (the project) imports the apps only where it wires them together.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("smpclinic", "cases", "artists")
LAYERS = ("models", "rules", "services", "forms", "views")
# The project's wiring: the root URLs and the lookup rows every app's choices are kept in.
PROJECT_WIRING = {"smpclinic.urls", "smpclinic.lookups"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    return {
        _module_name(path): path
        for app in APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.parts and "management" not in path.parts
    }


SOURCES = _sources()


def imports_of(module: str) -> set[str]:
    """Every module `module` imports, at the top or inside a function."""
    tree = ast.parse(SOURCES[module].read_text(), filename=str(SOURCES[module]))
    package = module if SOURCES[module].name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            # `from cases import services` imports the sub-module `cases.services`.
            found |= {f"{target}.{alias.name}" for alias in node.names if f"{target}.{alias.name}" in SOURCES}
    return found


def layer(module: str) -> int | None:
    parts = module.split(".")
    for index, name in reversed(list(enumerate(LAYERS))):
        if any(part == name or part.endswith(f"_{name}") or part.startswith(f"{name}_") for part in parts[1:]):
            return index
    return None


def test_the_walk_finds_the_modules_and_their_imports():
    assert {"cases.models.cases", "cases.services.plans", "artists.models", "smpclinic.roles"} <= set(SOURCES)
    assert "smpclinic.roles" in imports_of("cases.services.plans")
    assert (layer("cases.models.plans"), layer("cases.services.plans"), layer("cases.views.plans")) == (0, 2, 4)


@pytest.mark.parametrize("module", sorted(m for m in SOURCES if m.startswith("artists")))
def test_artists_never_imports_cases(module):
    assert not {name for name in imports_of(module) if name == "cases" or name.startswith("cases.")}


@pytest.mark.parametrize("module", sorted(m for m in SOURCES if layer(m) is not None))
def test_imports_run_from_views_to_models_never_back(module):
    own = layer(module)
    upward = {
        name
        for name in imports_of(module)
        if name.split(".")[0] in APPS and layer(name) is not None and layer(name) > own
    }
    assert not upward, f"{module} ({LAYERS[own]}) imports {sorted(upward)}"


@pytest.mark.parametrize("module", sorted(m for m in SOURCES if m.startswith("smpclinic") and m not in PROJECT_WIRING))
def test_the_project_package_does_not_reach_into_the_apps(module):
    assert not {name for name in imports_of(module) if name.split(".")[0] in ("cases", "artists")}
