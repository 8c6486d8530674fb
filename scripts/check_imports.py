"""Two checks on the imports of the code (``./run lint`` and ``./run test`` run it; docs/design.md, "Layout"):

1. **Declared**: every third-party top-level import in ``corroborate/`` and ``flows/`` comes from a
   distribution that pyproject.toml declares (``[project] dependencies`` or a non-dev extra); in
   ``tests/``, ``benchmarks/`` and ``scripts/`` the ``dev`` extra counts too. Import names are
   mapped to distributions by :func:`importlib.metadata.packages_distributions` (``sklearn`` is
   scikit-learn), so the check needs the project's environment.
2. **The import graph** of ``corroborate`` and ``flows`` (every import statement, at module level,
   inside functions and under ``TYPE_CHECKING``): no cycle; no module importing one above it in
   the layer order of :data:`LAYERS`; no runtime module (anything outside ``corroborate.training``)
   importing ``corroborate.training`` except the uses listed in :data:`TRAINING_EXCEPTIONS`.
3. **The drawn layout**: the tree in docs/design.md's "Layout" names every module of ``corroborate/``
   and ``flows/`` (``__init__.py`` aside) and no module that is not there.

It prints the graph summary (modules per package, cycles, upward imports, training imports) and
exits 1 when a check fails::

    python scripts/check_imports.py                 # both checks on this checkout
    python scripts/check_imports.py --graph-only --root /tmp/old --renames renames.txt

``--renames`` reads ``OLD_PATH NEW_PATH`` lines (``git show -M --name-status``'s R lines) so an
older layout can be measured with today's layers: each old module is placed where it moved.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib.metadata import packages_distributions
from pathlib import Path

FIRST_PARTY = ("corroborate", "flows")
# The layer order, bottom first: a module may import its own layer and those below it. An entry is a
# module, or a package and everything in it ("pkg.*"). At the base, beside errors and settings, sit the
# leaf utilities every layer uses and that import nothing of ours but the base: output (atomic writes
# that never replace the input, spreadsheet-safe cells: judge.pairs' CSV, the cli), screens (untrusted
# text made safe to show; URL credentials stripped before a URL is stored or shown: corpus.dedup,
# check, report), interrupt (SIGINT/SIGTERM end a run cleanly: ingest steps, flows) and languages
# (which languages an embedder and a judge read: settings, ingest, the index, check).
# corroborate.training sits above check (it scores and calibrates what check does) and is imported by
# no runtime module; flows wire the library and the service for Prefect, and the cli starts flows, so
# flows sit between service and cli.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("base", ("corroborate", "corroborate.errors", "corroborate.settings", "corroborate.output",
              "corroborate.screens", "corroborate.interrupt", "corroborate.languages")),
    ("corpus", ("corroborate.corpus.*",)),
    ("ingest", ("corroborate.ingest.*",)),
    ("claims", ("corroborate.claims.*",)),
    ("judge", ("corroborate.judge.*",)),
    ("check", ("corroborate.check.*",)),
    ("training", ("corroborate.training.*",)),
    ("report", ("corroborate.report",)),
    ("service", ("corroborate.service", "corroborate.daemon")),
    ("flows", ("flows.*",)),
    ("cli", ("corroborate.cli", "corroborate.docgen", "corroborate.train_judge")),
)
TRAINING = "corroborate.training"
# (importing module, function it imports inside or "<module>", imported module prefix, why)
TRAINING_EXCEPTIONS: tuple[tuple[str, str, str, str], ...] = (
    ("corroborate.cli", "_judge_eval", TRAINING, "corroborate eval snli|cannot|perspectrum|fnc1|..."),
    ("corroborate.cli", "eval_fnc1_headlines", TRAINING, "corroborate eval fnc1-headlines"),
    ("corroborate.cli", "eval_denials", TRAINING, "corroborate eval denials"),
    ("corroborate.cli", "calibrate", TRAINING, "corroborate calibrate"),
    ("corroborate.train_judge", "<module>", "corroborate.training.train_judge",
     "the python -m corroborate.train_judge shim"),
)
# Imports left out of the cycle search, each with what removes it: (importer, imported) -> why. Printed
# on every run; an entry is deleted as soon as its importer is changed.
CYCLE_EXCEPTIONS: dict[tuple[str, str], str] = {}
PACKAGE_SCOPES = ("corroborate", "flows")  # imports checked against the runtime dependencies and extras
DEV_SCOPES = ("tests", "benchmarks", "scripts")  # the dev extra counts too
# Imports that are on purpose no dependency of the project: (scope folder, import name) -> why
NOT_DEPENDENCIES = {
    ("scripts", "fundus"): "scripts/import_fundus.py runs in a throwaway virtual environment (see its docstring)",
}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # what it imports (a module of ours, or a top-level name for third-party)
    line: int
    function: str  # the enclosing function, or "<module>"
    type_only: bool  # under `if TYPE_CHECKING:`


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def python_files(root: Path, scopes: Iterable[str]) -> Iterator[Path]:
    for scope in scopes:
        folder = root / scope
        if folder.is_dir():
            yield from sorted(p for p in folder.rglob("*.py") if not {".venv", "__pycache__"} & set(p.parts))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(root: Path, path: Path, known: set[str]) -> list[Import]:
    """Every import statement of ``path``, resolved to our modules where it names one."""
    module = module_name(root, path)
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: list[Import] = []

    def resolve(node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        return ".".join([*base, *([node.module] if node.module else [])])

    def visit(node: ast.AST, function: str, type_only: bool) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function = node.name if function == "<module>" else function
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for stmt in node.body:
                visit(stmt, function, True)
            for stmt in node.orelse:
                visit(stmt, function, type_only)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Import(module, alias.name, node.lineno, function, type_only))
        elif isinstance(node, ast.ImportFrom):
            base = resolve(node)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append(Import(module, sub if sub in known else base, node.lineno, function, type_only))
        for inner in ast.iter_child_nodes(node):
            visit(inner, function, type_only)

    visit(tree, "<module>", False)
    return found


def _ours(name: str) -> bool:
    return name.split(".")[0] in FIRST_PARTY


# -- 1. declared dependencies ----------------------------------------------------------------------


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(pyproject: Path) -> tuple[set[str], set[str]]:
    """(runtime: dependencies and non-dev extras, dev: the dev extra), normalised distribution names."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]

    def names(reqs: Iterable[str]) -> set[str]:
        out = set()
        for req in reqs:
            m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", req)
            if m:
                out.add(_normal(m.group(1)))
        return out

    runtime = names(project.get("dependencies", []))
    dev: set[str] = set()
    for extra, reqs in project.get("optional-dependencies", {}).items():
        (dev if extra == "dev" else runtime).update(names(reqs))
    return runtime, dev


def undeclared(root: Path) -> list[str]:
    runtime, dev = declared(root / "pyproject.toml")
    dists = packages_distributions()
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    # tests' and benchmarks' helpers import each other (``from common import ...``, ``from tests.hostile ...``)
    local = {p.stem for p in python_files(root, DEV_SCOPES)} | set(DEV_SCOPES)
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    for scopes, allowed in ((PACKAGE_SCOPES, runtime), (DEV_SCOPES, runtime | dev)):
        for path in python_files(root, scopes):
            for imp in imports_of(root, path, set()):
                top = imp.target.split(".")[0]
                if not top or top in stdlib or _ours(top) or top in local or (scopes[0], top) in seen:
                    continue
                seen.add((scopes[0], top))
                if (path.relative_to(root).parts[0], top) in NOT_DEPENDENCIES:
                    continue
                where = f"{path.relative_to(root)}:{imp.line}"
                providers = dists.get(top)
                if not providers:
                    problems.append(f"{where}: import {top}: no installed distribution provides it")
                elif not {_normal(d) for d in providers} & allowed:
                    want = "dependencies or an extra" if scopes is PACKAGE_SCOPES else "pyproject (dev counts)"
                    problems.append(f"{where}: import {top} (distribution {', '.join(providers)}) is not declared "
                                    f"in {want}")
    return problems


# -- 2. the import graph ---------------------------------------------------------------------------


def layer_of(module: str) -> int | None:
    for i, (_, entries) in enumerate(LAYERS):
        for entry in entries:
            package = entry.removesuffix(".*")
            if module == package or (entry.endswith(".*") and module.startswith(package + ".")):
                return i
    return None


def package_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "corroborate" and len(parts) >= 3:
        return ".".join(parts[:2])
    return parts[0] + ("/" if parts[0] == "corroborate" else "")


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (or a module importing itself), Tarjan."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in graph.get(v, ()):
                out.append(sorted(comp))

    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))
    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def _excepted(imp: Import) -> bool:
    return any(
        imp.module == mod and fn in (imp.function, "*") and (imp.target == pre or imp.target.startswith(pre + "."))
        for mod, fn, pre, _ in TRAINING_EXCEPTIONS
    )


@dataclass
class GraphReport:
    modules: dict[str, list[str]]  # package -> modules
    edges: list[Import]
    cycles: list[list[str]]
    upward: list[Import]
    training: list[Import]  # runtime modules importing corroborate.training, not excepted
    unplaced: list[str]

    @property
    def ok(self) -> bool:
        return not (self.cycles or self.upward or self.training or self.unplaced)

    def summary(self) -> str:
        n = sum(len(m) for m in self.modules.values())
        lines = [f"import graph: {n} modules, {len({(e.module, e.target) for e in self.edges})} internal imports"]
        lines.append("modules per package: " + ", ".join(f"{p} {len(m)}" for p, m in sorted(self.modules.items())))
        lines.append(f"cycles: {len(self.cycles)}")
        lines += [f"  cycle: {' <-> '.join(c)}" for c in self.cycles]
        excused = sorted({(e.module, e.target) for e in self.edges} & set(CYCLE_EXCEPTIONS))
        for a, b in excused:
            lines.append(f"  left out of the cycle search (CYCLE_EXCEPTIONS): {a} -> {b}: {CYCLE_EXCEPTIONS[a, b]}")
        lines.append(f"upward imports: {len(self.upward)}")
        names = [name for name, _ in LAYERS]
        for e in self.upward:
            up, down = layer_of(e.module), layer_of(e.target)
            assert up is not None and down is not None
            kind = " (type only)" if e.type_only else ""
            lines.append(f"  {e.module}:{e.line} ({names[up]}) imports {e.target} ({names[down]}){kind}"
                         f" in {e.function}")
        lines.append(f"runtime imports of {TRAINING}: {len(self.training)}")
        lines += [f"  {e.module}:{e.line} imports {e.target} in {e.function}" for e in self.training]
        allowed = [e for e in self.edges if e.target.startswith(TRAINING) and not e.module.startswith(TRAINING)
                   and _excepted(e)]
        if allowed:
            lines.append(f"  allowed by TRAINING_EXCEPTIONS: {len(allowed)} "
                         f"({', '.join(sorted({f'{e.module}.{e.function}' for e in allowed}))})")
        if self.unplaced:
            lines.append("modules in no layer (add them to LAYERS in scripts/check_imports.py): "
                         + ", ".join(self.unplaced))
        return "\n".join(lines)


def import_graph(root: Path, renames: dict[str, str] | None = None) -> GraphReport:
    renames = renames or {}
    paths = list(python_files(root, FIRST_PARTY))
    known = {module_name(root, p) for p in paths}

    def placed(name: str) -> str:
        return renames.get(name, name)

    modules: dict[str, list[str]] = defaultdict(list)
    edges: list[Import] = []
    for path in paths:
        name = module_name(root, path)
        modules[package_of(placed(name))].append(placed(name))
        for imp in imports_of(root, path, known):
            edge = Import(placed(imp.module), placed(imp.target), imp.line, imp.function, imp.type_only)
            if imp.target in known and imp.target != name and edge not in edges:  # one per statement
                edges.append(edge)
    graph: dict[str, set[str]] = defaultdict(set)
    for e in edges:
        if (e.module, e.target) not in CYCLE_EXCEPTIONS:
            graph[e.module].add(e.target)
    upward = []
    for e in edges:
        a, b = layer_of(e.module), layer_of(e.target)
        if a is not None and b is not None and b > a:
            upward.append(e)
    training = [e for e in edges if (e.target == TRAINING or e.target.startswith(TRAINING + "."))
                and not (e.module == TRAINING or e.module.startswith(TRAINING + ".")) and not _excepted(e)]
    unplaced = sorted(m for ms in modules.values() for m in ms if layer_of(m) is None)
    return GraphReport(dict(modules), edges, cycles(graph), upward, training, unplaced)


# -- 3. the layout drawn in docs/design.md ----------------------------------------------------------

_ENTRY = re.compile(r"^( *)([\w.-]+(?:/|\.py))(?:\s|$)")


def drawn_modules(design: Path) -> set[str]:
    """The .py paths the first code block under "## Layout" draws (an indented tree of folders and files)."""
    text = design.read_text(encoding="utf-8")
    start = text.find("## Layout")
    if start < 0:
        return set()
    block = text[start:].split("```", 2)[1] if text[start:].count("```") >= 2 else ""
    found: set[str] = set()
    folders: list[tuple[int, str]] = []  # (indent, name/) of the folders the next line may sit in
    for line in block.splitlines():
        m = _ENTRY.match(line)
        if not m:
            continue
        indent, name = len(m.group(1)), m.group(2)
        while folders and folders[-1][0] >= indent:
            folders.pop()
        if folders and indent - folders[-1][0] > 4:  # a description's continuation, not an entry
            continue
        if name.endswith("/"):
            folders.append((indent, name))
        else:
            found.add("".join(f for _, f in folders) + name)
    return found


def layout_drift(root: Path) -> list[str]:
    design = root / "docs" / "design.md"
    if not design.is_file():
        return [f"{design.relative_to(root)} not found"]
    actual = {str(p.relative_to(root)) for p in python_files(root, FIRST_PARTY) if p.name != "__init__.py"}
    drawn = {m for m in drawn_modules(design) if not m.endswith("__init__.py")}
    return [f"{m}: in the tree, not drawn in docs/design.md's Layout" for m in sorted(actual - drawn)] + [
        f"{m}: drawn in docs/design.md's Layout, not in the tree" for m in sorted(drawn - actual)
    ]


def read_renames(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].endswith(".py") and parts[-1].endswith(".py"):
            out[".".join(Path(parts[-2]).with_suffix("").parts)] = ".".join(Path(parts[-1]).with_suffix("").parts)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--graph-only", action="store_true", help="only the import graph (not 1. and 3.)")
    parser.add_argument("--renames", type=Path, help="OLD_PATH NEW_PATH lines: measure an older layout")
    args = parser.parse_args(argv)
    failed = False
    if not args.graph_only:
        problems = undeclared(args.root)
        print(f"third-party imports not declared in pyproject.toml: {len(problems)}")
        for p in problems:
            print(f"  {p}")
        failed |= bool(problems)
        drift = layout_drift(args.root)
        print(f"modules the layout in docs/design.md leaves out or invents: {len(drift)}")
        for d in drift:
            print(f"  {d}")
        failed |= bool(drift)
    report = import_graph(args.root, read_renames(args.renames) if args.renames else None)
    print(report.summary())
    failed |= not report.ok
    if failed:
        print("check_imports: FAILED", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
