"""The import rule of docs/design.md ("Layers"), read from the source with `ast`.

Layers, bottom to top: base (`errors`, `zoo`, `imageio`, `metrics`, `data`) → models (`codec`,
`ocr`, `detect`, `dequant`) → `chains` → `eval` → `train` → `launch`. A module imports nothing
from a layer above its own, a model package imports no other model package, `zoo` imports
nothing of tfic_jax but `errors`, no two modules import each other (directly or through others),
and an import inside a function defers one of a few heavy or optional dependencies and says so.
"""

import ast
import collections
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "tfic_jax"
LAYERS = {
    "errors": 0, "zoo": 0, "imageio": 0, "metrics": 0, "data": 0, "layers": 0,
    "codec": 1, "ocr": 1, "detect": 1, "dequant": 1,
    "chains": 2,
    "eval": 3,
    "train": 4,
}
MODEL_PACKAGES = {name for name, layer in LAYERS.items() if layer == 1}
# What an import inside a function may defer (heavy or optional), each with a comment saying so.
DEFERRABLE = ("matplotlib", "tensorflow_datasets", "tfic_jax.data.builders", "pytesseract",
              "trdg", "wikipedia", "tensorboardX", "tensorboard")


def module_name(path: Path, root: Path) -> str:
  parts = list(path.relative_to(root).with_suffix("").parts)
  if parts[-1] == "__init__":
    parts = parts[:-1]
  return ".".join(parts)


def imports_of(source: str, module: str, is_package: bool) -> list[tuple[str, int, bool]]:
  """(imported tfic_jax module or name, line, inside a function) of every import statement."""
  package = module if is_package else module.rpartition(".")[0]
  found = []
  tree = ast.parse(source)
  functions = [node for node in ast.walk(tree)
               if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
  inner = {id(n) for f in functions for n in ast.walk(f) if n is not f}
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      targets = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
      base = node.module or ""
      if node.level:
        anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
        base = ".".join(anchor + ([base] if base else []))
      targets = [f"{base}.{alias.name}" for alias in node.names]
    else:
      continue
    for target in targets:
      found.append((target, node.lineno, id(node) in inner))
  return found


def read_tree(root: Path) -> dict[str, tuple[str, bool]]:
  """module name → (source, is_package) for every module of tfic_jax under `root`."""
  return {module_name(path, root): (path.read_text(), path.name == "__init__.py")
          for path in sorted((root / PACKAGE).rglob("*.py"))}


def resolve(target: str, modules) -> str | None:
  """The tfic_jax module an import names (`from a.b import c` may name module a.b.c or a
  name in a.b), or None for anything outside tfic_jax."""
  if not (target == PACKAGE or target.startswith(PACKAGE + ".")):
    return None
  while target and target not in modules:
    target = target.rpartition(".")[0]
  return target or None


def layer_of(module: str) -> tuple[int, str]:
  parts = module.split(".")
  if len(parts) < 2:
    return -1, ""  # tfic_jax/__init__.py
  return LAYERS.get(parts[1], 99), parts[1]


def violations(tree: dict[str, tuple[str, bool]]) -> list[str]:
  """Every break of the import rule in `tree` (see `read_tree`), as readable lines."""
  problems = []
  graph = collections.defaultdict(set)
  for module, (source, is_package) in tree.items():
    lines = source.splitlines()
    layer, top = layer_of(module)
    if layer == 99:
      problems.append(f"{module}: package {top!r} has no layer (add it to docs/design.md and here)")
    for target, line, in_function in imports_of(source, module, is_package):
      if in_function:
        deferred_ok = any(target == d or target.startswith(d + ".") for d in DEFERRABLE)
        text = lines[line - 1] + (lines[line - 2] if line >= 2 else "")
        if not deferred_ok or "deferred" not in text.lower():
          problems.append(f"{module}:{line}: import of {target} inside a function (imports sit "
                          f"at the top, except a commented '(deferred: ...)' of {DEFERRABLE})")
      imported = resolve(target, tree)
      if imported is None or imported == module:
        continue
      graph[module].add(imported)
      their_layer, their_top = layer_of(imported)
      if their_layer > layer:
        problems.append(f"{module}:{line}: imports {imported}, a layer above it")
      if top in MODEL_PACKAGES and their_top in MODEL_PACKAGES and their_top != top:
        problems.append(f"{module}:{line}: model package {top!r} imports model package "
                        f"{their_top!r} (a chain, stage or evaluator joins models)")
      if top == "zoo" and imported not in (f"{PACKAGE}.errors", PACKAGE):
        problems.append(f"{module}:{line}: zoo is a leaf; it imports {imported}")
  problems += [f"import cycle: {' -> '.join(cycle)}" for cycle in cycles(graph)]
  packages = collections.defaultdict(set)  # tfic_jax.<top> → the tops it imports
  for module, imported in graph.items():
    for other in imported:
      if layer_of(module)[1] != layer_of(other)[1]:
        packages[".".join(module.split(".")[:2])].add(".".join(other.split(".")[:2]))
  problems += [f"package cycle: {' -> '.join(cycle)}" for cycle in cycles(packages)]
  return problems


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
  """One cycle through each strongly connected group of modules of more than one module."""
  index, low, on_stack, stack, found = {}, {}, set(), [], []

  def visit(node):
    index[node] = low[node] = len(index)
    stack.append(node)
    on_stack.add(node)
    for succ in sorted(graph.get(node, ())):
      if succ not in index:
        visit(succ)
        low[node] = min(low[node], low[succ])
      elif succ in on_stack:
        low[node] = min(low[node], index[succ])
    if low[node] == index[node]:
      group = []
      while True:
        member = stack.pop()
        on_stack.discard(member)
        group.append(member)
        if member == node:
          break
      if len(group) > 1:
        found.append(sorted(group) + [sorted(group)[0]])

  for node in sorted(graph):
    if node not in index:
      visit(node)
  return found


def test_tfic_jax_follows_the_import_rule():
  problems = violations(read_tree(ROOT))
  assert not problems, "\n".join(problems)


def test_every_package_of_tfic_jax_has_a_layer():
  packages = {p.name for p in (ROOT / PACKAGE).iterdir() if p.is_dir() and any(p.rglob("*.py"))}
  modules = {p.stem for p in (ROOT / PACKAGE).glob("*.py") if p.stem != "__init__"}
  assert packages | modules <= set(LAYERS)


def _fake(modules: dict[str, str]) -> dict[str, tuple[str, bool]]:
  return {name: (source, False) for name, source in modules.items()}


@pytest.mark.parametrize("modules, expected", [
    ({"tfic_jax.codec.api": "from tfic_jax.train import checkpoint",
      "tfic_jax.train.checkpoint": ""}, "a layer above"),
    ({"tfic_jax.codec.stage": "from tfic_jax.ocr import api",
      "tfic_jax.ocr.api": ""}, "model package 'codec' imports model package 'ocr'"),
    ({"tfic_jax.eval.a": "from tfic_jax.eval import b",
      "tfic_jax.eval.b": "from tfic_jax.eval import a"}, "import cycle"),
    ({"tfic_jax.data.a": "from tfic_jax.metrics import b",
      "tfic_jax.metrics": "from tfic_jax.data import c", "tfic_jax.data.c": ""}, "package cycle"),
    ({"tfic_jax.zoo": "from tfic_jax import metrics", "tfic_jax.metrics": ""}, "zoo is a leaf"),
    ({"tfic_jax.eval.a": "def f():\n  from tfic_jax import metrics\n",
      "tfic_jax.metrics": ""}, "inside a function"),
    ({"tfic_jax.eval.a": "def f():\n  import matplotlib\n"}, "inside a function"),
    ({"tfic_jax.newpkg.a": ""}, "has no layer"),
])
def test_the_checker_catches_each_kind_of_violation(modules, expected):
  problems = violations(_fake(modules))
  assert any(expected in p for p in problems), problems


def test_the_checker_allows_downward_and_commented_deferred_imports():
  modules = _fake({
      "tfic_jax.train.stages.codec": "from tfic_jax.codec import api\nfrom tfic_jax.ocr import api",
      "tfic_jax.codec.api": "from tfic_jax import zoo",
      "tfic_jax.ocr.api": "from tfic_jax import zoo",
      "tfic_jax.zoo": "from tfic_jax import errors",
      "tfic_jax.errors": "",
      "tfic_jax.eval.report": "def plot():\n  import matplotlib  # (deferred: matplotlib)\n",
  })
  assert violations(modules) == []
