"""The arrows run one way (DESIGN §1): HTTP and the CLI go to services, services to the
protocol core and the stores, and no package imports one that imports it back."""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).parent.parent / "src"
PACKAGE = SRC / "sessile"

#: Where HTTP and the CLI may still hold the database itself, and what of it: the app's
#: lifespan, the readiness probe, and the CLI's migrate-and-close around each command.
DATABASE_HANDLES = {
    ("http/app.py", "close"),
    ("http/app.py", "driver"),
    ("http/routes/health.py", "ping"),
    ("cli/common.py", "engine"),
    ("cli/common.py", "close"),
}


def _imports() -> dict[str, set[str]]:
    """Each module's module-level imports of other sessile modules."""
    modules = {
        ".".join(p.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__"): p
        for p in PACKAGE.rglob("*.py")
    }
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sessile"):
                assert node.module is not None
                found |= {f"{node.module}.{a.name}" for a in node.names} & modules.keys()
                found |= {node.module} & modules.keys()
        graph[name] = found
    return graph


def _package(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_no_package_imports_one_that_imports_it_back() -> None:
    edges: dict[str, set[str]] = {}
    for module, targets in _imports().items():
        for target in targets:
            if _package(module) != _package(target):
                edges.setdefault(_package(module), set()).add(_package(target))

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            here = todo.pop()
            if here == goal:
                return True
            if here not in seen:
                seen.add(here)
                todo.extend(edges.get(here, ()))
        return False

    circles = sorted({(a, b) for a, bs in edges.items() for b in bs if reaches(b, a)})
    assert circles == []


def test_dpop_is_protocol_only() -> None:
    allowed = {"sessile.dpop", "sessile.clock", "sessile.config", "sessile.errors", "sessile.jose"}
    for module, targets in _imports().items():
        if module.startswith("sessile.dpop"):
            assert {_package(t) for t in targets} <= allowed, module
    for path in (PACKAGE / "dpop").glob("*.py"):
        text = path.read_text()
        assert not re.search(r"^(from|import) (fastapi|starlette|sqlalchemy|redis)", text, re.M)


def test_http_and_the_cli_reach_the_database_only_through_services() -> None:
    found = set()
    for folder in ("http", "cli"):
        for path in (PACKAGE / folder).rglob("*.py"):
            for member in re.findall(r"\.db\.(\w+)", path.read_text()):
                found.add((str(path.relative_to(PACKAGE)), member))
    assert found == DATABASE_HANDLES


#: The SQLAlchemy async engine (aiosqlite, asyncpg through an adapter) serves migrations
#: and the command line; every request's statements run on the drivers (DESIGN §8).
ENGINE_HOLDERS = {"store/engine.py", "store/migrate.py", "store/database.py"}


def test_only_migrations_and_the_database_handle_hold_the_async_engine() -> None:
    holders = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            elif isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            else:
                continue
            if any(m.startswith("sqlalchemy.ext.asyncio") for m in modules):
                holders.add(str(path.relative_to(PACKAGE)))
    assert holders == ENGINE_HOLDERS
