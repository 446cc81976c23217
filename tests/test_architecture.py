"""The package's layers (docs/architecture.md), checked on the source: each layer folder imports only
from itself and the layers below it, no two lfpk modules import each other in a circle, and imports
stand at module top unless they load a heavy optional dependency.

The import graph is read from the code with :mod:`ast` (nothing is imported), so the check also
sees imports inside functions, which a run-time check would not.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "lfpk"

#: layer folders, lowest first; a module may import only from its own layer and those before it
LAYERS = ("base", "model", "engines", "figures", "study", "api", "compat", "entry")

#: third-party modules that may be imported inside a function: each is heavy to load or an optional
#: extra (NEURON starts its interpreter; NEST prints its banner and starts its kernel; matplotlib
#: only for figures; mpi4py starts MPI; LFPy loads NEURON; pymoo, brian2 only for their commands; neo, an optional extra, only for Neo files)
DEFERRABLE = {"neuron", "nest", "matplotlib", "mpi4py", "LFPy", "pymoo", "PIL", "neo"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(known: dict[str, Path]):
    """Yield (module, imported lfpk module or third-party top name, line, inside a function)."""
    for name, path in known.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        is_package = path.name == "__init__.py"

        def visit(node, deferred):
            for child in ast.iter_child_nodes(node):
                inner = deferred or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
                if isinstance(child, ast.Import):
                    for alias in child.names:
                        yield name, alias.name, child.lineno, deferred
                elif isinstance(child, ast.ImportFrom):
                    target = resolve(child, name, is_package)
                    for alias in child.names:
                        sub = f"{target}.{alias.name}"
                        yield name, sub if sub in known else target, child.lineno, deferred
                yield from visit(child, inner)

        yield from visit(tree, False)


KNOWN = modules()
EDGES = [(m, t, line, deferred) for m, t, line, deferred in imports(KNOWN)]


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) < 2 or parts[1] not in LAYERS:
        return None
    return LAYERS.index(parts[1])


def test_every_module_lives_in_a_layer():
    loose = [m for m in KNOWN if layer_of(m) is None and m not in ("lfpk", "lfpk.__main__")]
    assert not loose, f"modules outside the layer folders {LAYERS}: {loose}"


def test_layers_import_only_downwards():
    upward = []
    for module, target, line, _ in EDGES:
        if not target.startswith("lfpk.") or target not in KNOWN:
            continue
        own, other = layer_of(module), layer_of(target)
        if own is not None and other is not None and other > own:
            upward.append(f"{KNOWN[module].relative_to(PACKAGE.parent)}:{line} imports {target} "
                          f"({LAYERS[own]} -> {LAYERS[other]})")
    assert not upward, "imports that run up a layer:\n" + "\n".join(upward)


def test_no_import_circles():
    graph: dict[str, set[str]] = {m: set() for m in KNOWN}
    for module, target, _, _ in EDGES:
        if target in KNOWN and target != module:
            graph[module].add(target)
    # Tarjan's strongly connected components (iterative)
    index, low, on_stack, stack, circles, counter = {}, {}, set(), [], [], [0]

    def strongconnect(root):
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    members = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        members.append(member)
                        if member == node:
                            break
                    if len(members) > 1:
                        circles.append(sorted(members))

    for module in sorted(graph):
        if module not in index:
            strongconnect(module)
    assert not circles, "modules that import each other in a circle: " + "; ".join(", ".join(c) for c in circles)


def test_imports_at_module_top():
    hidden = []
    for module, target, line, deferred in EDGES:
        if not deferred:
            continue
        top = target.split(".")[0]
        if top == "lfpk" or top not in DEFERRABLE:
            hidden.append(f"{KNOWN[module].relative_to(PACKAGE.parent)}:{line} imports {target} inside a function")
    assert not hidden, ("imports inside functions that are no heavy optional dependency "
                        f"({', '.join(sorted(DEFERRABLE))}):\n" + "\n".join(hidden))


def test_deferred_imports_say_why():
    """An import inside a function (a heavy optional dependency) has a comment saying why: on its
    line, on the lines just above it, or above the group of imports it belongs to."""
    silent = []
    for module, target, line, deferred in EDGES:
        if not deferred:
            continue
        lines = KNOWN[module].read_text().splitlines()
        i = line - 2
        while i >= 0 and lines[i].strip().startswith(("import ", "from ")):
            i -= 1  # the group of imports this one belongs to
        said = "#" in lines[line - 1] or any(lines[j].strip().startswith("#") for j in range(max(0, i - 1), i + 1))
        if not said:
            silent.append(f"{KNOWN[module].relative_to(PACKAGE.parent)}:{line} imports {target}")
    assert not silent, "imports inside functions without a comment saying why:\n" + "\n".join(silent)


@pytest.mark.parametrize("layer", LAYERS)
def test_layer_folders_say_what_they_hold(layer):
    doc = ast.get_docstring(ast.parse((PACKAGE / layer / "__init__.py").read_text()))
    assert doc and "layer" in doc.lower(), f"lfpk/{layer}/__init__.py: expected a docstring naming the layer"
