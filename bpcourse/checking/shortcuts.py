"""Shortcuts earn nothing: find an answer's uses of forbidden library code in its source.

An item that asks the learner to write, say, a stable log-sum-exp forbids
`bpcourse.activations.logsumexp`. `forbidden_uses(source, "stable_logsumexp", forbidden)`
reads the learner's code (never runs it) and reports every route to a forbidden name from
inside the answer function:

- direct names and aliases: `from bpcourse.activations import logsumexp as lse`,
  `import bpcourse.activations as A` then `A.logsumexp`, `from bpcourse import activations`,
  `import bpcourse` then `bpcourse.activations.logsumexp`, a re-export (`bpcourse.X` that is
  the same object), `from bpcourse.activations import *`;
- lookups by name: `getattr(A, "logsumexp")` (a computed name on a module that holds
  forbidden code counts too), `__import__(...)`, `importlib.import_module(...)`,
  `sys.modules[...]`, and names assigned from any of these (`m = A; m.logsumexp`);
- the same inside the learner's own helper functions that the answer calls, followed
  transitively by name.

A name that starts with a dot, such as ".backward", forbids a method of the library's objects
(here `Value.backward`): any `x.backward` or `getattr(x, "backward")` in the answer counts.

Python's scoping is respected, so a local variable or a learner's own function that happens
to share a library function's name is not a use, nor is a comment or a string.

`source_of(*functions)` rebuilds, from live function objects (e.g. defined in IPython
cells), a source that `forbidden_uses` reads: each function's own code, its helpers, and an
import line for every module or library function its globals bind.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import sys
import textwrap
import types
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# The library modules that compute a network's gradients or train it: an item that asks for
# that work forbids them all (plus what else the item names).
NETWORK_LIBRARY = (
    "bpcourse.losses",
    "bpcourse.layers",
    "bpcourse.network",
    "bpcourse.training",
    "bpcourse.optim",
    "bpcourse.gradcheck",
    "bpcourse.autodiff",
    "bpcourse.diagnostics",  # per-layer gradient norms (lesson 07)
    "bpcourse.overfitting",  # regularised training runs (lesson 09)
    "bpcourse.surfaces",  # optimiser trajectories (lesson 08)
    "scipy.special",
)
IMPORTERS = ("__import__", "importlib.import_module", "import_module")
Scope = dict[str, "Binding"]


@dataclass(frozen=True)
class Binding:
    """What a name is bound to: a dotted library path, a learner's function, or nothing known."""

    dotted: str | None = None  # e.g. "bpcourse.activations"
    how: str = ""  # how it was bound, for the message: "imported as A"
    function: ast.FunctionDef | ast.Lambda | None = None
    name: str = ""  # the learner's function's name


SHADOWED = Binding()


def _python(source: str) -> list[ast.Module]:
    """The source as parsed modules: whole, or block by block when a part does not parse."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        source = TransformerManager().transform_cell(source)
    except Exception:  # IPython missing or a transform failure: parse the text as it is
        pass
    try:
        return [ast.parse(source)]
    except SyntaxError:
        pass
    blocks: list[str] = []
    current: list[str] = []
    for line in source.splitlines():
        if line and not line[0].isspace() and current and not line.startswith(("#", ")", "]")):
            blocks.append("\n".join(current))
            current = []
        current.append(line)
    blocks.append("\n".join(current))
    modules = []
    for block in blocks:
        try:
            modules.append(ast.parse(block))
        except SyntaxError:
            continue
    return modules


def _import_bindings(node: ast.Import | ast.ImportFrom) -> list[tuple[str, Binding]]:
    out = []
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.asname:
                out.append((alias.asname, Binding(alias.name, f"imported as {alias.asname}")))
            else:
                root = alias.name.split(".")[0]
                out.append((root, Binding(root, f"import {alias.name}")))
        return out
    if node.level or not node.module:
        return out
    for alias in node.names:
        if alias.name == "*":
            out.append(("*", Binding(node.module, f"from {node.module} import *")))
            continue
        local = alias.asname or alias.name
        how = f"imported as {local}" if alias.asname else f"from {node.module} import {local}"
        out.append((local, Binding(f"{node.module}.{alias.name}", how)))
    return out


class _Finder:
    """Walks the answer function (and the helpers it calls) resolving names to dotted paths."""

    def __init__(self, modules: list[ast.Module], forbidden: list[str]) -> None:
        self.methods = {f[1:] for f in forbidden if f.startswith(".")}
        forbidden = [f for f in forbidden if not f.startswith(".")]
        self.forbidden = forbidden
        self.roots = {f.split(".")[0] for f in forbidden}
        self.targets = [_canonical(f) for f in forbidden]
        self.globals: Scope = {}
        self.stars: list[Binding] = []
        for module in modules:
            for statement in module.body:
                self._bind_statement(statement, self.globals, top=True)
        self.found: list[str] = []
        self.seen: set[str] = set()
        self.visited: set[int] = set()

    # --- bindings -----------------------------------------------------------------------------

    def _bind_statement(self, statement: ast.stmt, scope: Scope, top: bool) -> None:
        """Record the names one statement binds (the last binding of a name wins)."""
        for node in _statements(statement):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for name, binding in _import_bindings(node):
                    if name == "*":
                        if top:
                            self.stars.append(binding)
                    else:
                        scope[name] = binding
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                function = node if isinstance(node, ast.FunctionDef) else None
                scope[node.name] = Binding(function=function, name=node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                value = node.value
                for target in targets:
                    if isinstance(target, ast.Name):
                        scope[target.id] = self._binding_of_value(value, scope, target.id)
                    else:
                        for name in _stored_names(target):
                            scope[name] = SHADOWED
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
                for name in _stored_names(node.target):
                    scope[name] = SHADOWED
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                for with_item in node.items:
                    if with_item.optional_vars is not None:
                        for name in _stored_names(with_item.optional_vars):
                            scope[name] = SHADOWED
            elif isinstance(node, ast.ExceptHandler) and node.name:
                scope[node.name] = SHADOWED

    def _binding_of_value(self, value: ast.expr | None, scope: Scope, name: str) -> Binding:
        if isinstance(value, ast.Lambda):
            return Binding(function=value, name=name)
        dotted = self._dotted(value, scope) if value is not None else None
        if dotted is not None:
            how = dotted[1] if dotted[1].startswith("through") else ""
            return Binding(
                dotted[0], f"{how}, assigned to {name}" if how else f"assigned to {name}"
            )
        if isinstance(value, ast.Name) and value.id in scope and scope[value.id].function:
            return scope[value.id]
        return SHADOWED

    def _lookup(self, name: str, scope: Scope) -> Binding | None:
        if name in scope:
            return scope[name]
        if name in self.globals:
            return self.globals[name]
        for star in self.stars:
            if star.dotted and star.dotted.split(".")[0] in self.roots:
                dotted = f"{star.dotted}.{name}"
                if _resolve(dotted) is not None:
                    return Binding(dotted, star.how)
        return None

    # --- dotted paths ---------------------------------------------------------------------------

    def _dotted(self, node: ast.expr | None, scope: Scope) -> tuple[str, str] | None:
        """(dotted path, how) for an expression naming library code, else None."""
        if isinstance(node, ast.Name):
            binding = self._lookup(node.id, scope)
            if binding is not None and binding.dotted:
                return binding.dotted, binding.how
            return None
        if isinstance(node, ast.Attribute):
            base = self._dotted(node.value, scope)
            if base is not None:
                return f"{base[0]}.{node.attr}", base[1]
            return None
        if isinstance(node, ast.Call):
            callee = _plain_name(node.func)
            argument = _constant_string(node.args[0]) if node.args else None
            if callee in ("getattr",) and len(node.args) >= 2:
                base = self._dotted(node.args[0], scope)
                name = _constant_string(node.args[1])
                if base is not None and name is not None:
                    return f"{base[0]}.{name}", f"{base[1]}, through getattr(…, {name!r})"
                return None
            if callee in IMPORTERS or self._is_importer(node.func, scope):
                if argument is None:
                    return None
                fromlist = len(node.args) >= 4 or any(k.arg == "fromlist" for k in node.keywords)
                if callee == "__import__" and not fromlist:
                    return argument.split(".")[0], f"through __import__({argument!r})"
                return argument, f"through import_module({argument!r})"
            return None
        if isinstance(node, ast.Subscript):
            if _plain_name(node.value) == "sys.modules" or (
                isinstance(node.value, ast.Attribute)
                and node.value.attr == "modules"
                and _plain_name(node.value.value) in ("sys",)
            ):
                name = _constant_string(node.slice)
                if name is not None:
                    return name, f"through sys.modules[{name!r}]"
        return None

    def _is_importer(self, func: ast.expr, scope: Scope) -> bool:
        dotted = self._dotted(func, scope) if isinstance(func, (ast.Name, ast.Attribute)) else None
        return dotted is not None and dotted[0] == "importlib.import_module"

    def _forbidden(self, dotted: str) -> str | None:
        """The forbidden name that `dotted` is (or lies inside), else None."""
        if dotted.split(".")[0] not in self.roots:
            return None
        canonical = _canonical(dotted)
        for spec, target in zip(self.forbidden, self.targets, strict=True):
            if canonical == target or canonical.startswith(target + "."):
                return spec
            if dotted == spec or dotted.startswith(spec + "."):
                return spec
        return None

    def _holds_forbidden(self, dotted: str) -> bool:
        """True when `dotted` is a module (or package) that contains forbidden code."""
        canonical = _canonical(dotted)
        return any(
            t == canonical or t.startswith(canonical + ".") or f.startswith(dotted + ".")
            for f, t in zip(self.forbidden, self.targets, strict=True)
        )

    # --- the walk -------------------------------------------------------------------------------

    def visit_function(
        self, function: ast.FunctionDef | ast.Lambda, label: str, answer: str, outer: Scope
    ) -> None:
        if id(function) in self.visited:
            return
        self.visited.add(id(function))
        scope: Scope = dict(outer)
        arguments = function.args
        for argument in [
            *arguments.posonlyargs,
            *arguments.args,
            *arguments.kwonlyargs,
            *(a for a in (arguments.vararg, arguments.kwarg) if a is not None),
        ]:
            scope[argument.arg] = SHADOWED
        body = function.body if isinstance(function, ast.FunctionDef) else [function.body]
        declared_global: set[str] = set()
        for node in ast.walk(function):
            if isinstance(node, ast.Global):
                declared_global.update(node.names)
        for statement in body:
            if isinstance(statement, ast.stmt):
                self._bind_statement(statement, scope, top=False)
            for node in ast.walk(statement):
                if isinstance(node, ast.comprehension):
                    for name in _stored_names(node.target):
                        scope[name] = SHADOWED
                elif isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
                    scope[node.target.id] = self._binding_of_value(
                        node.value, scope, node.target.id
                    )
        for name in declared_global:
            scope.pop(name, None)
            if name in outer:
                scope[name] = outer[name]
        for statement in body:
            self._scan(statement, scope, label, answer)

    def _scan(self, node: ast.AST, scope: Scope, label: str, answer: str) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            for default in [*node.args.defaults, *node.args.kw_defaults]:
                if default is not None:
                    self._scan(default, scope, label, answer)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for decorator in node.decorator_list:
                    self._scan(decorator, scope, label, answer)
            if isinstance(node, ast.AsyncFunctionDef):
                return
            self.visit_function(node, label, answer, scope)
            return
        if isinstance(node, (ast.Attribute, ast.Name, ast.Call, ast.Subscript)):
            dotted = self._dotted(node, scope)
            if dotted is not None:
                spec = self._forbidden(dotted[0])
                if spec is not None:
                    self._report(dotted, spec, label, answer)
                    return
            if isinstance(node, ast.Call) and _plain_name(node.func) == "getattr" and node.args:
                base = self._dotted(node.args[0], scope)
                if (
                    base is not None
                    and len(node.args) >= 2
                    and _constant_string(node.args[1]) is None
                    and self._holds_forbidden(base[0])
                ):
                    self._report(
                        (base[0], f"{base[1]}, through getattr with a computed name"),
                        base[0],
                        label,
                        answer,
                        dynamic=True,
                    )
            method = _method_use(node, self.methods)
            if method is not None:
                where = "" if label == answer else f" in its helper `{label}`"
                text = (
                    f"`{answer}` calls .{method}(){where}, the library's own method: this "
                    "item asks you to write it yourself"
                )
                if text not in self.seen:
                    self.seen.add(text)
                    self.found.append(text)
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                binding = self._lookup(node.id, scope)
                if binding is not None and binding.function is not None:
                    helper = binding.name or node.id
                    self.visit_function(
                        binding.function,
                        helper if helper != answer else label,
                        answer,
                        self.globals,
                    )
        for child in ast.iter_child_nodes(node):
            self._scan(child, scope, label, answer)

    def _report(
        self, dotted: tuple[str, str], spec: str, label: str, answer: str, dynamic: bool = False
    ) -> None:
        path, how = dotted
        where = "" if label == answer else f" in its helper `{label}`"
        if dynamic:
            text = (
                f"`{answer}` looks up a name in {path} ({how}){where}: it holds code this item "
                "asks you to write yourself"
            )
        else:
            shown = _canonical_name(path)
            module_note = ""
            if _is_module(spec) and _canonical(spec) != _canonical(path):
                module_note = f", without {spec}"
            text = (
                f"`{answer}` calls {shown}{where} ({how}): this item asks you to write it "
                f"yourself{module_note}"
            )
        if text not in self.seen:
            self.seen.add(text)
            self.found.append(text)


def _statements(statement: ast.stmt) -> Iterable[ast.AST]:
    """The statement and the statements nested in its blocks, but not in nested scopes."""
    stack: list[ast.AST] = [statement]
    while stack:
        node = stack.pop()
        yield node
        if node is not statement and isinstance(
            node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
        ):
            continue
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.stmt, ast.ExceptHandler)):
                stack.append(child)
            elif isinstance(child, ast.expr) and isinstance(node, ast.stmt):
                stack.extend(n for n in ast.walk(child) if isinstance(n, ast.NamedExpr))


def _method_use(node: ast.AST, methods: set[str]) -> str | None:
    """The forbidden method `node` reads (x.backward, getattr(x, "backward")), else None."""
    if not methods:
        return None
    if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
        return node.attr if node.attr in methods else None
    if isinstance(node, ast.Call) and _plain_name(node.func) == "getattr" and len(node.args) >= 2:
        name = _constant_string(node.args[1])
        return name if name in methods else None
    return None


def _stored_names(target: ast.AST) -> list[str]:
    return [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]


def _plain_name(node: ast.AST) -> str | None:
    """'np.linalg.norm' for an attribute chain on a bare name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


def _constant_string(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _module_unloaded(name: str) -> types.ModuleType | None:
    """The module `name` as an empty stand-in, found without running it (importing
    `bpcourse.widgets` would load matplotlib only to learn that it is a module), else None."""
    if name in sys.modules:
        return sys.modules[name]
    try:
        spec = importlib.util.find_spec(name)
    except Exception:
        return None
    return types.ModuleType(name) if spec is not None else None


def _resolve(dotted: str) -> Any:
    """The object a dotted library path names (importing modules as needed), else None."""
    whole = _module_unloaded(dotted)
    if whole is not None:
        return whole
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except Exception:
            continue
        try:
            for part in parts[cut:]:
                obj = getattr(obj, part)
        except AttributeError:
            return None
        return obj
    return None


def _canonical(dotted: str) -> str:
    """Where the object really lives: 'bpcourse.sigmoid' -> 'bpcourse.activations.sigmoid'."""
    obj = _resolve(dotted)
    if isinstance(obj, types.ModuleType):
        return obj.__name__
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if isinstance(module, str) and isinstance(qualname, str) and "<" not in qualname:
        return f"{module}.{qualname}"
    return dotted


def _canonical_name(dotted: str) -> str:
    canonical = _canonical(dotted)
    return canonical if canonical.split(".")[0] == dotted.split(".")[0] else dotted


def _is_module(dotted: str) -> bool:
    return isinstance(_resolve(dotted), types.ModuleType)


def _answer_function(
    modules: list[ast.Module], function: str
) -> ast.FunctionDef | ast.Lambda | None:
    """The last top-level definition of `function` (a def, or a name assigned a lambda)."""
    found: ast.FunctionDef | ast.Lambda | None = None
    for module in modules:
        for statement in module.body:
            if isinstance(statement, ast.FunctionDef) and statement.name == function:
                found = statement
            elif isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Lambda):
                if any(isinstance(t, ast.Name) and t.id == function for t in statement.targets):
                    found = statement.value
    return found


def forbidden_uses(source: str, function: str, forbidden: Iterable[str]) -> list[str]:
    """One message per use of a forbidden library name from inside `function`; [] when clean.

    `source` is the learner's code (a notebook's code cells joined); `function` the answer's
    name; `forbidden` dotted names of library functions or whole modules
    ("bpcourse.activations.logsumexp", "bpcourse.losses"). Static: nothing is run.
    """
    forbidden = [f for f in forbidden if f]
    if not forbidden or not source:
        return []
    modules = _python(source)
    answer = _answer_function(modules, function)
    if answer is None:
        return []
    finder = _Finder(modules, forbidden)
    finder.visit_function(answer, function, function, finder.globals)
    return finder.found


# --- in-process: the source of live functions ----------------------------------------------------


def _function_source(fn: types.FunctionType) -> str | None:
    try:
        return textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        return None


def _names_used(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _names_used(constant)
    return names


def _is_library(obj: Any, roots: set[str]) -> bool:
    module = obj.__name__ if isinstance(obj, types.ModuleType) else getattr(obj, "__module__", "")
    return isinstance(module, str) and module.split(".")[0] in roots


def source_of(*functions: Any, roots: Iterable[str] = ("bpcourse", "importlib", "sys")) -> str:
    """A source for `forbidden_uses` built from live functions (e.g. defined in IPython cells).

    For each function: an import line for every library module or function its globals bind
    under a name it uses (`import bpcourse.activations as A`, `from bpcourse.activations
    import logsumexp as lse`), then its own source; the learner's helper functions it uses
    are added the same way, transitively. Functions whose source cannot be found add nothing.
    """
    roots = set(roots)
    imports: list[str] = []
    bodies: list[str] = []
    seen: set[int] = set()
    queue = [f for f in functions if isinstance(f, types.FunctionType)]
    while queue:
        fn = queue.pop(0)
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        text = _function_source(fn)
        if text is None:
            continue
        if text.lstrip().startswith("@"):
            text = text[text.index("def ") :] if "def " in text else text
        if fn.__name__ == "<lambda>":
            continue  # a lambda's source is its whole line; the answer's name is not known here
        bodies.append(text)
        for name in sorted(_names_used(fn.__code__)):
            if name not in fn.__globals__:
                continue
            value = fn.__globals__[name]
            if isinstance(value, types.ModuleType) and value.__name__.split(".")[0] in roots:
                imports.append(f"import {value.__name__} as {name}")
            elif _is_library(value, roots) and callable(value):
                module, qualname = (
                    getattr(value, "__module__", ""),
                    getattr(value, "__qualname__", ""),
                )
                if module and qualname and "." not in qualname and "<" not in qualname:
                    imports.append(f"from {module} import {qualname} as {name}")
            elif isinstance(value, types.FunctionType) and not _is_library(value, {"bpcourse"}):
                queue.append(value)
    return "\n".join([*dict.fromkeys(imports), *bodies]) + "\n"
