"""The playground's points: built-in data sets, uploaded CSV files and the input features.

All points live in the view window [-6, 6]² that the page draws. Classification labels are class
indices 0..K-1; regression targets lie in [-1, 1]. The built-in sets follow TensorFlow Playground's
geometry (its noise is a percentage, 0–50) with moons and two three-class sets added.

``load_points`` is the one place that makes a data set: circle, xor, gauss, spiral and moons come from the
lab's tasks (``actlab.lab.tasks.make_task``); the three-class and regression sets in the plane are made
here, since the lab's own regression tasks are one-dimensional.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import torch

from actlab.playground.settings import BUILTIN_DATASETS, FEATURES, UPLOAD_PREFIX

VIEW = 6.0  # the page shows [-VIEW, VIEW]²


@dataclass
class Points:
    """Points in the view window with their labels; ``kind`` is binary, multiclass or regression."""

    x: np.ndarray  # (n, 2) float32
    y: np.ndarray  # (n,) int64 class indices, or float32 targets in [-1, 1]
    kind: str
    n_classes: int = 0  # 0 for regression
    label_names: list[str] = field(default_factory=list)
    source: str = ""

    def __post_init__(self) -> None:
        if self.x.ndim != 2 or self.x.shape[1] != 2 or len(self.x) != len(self.y):
            raise ValueError("points need x of shape (n, 2) and n labels")


def _spiral_arms(rng: np.random.Generator, n: int, noise: float, arms: int) -> tuple[np.ndarray, np.ndarray]:
    xs, labels = [], []
    for arm in range(arms):
        count = n // arms + (1 if arm < n % arms else 0)
        i = np.arange(count)
        r = i / count * 5
        t = 1.75 * i / count * 2 * math.pi + 2 * math.pi * arm / arms
        pts = np.stack([r * np.sin(t), r * np.cos(t)], 1) + rng.uniform(-1, 1, (count, 2)) * noise
        xs.append(pts)
        labels.append(np.full(count, arm, np.int64))
    return np.concatenate(xs), np.concatenate(labels)


def _blobs3(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    std = 0.6 + 4.0 * noise
    xs, labels = [], []
    for k in range(3):
        count = n // 3 + (1 if k < n % 3 else 0)
        angle = math.pi / 2 + 2 * math.pi * k / 3
        centre = 3.2 * np.array([math.cos(angle), math.sin(angle)])
        xs.append(rng.normal(centre, std, (count, 2)))
        labels.append(np.full(count, k, np.int64))
    return np.concatenate(xs), np.concatenate(labels)


def _plane(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    xy = rng.uniform(-6, 6, (n, 2))
    jitter = rng.uniform(-6, 6, xy.shape) * noise
    return xy, np.clip((xy + jitter).sum(1) / 10.0, -1, 1)


_GAUSSIANS = ((-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1))


def _multigauss(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    xy = rng.uniform(-6, 6, (n, 2))
    noisy = xy + rng.uniform(-6, 6, xy.shape) * noise
    label = np.zeros(n)
    for cx, cy, sign in _GAUSSIANS:
        d = np.hypot(noisy[:, 0] - cx, noisy[:, 1] - cy)
        value = sign * np.clip(1 - d / 2, 0, 1)
        label = np.where(np.abs(value) > np.abs(label), value, label)
    return xy, label


_GENERATORS = {
    "blobs3": _blobs3,
    "spiral3": lambda rng, n, noise: _spiral_arms(rng, n, noise, 3),
    "plane": _plane,
    "multigauss": _multigauss,
}


# The lab's tasks provide these sets with TensorFlow Playground's geometry; the playground uses them so
# that a picture here and a comparison in the lab are about the same data. The lab's other tasks are
# not planar, so three-class and regression sets in the plane are generated here.
LAB_SETS = ("circle", "xor", "gauss", "spiral", "moons")


def load_points(
    dataset: str, seed: int, n_points: int, noise: float, uploads: UploadStore, train_ratio: float = 50.0
) -> Points:
    """The points of a data set, training points first (``split`` with the same ratio cuts them apart);
    ``noise`` and ``train_ratio`` are percentages. Uploads come from ``uploads``."""
    if dataset.startswith(UPLOAD_PREFIX):
        return uploads.get(dataset)
    if dataset not in BUILTIN_DATASETS:
        raise ValueError(f"unknown data set {dataset!r}; use one of {', '.join(BUILTIN_DATASETS)}")
    kind = BUILTIN_DATASETS[dataset]
    if dataset in LAB_SETS:
        from actlab.lab.tasks import make_task

        task = make_task(dataset, seed=seed, n=n_points, noise=noise / 100.0, train_ratio=train_ratio / 100.0)
        xy = torch.cat([task.x_train, task.x_test]).numpy()
        y = torch.cat([task.y_train, task.y_test]).numpy().astype(np.int64)
    else:
        rng = np.random.default_rng(seed)
        xy, y = _GENERATORS[dataset](rng, n_points, noise / 100.0)
        order = rng.permutation(len(y))  # split takes a prefix: shuffle the classes together
        xy, y = xy[order], y[order]
    xy = np.clip(xy, -VIEW, VIEW).astype(np.float32)  # the few noisy points beyond the view sit on its edge
    if kind == "regression":
        return Points(xy, y.astype(np.float32), kind, 0, [], dataset)
    n_classes = 3 if kind == "multiclass" else 2
    return Points(xy, y, kind, n_classes, [str(k) for k in range(n_classes)], dataset)


def split(n: int, train_ratio: float) -> tuple[slice, slice]:
    """Train and test parts of already-shuffled points (at least one point in each)."""
    n_train = min(max(1, round(n * train_ratio / 100.0)), n - 1)
    return slice(0, n_train), slice(n_train, n)


# ----------------------------------------------------------------------------------------------------
# Input features
# ----------------------------------------------------------------------------------------------------
FEATURE_LABELS = {
    "x1": "X₁",
    "x2": "X₂",
    "x1sq": "X₁²",
    "x2sq": "X₂²",
    "x1x2": "X₁X₂",
    "sinx1": "sin(X₁)",
    "sinx2": "sin(X₂)",
}


def features(xy: torch.Tensor, names: tuple[str, ...]) -> torch.Tensor:
    """The chosen input features of points ``xy`` (n, 2), in ``FEATURES`` order."""
    x1, x2 = xy[:, 0], xy[:, 1]
    table = {
        "x1": lambda: x1,
        "x2": lambda: x2,
        "x1sq": lambda: x1 * x1,
        "x2sq": lambda: x2 * x2,
        "x1x2": lambda: x1 * x2,
        "sinx1": lambda: torch.sin(x1),
        "sinx2": lambda: torch.sin(x2),
    }
    return torch.stack([table[name]() for name in FEATURES if name in names], 1)


# ----------------------------------------------------------------------------------------------------
# Uploads
# ----------------------------------------------------------------------------------------------------
class UploadError(ValueError):
    """An uploaded file that cannot be used, with the reason."""


def parse_csv(raw: bytes, *, max_rows: int, max_classes: int) -> Points:
    """Points from a CSV with two feature columns and a label column (a header row is optional).

    Integer labels with at most ``max_classes`` distinct values make a classification set, anything else
    a regression; features are rescaled linearly into [-5, 5] so the points fill the view.
    """
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise UploadError(f"the file is not UTF-8 text ({err.reason} at byte {err.start})") from None
    if "\x00" in text:
        raise UploadError("the file is not text (it contains NUL bytes)")
    sample = text[:4096]
    delimiter = max(",;\t", key=sample.count) if any(d in sample for d in ",;\t") else ","
    rows: list[list[float]] = []
    header: list[str] | None = None
    for line_no, row in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != 3:
            raise UploadError(f"line {line_no}: expected 3 columns (x1, x2, label), found {len(row)}")
        try:
            values = [float(c) for c in row]
        except ValueError:
            if header is None and not rows:
                header = [c.strip()[:32] for c in row]
                continue
            raise UploadError(f"line {line_no}: {row!r} holds a value that is not a number") from None
        if not all(math.isfinite(v) for v in values):
            raise UploadError(f"line {line_no}: values must be finite numbers")
        rows.append(values)
        if len(rows) > max_rows:
            raise UploadError(f"more than {max_rows} rows; the playground takes at most {max_rows}")
    if len(rows) < 4:
        raise UploadError(f"{len(rows)} data rows; give at least 4 (two for training, two for testing)")
    table = np.asarray(rows, dtype=np.float64)
    xy = table[:, :2]
    lo, hi = xy.min(0), xy.max(0)
    span = np.where(hi > lo, hi - lo, 1.0)
    xy = np.where(hi > lo, (xy - lo) / span * 10.0 - 5.0, 0.0)
    labels = table[:, 2]
    distinct = np.unique(labels)
    is_class = bool(np.all(labels == np.round(labels))) and len(distinct) <= max_classes
    rng = np.random.default_rng(int.from_bytes(hashlib.sha256(raw).digest()[:4], "little"))
    order = rng.permutation(len(labels))
    xy = xy[order].astype(np.float32)
    if is_class:
        if len(distinct) < 2:
            raise UploadError("every row has the same label; a classification needs at least two classes")
        index = np.searchsorted(distinct, labels[order]).astype(np.int64)
        kind = "binary" if len(distinct) == 2 else "multiclass"
        names = [f"{v:g}" for v in distinct]
        return Points(xy, index, kind, len(distinct), names, "upload")
    ylo, yhi = labels.min(), labels.max()
    scaled = np.where(yhi > ylo, (labels - ylo) / max(yhi - ylo, 1e-300) * 2 - 1, 0.0)
    return Points(xy, scaled[order].astype(np.float32), "regression", 0, [f"{ylo:g}", f"{yhi:g}"], "upload")


class UploadStore:
    """Uploaded data sets, by content hash, oldest dropped first beyond ``capacity``."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, Points] = OrderedDict()

    def add(self, raw: bytes, *, max_rows: int, max_classes: int) -> tuple[str, Points]:
        points = parse_csv(raw, max_rows=max_rows, max_classes=max_classes)
        key = UPLOAD_PREFIX + hashlib.sha256(raw).hexdigest()[:16]
        self._items[key] = points
        self._items.move_to_end(key)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)
        return key, points

    def get(self, key: str) -> Points:
        try:
            return self._items[key]
        except KeyError:
            raise ValueError(f"{key!r} is not on this server; upload the file again") from None

    def keys(self) -> set[str]:
        return set(self._items)
