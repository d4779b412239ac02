"""Leave out the exercise's own demonstrations that nothing the student wrote depends on.

An exercise notebook may hold cells that only show something (exercise 04 trains twelve
networks on XOR to print their accuracies; exercise 06 loads a data set to print its
shapes): seconds of every kernel's time. The grader needs the student's definitions, not the
demonstrations. Only the exercise's own (pristine) cells are slimmed, statement by statement
at the top level, and only these statements are candidates:

- `for` / `while` loops and assignments to plain names (`x = ...`, `a, b = ...`,
  `x += ...`): they are left out when no name they touch (bind *or* read, builtins aside)
  is read by a statement that runs: then nothing that runs can see their effect;
- displays: `print(...)`, `display(...)`, `plt.*(...)`, a bare expression (a cell's shown
  value): they change nothing the student's code can use.

Everything else runs as written: imports, definitions, other calls (`np.random.seed(0)`),
assignments to attributes or items, and every statement of the student's cells. What runs
is found by a fixpoint: a candidate that touches a name read by something that runs, runs.
"""

from __future__ import annotations

import ast


def _loaded(node: ast.AST) -> set[str]:
    """The global names `node` reads (a function's own parameters and locals left out)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        args = node.args
        params = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
        params |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
        body = node.body if isinstance(node.body, list) else [node.body]
        declared = {
            n for s in body for g in ast.walk(s) if isinstance(g, ast.Global) for n in g.names
        }
        stored = {
            n.id
            for s in body
            for n in ast.walk(s)
            if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)
        }
        inner = set().union(*(_loaded(s) for s in body)) if body else set()
        outer = [*args.defaults, *(d for d in args.kw_defaults if d is not None)]
        if not isinstance(node, ast.Lambda):
            outer += node.decorator_list
        return (inner - params - (stored - declared)) | set().union(*map(_loaded, outer))
    found = {node.id} if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) else set()
    for child in ast.iter_child_nodes(node):
        found |= _loaded(child)
    return found


def _bound(node: ast.AST) -> set[str]:
    names = {
        n.id for n in ast.walk(node) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)
    }
    for n in ast.walk(node):
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(n.name)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in n.names)
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            names.update(n.names)
    return names


DISPLAY = {"print", "display", "plt"}
BUILTINS = set(dir(__import__("builtins")))


def _candidate(stmt: ast.stmt) -> str:
    """ "loop", "assign", "display" or "" (always runs)."""
    if isinstance(stmt, (ast.For, ast.While, ast.AsyncFor)):
        return "loop"
    if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        plain = all(
            isinstance(n, (ast.Name, ast.Tuple, ast.List, ast.Starred, ast.Store))
            for t in targets
            for n in ast.walk(t)
        )
        return "assign" if plain else ""
    if isinstance(stmt, ast.Expr):
        value = stmt.value
        if not isinstance(value, ast.Call):
            return "display" if isinstance(value, (ast.Name, ast.Attribute, ast.JoinedStr)) else ""
        root: ast.expr = value.func
        while isinstance(root, ast.Attribute):
            root = root.value
        if isinstance(root, ast.Name) and root.id in DISPLAY:
            return "display"
    return ""


def slim(sources: list[str], pristine: list[bool], needed: tuple[str, ...] = ()) -> list[str]:
    """The cells' sources without the pristine demonstrations nothing depends on.

    `needed`: names that must stay defined (the functions the checks call by name)."""
    trees: list[ast.Module | None] = []
    for source in sources:
        try:
            trees.append(ast.parse(source))
        except SyntaxError:
            trees.append(None)
    statements = [(i, s) for i, t in enumerate(trees) if t is not None for s in t.body]
    kinds = [_candidate(s) if pristine[i] else "" for i, s in statements]
    loads = [_loaded(s) for _, s in statements]
    touched = [
        set() if kind == "display" else (_bound(s) | loads[k]) - BUILTINS
        for k, ((_, s), kind) in enumerate(zip(statements, kinds, strict=True))
    ]
    runs = [not kind for kind in kinds]
    read = set(needed).union(*(load for load, r in zip(loads, runs, strict=True) if r))
    unparsed = "\n".join(sources[i] for i, t in enumerate(trees) if t is None)
    changed = True
    while changed:
        changed = False
        for k, kind in enumerate(kinds):
            if runs[k] or kind == "display":
                continue
            if touched[k] & read or any(name in unparsed for name in touched[k]):
                runs[k] = True
                read |= loads[k] | touched[k]
                changed = True
    drop: dict[int, list[ast.stmt]] = {}
    for (i, stmt), r in zip(statements, runs, strict=True):
        if not r:
            drop.setdefault(i, []).append(stmt)
    out = []
    for i, source in enumerate(sources):
        if i not in drop:
            out.append(source)
            continue
        lines = source.splitlines()
        gone: set[int] = set()
        for stmt in drop[i]:
            end = stmt.end_lineno or stmt.lineno
            gone.update(range(stmt.lineno - 1, end))
        kept = [line for n, line in enumerate(lines) if n not in gone]
        out.append("\n".join(kept))
    return out
