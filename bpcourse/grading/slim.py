"""Leave out the exercise's own demonstration loops that nothing else uses.

An exercise notebook may hold cells that only show something (exercise 04 trains twelve
networks on XOR to print their accuracies: 5 s of every kernel's time). The grader needs
the student's definitions, not the demonstrations. In the exercise's own (pristine, never
the student's) cells, a top-level `for` or `while` loop is left out when no name it binds
is read anywhere else in the notebook's code: then nothing the student wrote or the
later cells use can depend on it. Every other statement runs as written.
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


def slim(sources: list[str], pristine: list[bool]) -> list[str]:
    """The cells' sources with the unused loops of the pristine cells left out."""
    trees: list[ast.Module | None] = []
    for source in sources:
        try:
            trees.append(ast.parse(source))
        except SyntaxError:
            trees.append(None)
    statements = [(i, s) for i, t in enumerate(trees) if t is not None for s in t.body]
    loads = [_loaded(s) for _, s in statements]
    unparsed = [sources[i] for i, t in enumerate(trees) if t is None]
    unparsed_text = "\n".join(unparsed)
    drop: dict[int, list[ast.stmt]] = {}
    for k, (i, stmt) in enumerate(statements):
        if not pristine[i] or not isinstance(stmt, (ast.For, ast.While, ast.AsyncFor)):
            continue
        elsewhere = set().union(*(load for j, load in enumerate(loads) if j != k))
        bound = _bound(stmt)
        if bound & elsewhere or any(name in unparsed_text for name in bound):
            continue
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
