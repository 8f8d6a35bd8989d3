"""The lab's tasks: small, offline data sets on which activations are compared.

Every task is generated in code or ships inside an installed package, so nothing downloads at run
time and a ``seed`` fixes the data. The run's own seed (init, data order) is separate: all members of a
sweep see the same data, which is what makes their comparison paired.

    >>> task = make_task("spiral", noise=0.1)
    >>> task.x_train.shape, task.kind, task.is_plane
"""

from __future__ import annotations

import ast
import csv
import difflib
import inspect
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from actlab.lab.types import TaskKind

Tensor = torch.Tensor


@dataclass
class Task:
    """A data set ready for training: float32 features, int64 labels (binary: 0/1), float32 (N, 1)
    regression targets, int64 context windows for sequence tasks."""

    name: str
    kind: TaskKind
    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor
    n_outputs: int
    input_shape: tuple[int, ...]
    is_plane: bool
    meta: dict[str, Any] = field(default_factory=dict)


# ----------------------------------------------------------------------------------------------------
# shared helpers
# ----------------------------------------------------------------------------------------------------
def _split(x: np.ndarray, y: np.ndarray, train_ratio: float, rng: np.random.Generator):
    """Shuffle once with the task's own generator, then cut: same seed, same split."""
    if not 0.0 < train_ratio < 1.0:
        raise ValueError(f"train_ratio = {train_ratio!r} must be in (0, 1), e.g. 0.5")
    order = rng.permutation(len(x))
    cut = int(round(len(x) * train_ratio))
    cut = min(max(cut, 1), len(x) - 1)
    return x[order[:cut]], y[order[:cut]], x[order[cut:]], y[order[cut:]]


def _check_n(n: int, minimum: int = 4) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < minimum:
        raise ValueError(f"n = {n!r} samples is not allowed; use an integer >= {minimum}")
    return int(n)


def _check_noise(noise: float) -> float:
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not 0.0 <= noise <= 1.0:
        raise ValueError(f"noise = {noise!r} is not allowed; use a number in [0, 1] (0.5 is very noisy)")
    return float(noise)


def _classification(name: str, x: np.ndarray, y: np.ndarray, seed: int, train_ratio: float, **meta) -> Task:
    rng = np.random.default_rng(seed + 7919)  # split stream separate from the generating stream
    xtr, ytr, xte, yte = _split(x, y, train_ratio, rng)
    n_classes = int(y.max()) + 1
    binary = n_classes == 2
    return Task(
        name=name,
        kind="binary" if binary else "multiclass",
        x_train=torch.as_tensor(xtr, dtype=torch.float32),
        y_train=torch.as_tensor(ytr, dtype=torch.int64),
        x_test=torch.as_tensor(xte, dtype=torch.float32),
        y_test=torch.as_tensor(yte, dtype=torch.int64),
        n_outputs=1 if binary else n_classes,
        input_shape=tuple(x.shape[1:]),
        is_plane=x.ndim == 2 and x.shape[1] == 2,
        meta=meta,
    )


# ----------------------------------------------------------------------------------------------------
# 2-D classification, as in the TensorFlow Playground (coordinates in about [-6, 6])
# ----------------------------------------------------------------------------------------------------
def _circle(n: int, noise: float, rng: np.random.Generator):
    radius = 5.0
    inner = n // 2
    r = np.concatenate([rng.uniform(0, radius * 0.5, inner), rng.uniform(radius * 0.7, radius, n - inner)])
    angle = rng.uniform(0, 2 * math.pi, n)
    x = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)
    label = (np.hypot(x[:, 0], x[:, 1]) < radius * 0.5).astype(np.int64)  # label before noise
    return x + rng.uniform(-radius, radius, x.shape) * noise, label


def _xor(n: int, noise: float, rng: np.random.Generator):
    x = rng.uniform(-5, 5, (n, 2))
    x += np.where(x > 0, 0.3, -0.3)  # a gap along the axes so the label is never ambiguous
    label = (x[:, 0] * x[:, 1] >= 0).astype(np.int64)
    return x + rng.uniform(-5, 5, x.shape) * noise, label


def _gauss(n: int, noise: float, rng: np.random.Generator):
    std = 0.5 + 3.5 * noise  # noise widens the two blobs until they overlap
    half = n // 2
    x = np.concatenate([rng.normal(2, std, (half, 2)), rng.normal(-2, std, (n - half, 2))])
    label = np.concatenate([np.ones(half, np.int64), np.zeros(n - half, np.int64)])
    return x, label


def _spiral(n: int, noise: float, rng: np.random.Generator):
    half = n // 2
    xs, labels = [], []
    for label, delta in ((1, 0.0), (0, math.pi)):
        count = half if label == 1 else n - half
        t = np.arange(count) / count
        r = 5 * t
        angle = 1.75 * t * 2 * math.pi + delta
        pts = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)
        xs.append(pts + rng.uniform(-1, 1, pts.shape) * noise * 5)
        labels.append(np.full(count, label, np.int64))
    return np.concatenate(xs), np.concatenate(labels)


def _moons(n: int, noise: float, rng: np.random.Generator):
    from sklearn.datasets import make_moons

    x, label = make_moons(n, noise=noise, random_state=int(rng.integers(2**31 - 1)))
    return (x - [0.5, 0.25]) * 2.5, label.astype(np.int64)  # centred and scaled like the others


_PLANE = {"circle": _circle, "xor": _xor, "gauss": _gauss, "spiral": _spiral, "moons": _moons}


def _plane_task(name: str, seed: int, n: int = 500, noise: float = 0.0, train_ratio: float = 0.5) -> Task:
    rng = np.random.default_rng(seed)
    x, y = _PLANE[name](_check_n(n), _check_noise(noise), rng)
    return _classification(name, x, y, seed, train_ratio, features=["x1", "x2"], classes=["0", "1"])


# ----------------------------------------------------------------------------------------------------
# 1-D regression, including a user expression evaluated safely
# ----------------------------------------------------------------------------------------------------
_MATH_FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "exp": np.exp, "log": np.log, "sqrt": np.sqrt,
    "abs": np.abs, "tanh": np.tanh, "sinh": np.sinh, "cosh": np.cosh, "arctan": np.arctan,
    "atan": np.arctan, "sign": np.sign, "floor": np.floor, "ceil": np.ceil,
}  # fmt: skip
_CONSTANTS = {"pi": math.pi, "e": math.e}
_BINARY_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
               ast.Pow: operator.pow}  # fmt: skip
_UNARY_OPS = {ast.USub: operator.neg, ast.UAdd: operator.pos}


def evaluate_expression(expression: str, x: np.ndarray) -> np.ndarray:
    """Evaluate an expression in ``x`` built only from numbers, ``x``, ``pi``, ``e``, + - * / ** and
    the functions in ``_MATH_FUNCTIONS``. Nothing is ever passed to ``eval``: the parsed tree is walked
    here, so attribute access, names, calls of anything else and every other construct are refused."""
    allowed = f"numbers, x, pi, e, + - * / ** and the functions {', '.join(sorted(_MATH_FUNCTIONS))}"
    if not isinstance(expression, str) or not expression.strip():
        raise ValueError(f"expr must be a non-empty expression in x, e.g. 'sin(3*x)'; allowed: {allowed}")
    if len(expression) > 500:
        raise ValueError("expr is longer than 500 characters")
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as err:
        raise ValueError(f"expr {expression!r} is not a valid expression: {err.msg}") from None

    def walk(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, (int, float))
            and not isinstance(node.value, bool)
        ):
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id == "x":
                return x
            if node.id in _CONSTANTS:
                return _CONSTANTS[node.id]
            raise ValueError(f"expr: unknown name {node.id!r}; allowed: {allowed}")
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY_OPS:
            left, right = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Pow) and np.max(np.abs(right)) > 100:
                raise ValueError("expr: exponents above 100 are not allowed")
            return _BINARY_OPS[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY_OPS:
            return _UNARY_OPS[type(node.op)](walk(node.operand))
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _MATH_FUNCTIONS
            and len(node.args) == 1
            and not node.keywords
        ):
            return _MATH_FUNCTIONS[node.func.id](walk(node.args[0]))
        raise ValueError(f"expr: {ast.unparse(node)!r} is not allowed; allowed: {allowed}")

    with np.errstate(all="ignore"):
        y = np.broadcast_to(np.asarray(walk(tree), dtype=np.float64), x.shape).copy()
    if not np.all(np.isfinite(y)):
        raise ValueError(f"expr {expression!r} is not finite everywhere on the sampled x range")
    return y


_CURVES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sin": np.sin,
    "abs": np.abs,
    "step": lambda x: (x > 0).astype(np.float64),
}


def _regression_task(
    name: str,
    seed: int,
    n: int = 500,
    noise: float = 0.0,
    train_ratio: float = 0.5,
    expr: str | None = None,
    low: float = -3.0,
    high: float = 3.0,
) -> Task:
    if name == "expr" and expr is None:
        raise ValueError("task 'expr' needs an expression, e.g. make_task('expr', expr='sin(3*x)')")
    if not (isinstance(low, (int, float)) and isinstance(high, (int, float)) and low < high):
        raise ValueError(f"low = {low!r}, high = {high!r}: need two numbers with low < high")
    rng = np.random.default_rng(seed)
    x = rng.uniform(low, high, _check_n(n))
    y = evaluate_expression(expr, x) if name == "expr" else _CURVES[name](x)
    y = y + rng.normal(0, 1, y.shape) * _check_noise(noise) * max(float(np.std(y)), 1e-12)
    xtr, ytr, xte, yte = _split(x[:, None], y[:, None], train_ratio, np.random.default_rng(seed + 7919))
    return Task(
        name=name,
        kind="regression",
        x_train=torch.as_tensor(xtr, dtype=torch.float32),
        y_train=torch.as_tensor(ytr, dtype=torch.float32),
        x_test=torch.as_tensor(xte, dtype=torch.float32),
        y_test=torch.as_tensor(yte, dtype=torch.float32),
        n_outputs=1,
        input_shape=(1,),
        is_plane=False,
        meta={"features": ["x"], "expr": expr if name == "expr" else name + "(x)", "range": [low, high]},
    )


# ----------------------------------------------------------------------------------------------------
# images: sklearn's bundled 8x8 digits, and MNIST-1D generated in code
# ----------------------------------------------------------------------------------------------------
def _digits_task(name: str, seed: int, train_ratio: float = 0.8) -> Task:
    from sklearn.datasets import load_digits

    data = load_digits()
    x = (data.images / 16.0).astype(np.float32)[:, None, :, :]  # pixel values 0..16 -> [0, 1]
    classes = [str(c) for c in data.target_names]
    return _classification(name, x, data.target.astype(np.int64), seed, train_ratio, classes=classes)


_MNIST1D_CACHE: dict[str, np.ndarray] = {}


def _mnist1d_arrays() -> dict[str, np.ndarray]:
    """Generate MNIST-1D once per process (a few seconds): never ``get_dataset``, which downloads."""
    if not _MNIST1D_CACHE:
        from mnist1d.data import get_dataset_args, make_dataset

        data = make_dataset(get_dataset_args())
        _MNIST1D_CACHE.update({k: np.asarray(data[k]) for k in ("x", "y", "x_test", "y_test")})
    return _MNIST1D_CACHE


def _mnist1d_task(name: str, seed: int = 0) -> Task:
    # The data set is the paper's fixed one (its own seed, 42); ``seed`` is accepted for uniformity.
    data = _mnist1d_arrays()
    return Task(
        name=name,
        kind="multiclass",
        x_train=torch.as_tensor(data["x"], dtype=torch.float32),
        y_train=torch.as_tensor(data["y"], dtype=torch.int64),
        x_test=torch.as_tensor(data["x_test"], dtype=torch.float32),
        y_test=torch.as_tensor(data["y_test"], dtype=torch.int64),
        n_outputs=10,
        input_shape=(40,),
        is_plane=False,
        meta={"classes": [str(i) for i in range(10)], "reference": "Greydanus 2020, MNIST-1D"},
    )


# ----------------------------------------------------------------------------------------------------
# CSV files
# ----------------------------------------------------------------------------------------------------
MAX_CLASSES = 20  # an integer or string target with at most this many values is a class label


def _as_float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _csv_task(
    name: str, seed: int, path: str | None = None, target: str | None = None, train_ratio: float = 0.8
) -> Task:
    if path is None or target is None:
        raise ValueError("task 'csv' needs path= (a CSV file with a header row) and target= (a column name)")
    file = Path(path)
    if not file.is_file():
        raise ValueError(f"CSV file {str(file)!r} does not exist")
    with file.open(newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.reader(handle) if any(cell.strip() for cell in row)]
    if not rows:
        raise ValueError(f"CSV file {str(file)!r} is empty; it needs a header row and data rows")
    header, body = [h.strip() for h in rows[0]], rows[1:]
    if not body:
        raise ValueError(f"CSV file {str(file)!r} has a header but no data rows")
    if target not in header:
        close = difflib.get_close_matches(target, header, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"target column {target!r} is not in the CSV; columns: {', '.join(header)}{hint}")
    for number, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise ValueError(f"CSV row {number} has {len(row)} fields, the header has {len(header)}")

    features = [h for h in header if h != target]
    if not features:
        raise ValueError("the CSV needs at least one feature column besides the target")
    columns = {h: [row[i].strip() for row in body] for i, h in enumerate(header)}
    x = np.empty((len(body), len(features)), dtype=np.float64)
    for j, column in enumerate(features):
        for i, cell in enumerate(columns[column]):
            value = _as_float(cell)
            if value is None:
                raise ValueError(f"feature column {column!r} is not numeric: row {i + 2} holds {cell!r}")
            x[i, j] = value

    raw = columns[target]
    numbers = [_as_float(cell) for cell in raw]
    numeric = all(v is not None for v in numbers)
    distinct = sorted(set(raw))
    if numeric and (len(set(numbers)) > MAX_CLASSES or any(v != int(v) for v in numbers)):
        y = np.asarray(numbers, dtype=np.float64)[:, None]
        kind = "regression"
    elif not numeric and len(distinct) > MAX_CLASSES:
        raise ValueError(
            f"target column {target!r} holds {len(distinct)} distinct non-numeric values; a class "
            f"label may take at most {MAX_CLASSES}"
        )
    else:
        if numeric:
            distinct = [str(int(v)) for v in sorted(set(numbers))]
            raw = [str(int(v)) for v in numbers]
        if len(distinct) < 2:
            raise ValueError(f"target column {target!r} has a single value; nothing to learn")
        index = {label: k for k, label in enumerate(distinct)}
        y = np.asarray([index[v] for v in raw], dtype=np.int64)
        kind = "binary" if len(distinct) == 2 else "multiclass"

    xtr, ytr, xte, yte = _split(x, y, train_ratio, np.random.default_rng(seed))
    mean, std = xtr.mean(axis=0), xtr.std(axis=0)
    std[std == 0] = 1.0  # a constant feature stays constant instead of becoming NaN
    xtr, xte = (xtr - mean) / std, (xte - mean) / std
    classification = kind != "regression"
    return Task(
        name=name,
        kind=kind,  # type: ignore[arg-type]
        x_train=torch.as_tensor(xtr, dtype=torch.float32),
        y_train=torch.as_tensor(ytr, dtype=torch.int64 if classification else torch.float32),
        x_test=torch.as_tensor(xte, dtype=torch.float32),
        y_test=torch.as_tensor(yte, dtype=torch.int64 if classification else torch.float32),
        n_outputs=(1 if kind != "multiclass" else len(distinct)),
        input_shape=(len(features),),
        is_plane=classification and len(features) == 2,
        meta={
            "features": features,
            "target": target,
            "classes": distinct if classification else None,
            "feature_mean": mean.tolist(),
            "feature_std": std.tolist(),
            "path": str(file),
        },
    )


# ----------------------------------------------------------------------------------------------------
# character-level language modelling on docstrings shipped with Python
# ----------------------------------------------------------------------------------------------------
CHAR_MODULES = (
    "textwrap",
    "string",
    "json",
    "csv",
    "fractions",
    "statistics",
    "heapq",
    "bisect",
    "functools",
)


def chars_text(max_chars: int = 60000) -> str:
    """Docstrings of a fixed list of stdlib modules, gathered in a fixed order (module, then sorted
    public names): offline and the same on every run of the same Python."""
    import importlib

    parts: list[str] = []
    for module_name in CHAR_MODULES:
        module = importlib.import_module(module_name)
        docs = [inspect.getdoc(module)]
        for attr in sorted(dir(module)):
            obj = getattr(module, attr)
            if not attr.startswith("_") and getattr(obj, "__module__", None) == module_name:
                docs.append(inspect.getdoc(obj))
        parts.extend(d for d in docs if d)
    text = "\n\n".join(parts)
    if len(text) < 1000:
        raise ValueError(
            "too little docstring text found (is Python running with -OO?); task 'chars' needs it"
        )
    return text[:max_chars]


def _chars_task(
    name: str, seed: int = 0, context: int = 8, max_chars: int = 60000, train_ratio: float = 0.9
) -> Task:
    if isinstance(context, bool) or not isinstance(context, int) or not 1 <= context <= 64:
        raise ValueError(f"context = {context!r} is not allowed; use an integer in [1, 64]")
    if not isinstance(max_chars, int) or max_chars < 1000:
        raise ValueError(f"max_chars = {max_chars!r} is not allowed; use an integer >= 1000")
    if not 0.0 < train_ratio < 1.0:
        raise ValueError(f"train_ratio = {train_ratio!r} must be in (0, 1), e.g. 0.9")
    text = chars_text(max_chars)
    vocab = sorted(set(text))
    codes = torch.tensor([vocab.index(c) for c in text], dtype=torch.int64)
    windows = codes.unfold(0, context + 1, 1)  # (N, context + 1): k characters and the next one
    x, y = windows[:, :-1].contiguous(), windows[:, -1].contiguous()
    # A contiguous cut (not a shuffle): neighbouring windows overlap, shuffling would leak the test set.
    cut = int(len(x) * train_ratio)
    return Task(
        name=name,
        kind="sequence",
        x_train=x[:cut],
        y_train=y[:cut],
        x_test=x[cut:],
        y_test=y[cut:],
        n_outputs=len(vocab),
        input_shape=(context,),
        is_plane=False,
        meta={"vocab": "".join(vocab), "context": context, "modules": list(CHAR_MODULES)},
    )


# ----------------------------------------------------------------------------------------------------
# the registry
# ----------------------------------------------------------------------------------------------------
_BUILDERS: dict[str, Callable[..., Task]] = {
    **{name: _plane_task for name in _PLANE},
    **{name: _regression_task for name in (*_CURVES, "expr")},
    "digits": _digits_task,
    "mnist1d": _mnist1d_task,
    "csv": _csv_task,
    "chars": _chars_task,
}


def task_names() -> list[str]:
    """Every task ``make_task`` knows."""
    return list(_BUILDERS)


def task_options(name: str) -> dict[str, Any]:
    """The options a task takes and their defaults (for help texts and the playground)."""
    builder = _BUILDERS[_check_name(name)]
    return {
        p.name: (None if p.default is inspect.Parameter.empty else p.default)
        for p in list(inspect.signature(builder).parameters.values())[1:]
        if p.name != "seed"
    }


def _check_name(name: str) -> str:
    if not isinstance(name, str) or name not in _BUILDERS:
        close = difflib.get_close_matches(str(name), list(_BUILDERS), n=3, cutoff=0.4)
        hint = f"; closest: {', '.join(close)}" if close else ""
        raise ValueError(f"unknown task {name!r}{hint}. Tasks: {', '.join(_BUILDERS)}")
    return name


def make_task(name: str, *, seed: int = 0, **options: Any) -> Task:
    """Build the task ``name``; ``seed`` fixes the generated data and the train/test split."""
    name = _check_name(name)
    allowed = task_options(name)
    unknown = [k for k in options if k not in allowed]
    if unknown:
        raise ValueError(
            f"task {name!r} has no option {unknown[0]!r}; options: {', '.join(allowed) or 'none'}"
        )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed = {seed!r} must be an integer")
    return _BUILDERS[name](name, int(seed), **options)
