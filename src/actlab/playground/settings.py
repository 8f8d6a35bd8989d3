"""What the page may ask for: the settings of one playground session, their limits and their validation.

Every message from the page passes through ``validate_settings`` before it reaches the engine. Unknown
fields, wrong types and out-of-range values are rejected with one message per field, worded so the page
can show it next to the control ("lr: 20 is out of range; use a number in [1e-05, 10]").
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, replace
from typing import Any

BUILTIN_DATASETS: dict[str, str] = {
    # name -> problem kind. TensorFlow Playground's four, moons, two with three classes, two regressions.
    "circle": "binary",
    "xor": "binary",
    "gauss": "binary",
    "spiral": "binary",
    "moons": "binary",
    "blobs3": "multiclass",
    "spiral3": "multiclass",
    "plane": "regression",
    "multigauss": "regression",
}
UPLOAD_PREFIX = "upload:"
UPLOAD_ID = re.compile(r"^upload:[0-9a-f]{16}$")

FEATURES: tuple[str, ...] = ("x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2")
OPTIMIZERS = ("sgd", "momentum", "adam")
REGULARIZATIONS = ("none", "l1", "l2")
INITS = ("default", "he", "xavier", "lecun")

# Hard ceilings on the server's configurable limits: a configuration cannot lift them.
CEILING = {
    "max_layers": 16,
    "max_width": 64,
    "max_points": 10_000,
    "max_batch": 1024,
    "max_sessions": 64,
    "max_upload_bytes": 8 * 1024 * 1024,
    "max_upload_rows": 10_000,
    "max_classes": 10,
}


class SettingsError(ValueError):
    """Bad settings: ``errors`` maps each offending field to a message the page shows beside it."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


@dataclass(frozen=True)
class Limits:
    """Server-side bounds. Defaults follow TensorFlow Playground (6 hidden layers × 8 neurons); each can be
    raised when the server starts, never beyond ``CEILING``."""

    max_layers: int = 6
    max_width: int = 8
    max_points: int = 2000
    max_batch: int = 256
    max_sessions: int = 8
    idle_timeout_s: float = 600.0
    max_message_bytes: int = 64 * 1024
    max_upload_bytes: int = 1024 * 1024
    max_upload_rows: int = 5000
    max_uploads: int = 32
    max_classes: int = 10
    max_fps: float = 30.0

    def __post_init__(self) -> None:
        for name, ceiling in CEILING.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= ceiling:
                raise ValueError(f"playground limit {name} = {value!r} must be an integer in [1, {ceiling}]")
        if self.max_classes < 3:
            raise ValueError("playground limit max_classes must be at least 3")
        if not 1.0 <= self.idle_timeout_s <= 86_400.0:
            raise ValueError("playground limit idle_timeout_s must be in [1, 86400] seconds")
        if not 1024 <= self.max_message_bytes <= 1024 * 1024:
            raise ValueError("playground limit max_message_bytes must be in [1024, 1048576]")
        if not 1 <= self.max_uploads <= 1024:
            raise ValueError("playground limit max_uploads must be in [1, 1024]")
        if not 1.0 <= self.max_fps <= 120.0:
            raise ValueError("playground limit max_fps must be in [1, 120]")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Settings:
    """One session's settings. Everything here goes into the page's URL hash, so a link reproduces it."""

    dataset: str = "circle"
    seed: int = 0
    n_points: int = 500
    noise: float = 0.0  # percent, 0–50 as in TensorFlow Playground
    train_ratio: float = 50.0  # percent, 10–90
    features: tuple[str, ...] = ("x1", "x2")
    layers: tuple[int, ...] = (4, 2)
    activations: tuple[str, ...] = ("tanh", "tanh")
    optimizer: str = "sgd"
    lr: float = 0.03
    batch_size: int = 10
    regularization: str = "none"
    reg_rate: float = 0.0
    init: str = "default"

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("features", "layers", "activations"):
            d[key] = list(d[key])
        return d

    def network_key(self) -> tuple[Any, ...]:
        """Settings that shape the network or its data: changing one of them starts training afresh."""
        return (
            self.dataset,
            self.seed,
            self.n_points,
            self.noise,
            self.train_ratio,
            self.features,
            self.layers,
            self.activations,
            self.init,
        )

    def data_key(self) -> tuple[Any, ...]:
        return (self.dataset, self.seed, self.n_points, self.noise, self.train_ratio)


SETTING_NAMES = tuple(Settings.__dataclass_fields__)


def _number(value: Any, low: float, high: float, *, integer: bool = False) -> tuple[Any, str | None]:
    kind = "an integer" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None, f"{value!r} is not {kind}; use {kind} in [{low:g}, {high:g}]"
    if integer and (isinstance(value, float) and not value.is_integer()):
        return None, f"{value!r} is not an integer; use an integer in [{low:g}, {high:g}]"
    if isinstance(value, float) and not math.isfinite(value):
        return None, f"{value!r} is not finite; use {kind} in [{low:g}, {high:g}]"
    if not low <= value <= high:
        return None, f"{value!r} is out of range; use {kind} in [{low:g}, {high:g}]"
    return (int(value) if integer else float(value)), None


def _choice(value: Any, choices: tuple[str, ...]) -> tuple[Any, str | None]:
    if not isinstance(value, str) or value not in choices:
        return None, f"{value!r} is not allowed; use one of {', '.join(choices)}"
    return value, None


def hidden_activation_names() -> list[str]:
    """Catalogue entries that can serve as a hidden layer's activation (the elementwise ones)."""
    import actlab

    return [n for n in actlab.names() if actlab.spec(n).kind == "elementwise"]


def _activation(value: Any, allowed: set[str]) -> tuple[Any, str | None]:
    import actlab

    if not isinstance(value, str) or not value or len(value) > 64:
        return None, f"{value!r} is not an activation name"
    try:
        spec = actlab.spec(value)
    except ValueError as err:
        return None, str(err)
    if spec.name not in allowed:
        return None, f"{spec.name} is a {spec.kind} activation; a hidden layer needs an elementwise one"
    return spec.name, None


def validate_settings(
    data: Any,
    limits: Limits,
    *,
    base: Settings | None = None,
    datasets: set[str] | None = None,
) -> Settings:
    """Settings from a JSON object, field by field, on top of ``base`` (partial updates allowed).

    ``datasets`` names the upload ids this server holds besides the built-in data sets. Raises
    ``SettingsError`` listing every bad field; nothing is half-applied.
    """
    if not isinstance(data, dict):
        raise SettingsError({"settings": f"expected a JSON object, got {type(data).__name__}"})
    base = base or Settings()
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in SETTING_NAMES:
            import difflib

            close = difflib.get_close_matches(str(key), SETTING_NAMES, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            errors[str(key)[:40]] = f"unknown setting{hint} (settings: {', '.join(SETTING_NAMES)})"
            continue
        checked, problem = _check_field(key, value, limits, datasets or set())
        if problem:
            errors[key] = problem
        else:
            values[key] = checked
    if errors:
        raise SettingsError(errors)
    settings = replace(base, **values)
    # Cross-field rules: one activation per hidden layer.
    if "layers" in values and "activations" not in values:
        # keep the chosen activations where layers remain, extend with the last (or tanh)
        acts = list(settings.activations[: len(settings.layers)])
        while len(acts) < len(settings.layers):
            acts.append(acts[-1] if acts else "tanh")
        settings = replace(settings, activations=tuple(acts))
    if len(settings.activations) != len(settings.layers):
        raise SettingsError(
            {
                "activations": f"{len(settings.activations)} activations for {len(settings.layers)} hidden "
                "layers; give one per hidden layer"
            }
        )
    return settings


def _check_field(key: str, value: Any, limits: Limits, uploads: set[str]) -> tuple[Any, str | None]:
    if key == "dataset":
        if isinstance(value, str) and value in BUILTIN_DATASETS:
            return value, None
        if isinstance(value, str) and UPLOAD_ID.match(value):
            if value in uploads:
                return value, None
            return None, f"{value!r} is not on this server (uploads are kept while it runs); upload it again"
        return None, f"{value!r} is not a data set; use one of {', '.join(BUILTIN_DATASETS)} or an upload"
    if key == "seed":
        return _number(value, 0, 2**31 - 1, integer=True)
    if key == "n_points":
        return _number(value, 20, limits.max_points, integer=True)
    if key == "noise":
        return _number(value, 0, 50)
    if key == "train_ratio":
        return _number(value, 10, 90)
    if key == "features":
        if not isinstance(value, list) or not value:
            return None, f"use a non-empty list drawn from {', '.join(FEATURES)}"
        if len(value) > len(FEATURES) or any(not isinstance(f, str) or f not in FEATURES for f in value):
            return None, f"{value!r}: each feature must be one of {', '.join(FEATURES)}"
        if len(set(value)) != len(value):
            return None, "a feature is listed twice"
        return tuple(f for f in FEATURES if f in value), None  # canonical order
    if key == "layers":
        if not isinstance(value, list) or len(value) > limits.max_layers:
            return None, f"use a list of at most {limits.max_layers} hidden-layer widths"
        widths = []
        for w in value:
            checked, problem = _number(w, 1, limits.max_width, integer=True)
            if problem:
                return None, f"width {problem}"
            widths.append(checked)
        return tuple(widths), None
    if key == "activations":
        if not isinstance(value, list) or len(value) > limits.max_layers:
            return None, f"use a list of at most {limits.max_layers} activation names"
        allowed = set(hidden_activation_names())
        names = []
        for i, v in enumerate(value):
            checked, problem = _activation(v, allowed)
            if problem:
                return None, f"layer {i + 1}: {problem}"
            names.append(checked)
        return tuple(names), None
    if key == "optimizer":
        return _choice(value, OPTIMIZERS)
    if key == "lr":
        return _number(value, 1e-5, 10)
    if key == "batch_size":
        return _number(value, 1, limits.max_batch, integer=True)
    if key == "regularization":
        return _choice(value, REGULARIZATIONS)
    if key == "reg_rate":
        return _number(value, 0, 10)
    if key == "init":
        return _choice(value, INITS)
    raise AssertionError(key)  # pragma: no cover - SETTING_NAMES and this function list the same fields


__all__ = [
    "BUILTIN_DATASETS",
    "FEATURES",
    "INITS",
    "OPTIMIZERS",
    "REGULARIZATIONS",
    "Limits",
    "Settings",
    "SettingsError",
    "hidden_activation_names",
    "validate_settings",
]
