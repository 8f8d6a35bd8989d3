"""``swap``: replace activation functions inside any PyTorch model, modules and functional calls alike.

Two kinds of site are found and swapped:

* **modules** — torch's activation classes (``nn.ReLU``, ``nn.GELU``, ...; the catalogue's
  ``torch_module`` fields say which class implements which entry) and actlab's generated modules;
* **functional calls** in forward code — ``F.relu(x)``, ``torch.relu(x)``, ``x.relu()``, the in-place
  forms ``F.relu(x, inplace=True)``, ``torch.relu_(x)``, ``x.relu_()``, ``F.gelu``, ``torch.sigmoid``,
  ``F.silu``, ... — found by tracing each module's *own* forward with ``torch.fx`` (its children are
  kept as opaque calls). A module whose forward has a matching call is replaced by a ``GraphModule``
  that computes the same thing with the new activation; it keeps the module's children, parameters,
  buffers, plain attributes, class name and training flag. A module whose forward cannot be traced
  (data-dependent control flow, unpacking a shape, ...) is reported, with the reason, and the others
  are still inspected.

Planning (finding sites, tracing, building replacements) never touches the model; the changes are
applied only when the plan is complete, so ``strict=True`` raises before anything is modified.
"""

from __future__ import annotations

import copy
import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import torch
import torch.fx as fx
from torch import nn

from actlab.catalog.spec import Spec, lookup
from actlab.surgery import init as fitting
from actlab.surgery.sites import (
    FunctionCall,
    describe_call,
    function_spec,
    is_activation_module,
    is_inplace_call,
    module_specs,
    stand_in,
    tables,
)

Tensor = torch.Tensor
Replacement = Any  # str | Spec | (str, dict) | nn.Module | Callable[[], nn.Module]
PerSite = Callable[[str, nn.Module], Any]


_FIT_CACHE: dict[tuple[Any, ...], tuple[fitting.FitResult | None, dict[str, float] | None, str]] = {}
_FIT_CACHE_SIZE = 256


class SwapError(RuntimeError):
    """``strict=True`` and something asked for could not be swapped (the report says what and why)."""

    def __init__(self, message: str, report: SwapReport) -> None:
        super().__init__(message)
        self.report = report


# ----------------------------------------------------------------------------------------------------
# The report
# ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SwappedSite:
    """One swapped site. ``path`` is a module path (``features.1``) or, for a functional call, the
    owner's forward and the fx node (``layer1.0.forward:relu_1``; ``forward:relu`` in the root).
    ``init`` is "fitted" (learnable parameters fitted to the replaced function), "default" (the
    catalogue's defaults) or "given" (a module instance or factory supplied by the caller).
    ``distance``: max and mean |new(x) - old(x)| on the fit range, None when not measurable."""

    path: str
    kind: Literal["module", "function"]
    old: str
    new: str
    old_activation: str | None
    new_activation: str | None
    init: Literal["fitted", "default", "given"]
    fit: fitting.FitResult | None = None
    distance: dict[str, float] | None = None
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "old": self.old,
            "new": self.new,
            "old_activation": self.old_activation,
            "new_activation": self.new_activation,
            "init": self.init,
            "fit": self.fit.as_dict() if self.fit else None,
            "distance": self.distance,
            "note": self.note,
        }


@dataclass(frozen=True)
class SkippedSite:
    """A place that could not be swapped or inspected, and why."""

    path: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason}


@dataclass
class SwapReport:
    """What ``swap`` did: every swapped site (old → new), every skipped one with its reason, and the
    mapping keys that matched nothing."""

    swapped: list[SwappedSite] = field(default_factory=list)
    skipped: list[SkippedSite] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def modules(self) -> list[SwappedSite]:
        return [s for s in self.swapped if s.kind == "module"]

    @property
    def functions(self) -> list[SwappedSite]:
        return [s for s in self.swapped if s.kind == "function"]

    @property
    def complete(self) -> bool:
        """Everything asked for was found and swapped, and every forward could be inspected."""
        return not self.skipped and not self.unmatched

    def counts(self) -> dict[str, int]:
        return {
            "modules": len(self.modules),
            "functions": len(self.functions),
            "skipped": len(self.skipped),
            "unmatched": len(self.unmatched),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "counts": self.counts(),
            "swapped": [s.as_dict() for s in self.swapped],
            "skipped": [s.as_dict() for s in self.skipped],
            "unmatched": list(self.unmatched),
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        c = self.counts()
        text = f"swapped {c['modules']} module(s) and {c['functions']} functional call(s)"
        if c["skipped"]:
            text += f"; {c['skipped']} site(s) skipped"
        if self.unmatched:
            text += f"; nothing matched {', '.join(self.unmatched)}"
        return text

    def __str__(self) -> str:
        lines = [self.summary()]
        for s in self.swapped:
            extra = ""
            if s.distance is not None:
                extra = f"  (max |Δ| {s.distance['max_error']:.3g} on the fit range)"
            if s.init == "fitted" and s.fit is not None:
                extra += f"  fitted: {s.fit.params}"
            lines.append(f"  {s.path}: {s.old} -> {s.new}{extra}")
            if s.note:
                lines.append(f"      {s.note}")
        for k in self.skipped:
            lines.append(f"  skipped {k.path}: {k.reason}")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)


class SwapResult(NamedTuple):
    """The swapped model and the report; unpacks as ``model, report = actlab.swap(...)``."""

    model: nn.Module
    report: SwapReport


# ----------------------------------------------------------------------------------------------------
# Mapping: keys select sites, values say what replaces them
# ----------------------------------------------------------------------------------------------------
class _Target:
    """A mapping value, validated: builds one replacement module per site."""

    def __init__(self, value: Replacement, where: str) -> None:
        self.spec: Spec | None = None
        self.kwargs: dict[str, Any] = {}
        self.instance: nn.Module | None = None
        self.factory: Callable[[], Any] | None = None
        if isinstance(value, (str, Spec)):
            self.spec = lookup(value)
        elif isinstance(value, tuple):
            if len(value) != 2 or not isinstance(value[0], (str, Spec)) or not isinstance(value[1], dict):
                raise TypeError(
                    f"{where}: a (name, kwargs) replacement must be a pair like "
                    f"('leaky_relu', {{'negative_slope': 0.1}}), got {value!r}"
                )
            self.spec = lookup(value[0])
            self.kwargs = dict(value[1])
        elif isinstance(value, nn.Module):
            self.instance = value
        elif callable(value):
            self.factory = value
        else:
            raise TypeError(
                f"{where}: a replacement must be an activation name, a (name, kwargs) pair, an nn.Module "
                f"or a zero-argument factory returning one; got {type(value).__name__}"
            )
        self.label = self._label(value)
        self.build(inplace=False)  # validate now: bad kwargs fail before anything is changed

    @staticmethod
    def _label(value: Any) -> str:
        if isinstance(value, (str, Spec)):
            return lookup(value).name
        if isinstance(value, tuple):
            args = ", ".join(f"{k}={v!r}" for k, v in value[1].items())
            return f"{lookup(value[0]).name}({args})"
        if isinstance(value, nn.Module):
            return repr(value)
        return getattr(value, "__qualname__", repr(value))

    @property
    def key(self) -> tuple[Any, ...]:
        if self.spec is not None:
            return ("spec", self.spec.name, repr(sorted(self.kwargs.items())))
        return ("object", id(self.instance if self.instance is not None else self.factory))

    @property
    def fit_names(self) -> list[str]:
        """Learnable parameters to fit to the replaced function: those the caller did not set."""
        if self.spec is None:
            return []
        return [p.name for p in self.spec.params if p.learnable and p.name not in self.kwargs]

    def build(self, *, inplace: bool) -> nn.Module:
        if self.spec is not None:
            import actlab

            if inplace and self.spec.inplace:
                try:
                    return actlab.get(self.spec.name, inplace=True, **self.kwargs)
                except TypeError:
                    pass
            return actlab.get(self.spec.name, **self.kwargs)
        if self.instance is not None:
            return copy.deepcopy(self.instance)
        assert self.factory is not None
        made = self.factory()
        if not isinstance(made, nn.Module):
            raise TypeError(
                f"replacement factory {self.label} returned {type(made).__name__}, not an nn.Module"
            )
        return made

    @property
    def init(self) -> Literal["default", "given"]:
        return "default" if self.spec is not None else "given"


class _Matcher:
    """Decides, per site, which target (if any) replaces it."""

    def __init__(self, mapping: Any) -> None:
        self.per_site: PerSite | None = None
        self.rules: list[tuple[str, Spec | type, _Target]] = []
        self.hits: dict[str, int] = {}
        if isinstance(mapping, dict):
            if not mapping:
                raise ValueError(
                    "empty mapping: say what to swap, e.g. {'relu': 'gelu'}, {nn.ReLU: 'silu'} or a "
                    "function (path, module) -> replacement or None"
                )
            for key, value in mapping.items():
                label, selector = self._selector(key)
                self.rules.append((label, selector, _Target(value, f"mapping[{label!r}]")))
                self.hits[label] = 0
        elif callable(mapping) and not isinstance(mapping, (str, type, nn.Module)):
            self.per_site = mapping
        else:
            raise TypeError(
                "mapping must be a dict {activation name or module class: replacement} or a function "
                f"(path, module) -> replacement or None; got {type(mapping).__name__}"
            )

    @staticmethod
    def _selector(key: Any) -> tuple[str, Spec | type]:
        if isinstance(key, (str, Spec)):
            spec = lookup(key)
            return spec.name, spec
        if isinstance(key, type) and issubclass(key, nn.Module):
            return key.__name__, key
        raise TypeError(
            f"mapping key {key!r} is neither an activation name nor an nn.Module class; use e.g. "
            "'relu' or nn.ReLU"
        )

    @property
    def may_match_calls(self) -> bool:
        """Whether functional calls can be asked for (only names select calls; classes select modules)."""
        if self.per_site is not None:
            return True
        t = tables()
        callable_specs = {s.name for s in t.by_function.values()} | {s.name for s in t.by_method.values()}
        return any(isinstance(sel, Spec) and sel.name in callable_specs for _, sel, _ in self.rules)

    def _per_site(self, path: str, module: nn.Module) -> _Target | None:
        assert self.per_site is not None
        value = self.per_site(path, module)
        if value is None or value is module:
            return None
        if isinstance(value, nn.Module):
            target = _Target.__new__(_Target)
            target.spec, target.kwargs, target.instance, target.factory = None, {}, None, None
            target.label = repr(value)
            target.build = lambda *, inplace, _m=value: _m  # type: ignore[method-assign]
            return target
        return _Target(value, f"the mapping function's answer for {path!r}")

    def for_module(self, path: str, module: nn.Module) -> _Target | None:
        if self.per_site is not None:
            return self._per_site(path, module)
        specs = {s.name for s in module_specs(module)}
        for label, selector, target in self.rules:
            hit = isinstance(module, selector) if isinstance(selector, type) else selector.name in specs
            if hit:
                self.hits[label] += 1
                return target
        return None

    def for_call(self, path: str, spec: Spec, stand: nn.Module) -> _Target | None:
        if self.per_site is not None:
            return self._per_site(path, stand)
        for label, selector, target in self.rules:
            if isinstance(selector, Spec) and selector.name == spec.name:
                self.hits[label] += 1
                return target
        return None

    def unmatched(self) -> list[str]:
        return [label for label, n in self.hits.items() if n == 0]


# ----------------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------------
def _placement(
    module: nn.Module, ancestors: list[nn.Module]
) -> tuple[torch.device | None, torch.dtype | None]:
    """Device and floating dtype of a site: its own tensors, else the nearest ancestor's."""
    for m in (module, *reversed(ancestors)):
        for t in (*m.parameters(), *m.buffers()):
            if t.is_floating_point():
                return t.device, t.dtype
        for t in (*m.parameters(), *m.buffers()):
            return t.device, None
    return None, None


def _ancestors(root: nn.Module, path: str) -> list[nn.Module]:
    chain = [root]
    if path:
        parts = path.split(".")
        for i in range(1, len(parts)):
            chain.append(root.get_submodule(".".join(parts[:i])))
    return chain


def _place(
    new: nn.Module, device: torch.device | None, dtype: torch.dtype | None, training: bool
) -> nn.Module:
    if device is not None:
        new = new.to(device=device)
    if dtype is not None:
        new = new.to(dtype=dtype)
    return new.train(training)


def _is_owner(module: nn.Module) -> bool:
    """A module whose own forward is user code worth tracing (not torch's or actlab's)."""
    if isinstance(module, fx.GraphModule):
        return True
    forward = getattr(type(module), "forward", None)
    where = getattr(forward, "__module__", "") or ""
    return not (where.startswith("torch.") or where.startswith("actlab.")) and not is_activation_module(
        module
    )


def _set_child(root: nn.Module, path: str, new: nn.Module) -> None:
    parent_path, _, name = path.rpartition(".")
    parent = root.get_submodule(parent_path) if parent_path else root
    setattr(parent, name, new)


class _OwnForwardTracer(fx.Tracer):
    """Traces one module's own forward: every child module stays a single call_module node."""

    def __init__(self) -> None:
        import actlab.functional

        super().__init__(autowrap_modules=(math, actlab.functional))

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        return True


def _trace(owner: nn.Module) -> tuple[fx.Graph, list[str]]:
    """The owner's forward as a graph. Optional arguments defaulting to None or a bool are fixed to
    that default (fx would otherwise take ``if mask is not None`` as always true); returns their names."""
    try:
        parameters = inspect.signature(owner.forward).parameters
    except (TypeError, ValueError):
        parameters = {}
    fixed = {
        name: p.default for name, p in parameters.items() if p.default is None or isinstance(p.default, bool)
    }
    graph = _OwnForwardTracer().trace(owner, concrete_args=fixed or None)
    return graph, list(fixed)


def _untraceable_reason(err: BaseException, owner: nn.Module) -> str:
    message = (str(err).strip().splitlines() or [type(err).__name__])[0]
    control = isinstance(err, fx.proxy.TraceError) or "control flow" in message
    kind = "untraceable control flow" if control else f"untraceable ({type(err).__name__})"
    return (
        f"{kind}: {message} — functional activation calls in {type(owner).__name__}.forward "
        "(F.relu, torch.relu, x.relu(), ...) could not be inspected; its child modules were still swapped"
    )


@dataclass
class _CallSite:
    node: fx.Node
    new: nn.Module
    report: SwappedSite
    inplace: bool


@dataclass
class _OwnerPlan:
    path: str
    paths: list[str]
    owner: nn.Module
    graph: fx.Graph
    calls: list[_CallSite]
    fixed: list[str]


# ----------------------------------------------------------------------------------------------------
# swap
# ----------------------------------------------------------------------------------------------------
def swap(
    model: nn.Module,
    mapping: dict[Any, Replacement] | PerSite,
    *,
    inplace: bool = False,
    strict: bool = False,
    functional: bool = True,
    init: Literal["fit", "default"] = "fit",
    fit_range: tuple[float, float] = fitting.DEFAULT_RANGE,
) -> SwapResult:
    """Replace activation functions in ``model``; returns ``SwapResult(model, report)``.

    ``mapping`` selects sites and says what replaces them:

    * ``{"relu": "gelu"}`` — keys are catalogue names or aliases ("ReLU" works too) and select both
      modules implementing that entry (torch's ``nn.ReLU``, actlab's ``ReLU``) and functional calls
      (``F.relu``, ``torch.relu``, ``x.relu()``, in-place forms);
    * ``{nn.ReLU: actlab.get("silu")}`` — a module class selects modules of that class only;
    * ``lambda path, module: ...`` — called for every module (``path`` "" is the root) and for every
      functional activation call (``path`` ``"<owner>.forward:<node>"``, ``module`` the equivalent torch
      module such as ``nn.ReLU()``, or a :class:`~actlab.surgery.sites.FunctionCall` when torch has none);
      it returns a replacement, or None to keep the site.

    A replacement is a name (``"gelu"``), a name with parameters (``("leaky_relu", {"negative_slope":
    0.1})``), a module instance (deep-copied for each site) or a zero-argument factory (``nn.SiLU``).
    A module shared by several paths gets one shared replacement.

    Replacements take the device, floating dtype and training flag of the site; an in-place site keeps
    ``inplace=True`` when the new activation has an in-place form. With ``init="fit"`` (default), a
    learnable replacement built from a name (prelu, swish, the rational unit, ...) starts from the
    parameters that fit the replaced function best in least squares on ``fit_range`` (see
    ``actlab.surgery.init``); the report gives the fitted values and the error before and after.

    ``inplace=False`` (default) works on a deep copy and never touches ``model``. ``inplace=True``
    changes ``model`` itself: modules are replaced in their parents, and a module whose forward had
    functional calls swapped is replaced, in its parent, by a ``GraphModule`` that shares its
    children and parameters. The root cannot replace itself: if the root's own forward had calls
    swapped, the returned model is such a ``GraphModule`` sharing every parameter with ``model``, while
    ``model.forward`` still runs the old code — use the returned model (the report notes it).

    In-place functional calls (``x.relu_()``, ``F.relu(x, inplace=True)``) become out-of-place calls,
    and every later use of their input inside that forward reads the new result, as it read the
    overwritten tensor before; a tensor passed in from outside is no longer overwritten.

    ``strict=True`` raises :class:`SwapError` — before changing anything — when a mapping key matched
    nothing or a forward that might hold functional calls could not be traced. ``functional=False``
    swaps modules only and traces nothing.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if init not in ("fit", "default"):
        raise ValueError(f"init must be 'fit' or 'default', got {init!r}")
    matcher = _Matcher(mapping)
    work = model if inplace else copy.deepcopy(model)
    report = SwapReport()
    cache: dict[tuple[Any, ...], tuple[fitting.FitResult | None, dict[str, float] | None, str]] = {}

    def finish(
        target: _Target, new: nn.Module, old: nn.Module | None, old_key: str
    ) -> tuple[str, fitting.FitResult | None, dict[str, float] | None, str]:
        """Fit learnable parameters (once per old/new pair) and measure the function-space distance."""
        names = target.fit_names if init == "fit" else []
        key = (target.key, old_key, tuple(fit_range), tuple(names))
        # A replaced function without tensors of its own is fixed by its type and repr: its fit can be
        # reused across calls (swap-eval swaps the same relu for the same rational once per seed).
        pure = old is not None and not any(True for _ in (*old.parameters(), *old.buffers()))
        if pure and target.spec is not None and key in _FIT_CACHE:
            cache[key] = _FIT_CACHE[key]
        if key not in cache:
            fit_result, distance, note = None, None, ""
            if old is not None:
                try:
                    if names:
                        fit_result = fitting.fit_learnable(new, old, names=names, fit_range=fit_range)
                    if fit_result is not None:
                        distance = {"max_error": fit_result.max_error, "mean_error": fit_result.mean_error}
                    else:
                        distance = fitting.function_distance(new, old, fit_range=fit_range)
                except (ValueError, TypeError, RuntimeError) as err:
                    note = f"not compared in function space: {err}"
            elif names:
                note = "learnable parameters left at their defaults: the replaced call has tensor arguments"
            cache[key] = (fit_result, distance, note)
            if pure and target.spec is not None:
                if len(_FIT_CACHE) >= _FIT_CACHE_SIZE:
                    _FIT_CACHE.pop(next(iter(_FIT_CACHE)))
                _FIT_CACHE[key] = cache[key]
        fit_result, distance, note = cache[key]
        if fit_result is not None:
            fitting.apply_params(new, fit_result.params)
            return "fitted", fit_result, distance, note
        return target.init, None, distance, note

    # ---- plan: module sites -------------------------------------------------------------------------
    module_plan: list[tuple[str, nn.Module]] = []
    built: dict[int, nn.Module] = {}
    replaced_prefixes: list[str] = []
    for path, module in list(work.named_modules(remove_duplicate=False)):
        if (
            any(path == p or path.startswith(p + ".") for p in replaced_prefixes if p)
            or "" in replaced_prefixes
        ):
            continue
        target = matcher.for_module(path, module)
        if target is None:
            continue
        replaced_prefixes.append(path)
        site_inplace = bool(getattr(module, "inplace", False))
        new = built.get(id(module))
        if new is None:
            device, dtype = _placement(module, _ancestors(work, path))
            new = _place(target.build(inplace=site_inplace), device, dtype, module.training)
            built[id(module)] = new
            how, fit_result, distance, note = finish(
                target, new, module, f"{type(module).__module__}.{type(module).__qualname__}:{module!r}"
            )
        else:
            how, fit_result, distance, note = finish(
                target, new, module, f"{type(module).__module__}.{type(module).__qualname__}:{module!r}"
            )
            note = (note + "; " if note else "") + "shared module: same replacement as its other paths"
        if site_inplace and not getattr(new, "inplace", False):
            note = (
                note + "; " if note else ""
            ) + "in-place → out-of-place (the replacement has no in-place form)"
        old_specs = module_specs(module)
        new_specs = module_specs(new)
        report.swapped.append(
            SwappedSite(
                path=path or "(root)",
                kind="module",
                old=repr(module),
                new=repr(new),
                old_activation=old_specs[0].name if old_specs else None,
                new_activation=new_specs[0].name if new_specs else None,
                init=how,
                fit=fit_result,
                distance=distance,
                note=note,
            )
        )
        module_plan.append((path, new))

    # ---- plan: functional call sites ---------------------------------------------------------------
    owner_plans: list[_OwnerPlan] = []
    if functional and matcher.may_match_calls:
        paths_of: dict[int, list[str]] = {}
        for path, module in work.named_modules(remove_duplicate=False):
            paths_of.setdefault(id(module), []).append(path)
        owners = [(p, m) for p, m in work.named_modules() if _is_owner(m)]
        for path, owner in reversed(owners):  # deepest first: a parent's GraphModule sees new children
            if (
                any(path == p or path.startswith(p + ".") for p in replaced_prefixes if p)
                or "" in replaced_prefixes
            ):
                continue
            label = f"{path}.forward" if path else "forward"
            try:
                graph, fixed = _trace(owner)
            except Exception as err:  # noqa: BLE001 - any tracing failure is reported, never fatal
                report.skipped.append(SkippedSite(label, _untraceable_reason(err, owner)))
                continue
            calls = _plan_calls(graph, owner, path, label, matcher, finish, work)
            if calls:
                owner_plans.append(
                    _OwnerPlan(path, paths_of.get(id(owner), [path]), owner, graph, calls, fixed)
                )
                report.swapped.extend(c.report for c in calls)
    report.unmatched = matcher.unmatched()

    if strict and not report.complete:
        problems = [f"{k.path}: {k.reason}" for k in report.skipped]
        problems += [f"nothing in the model matched {label!r}" for label in report.unmatched]
        raise SwapError(
            "strict swap failed, nothing was changed:\n  "
            + "\n  ".join(problems)
            + "\n(call with strict=False to swap what can be swapped and read the report)",
            report,
        )

    # ---- apply ----------------------------------------------------------------------------------------
    result = work
    for path, new in module_plan:
        if path == "":
            result = new
        else:
            _set_child(work, path, new)
    for plan in owner_plans:
        gm = _rewrite(plan)
        if plan.fixed:
            label = f"{plan.path}.forward" if plan.path else "forward"
            report.notes.append(
                f"{label} was traced with its optional argument(s) {', '.join(plan.fixed)} fixed to their "
                "defaults; the rewritten forward raises if they are passed something else"
            )
        for path in plan.paths:
            if path == "":
                result = gm
                if inplace:
                    report.notes.append(
                        f"the root's forward ({type(model).__name__}.forward) had functional calls swapped: "
                        "the returned model is a GraphModule sharing all parameters with the given model; "
                        "the given model's own forward still runs the old code"
                    )
            else:
                _set_child(work, path, gm)
    return SwapResult(result, report)


def _plan_calls(
    graph: fx.Graph,
    owner: nn.Module,
    owner_path: str,
    label: str,
    matcher: _Matcher,
    finish: Callable[..., tuple[str, fitting.FitResult | None, dict[str, float] | None, str]],
    root: nn.Module,
) -> list[_CallSite]:
    calls: list[_CallSite] = []
    device, dtype = _placement(owner, _ancestors(root, owner_path))
    for node in graph.nodes:
        if node.op not in ("call_function", "call_method"):
            continue
        spec = function_spec(node.op, node.target)
        if spec is None:
            continue
        args = tuple(node.args)
        kwargs = dict(node.kwargs)
        x = args[0] if args else kwargs.pop("input", None)
        rest = args[1:]
        if not isinstance(x, fx.Node):
            continue  # applied to a constant, not to a traced tensor
        inplace = is_inplace_call(node.op, node.target, kwargs, args)
        flag = _positional_inplace(node, rest)
        if flag is not None:
            rest = rest[:flag]
        rest_values, args_ok = _constant_args(rest, owner)
        kw_values, kwargs_ok = _constant_kwargs({k: v for k, v in kwargs.items() if k != "inplace"}, owner)
        site = f"{label}:{node.name}"
        stand = stand_in(node.op, _plain_name(node), rest_values, kw_values, spec)
        target = matcher.for_call(site, spec, stand)
        if target is None:
            continue
        new = _place(target.build(inplace=False), device, dtype, owner.training)
        old = stand if (args_ok and kwargs_ok) else None
        old_text = describe_call(node.op, node.target, args, dict(node.kwargs))
        how, fit_result, distance, note = finish(target, new, old, f"call:{old_text}")
        if inplace:
            note = (note + "; " if note else "") + (
                "in-place call made out-of-place; later uses of its input in this forward read the new result"
            )
        new_specs = module_specs(new)
        calls.append(
            _CallSite(
                node=node,
                new=new,
                inplace=inplace,
                report=SwappedSite(
                    path=site,
                    kind="function",
                    old=old_text,
                    new=repr(new),
                    old_activation=spec.name,
                    new_activation=new_specs[0].name if new_specs else None,
                    init=how,  # type: ignore[arg-type]
                    fit=fit_result,
                    distance=distance,
                    note=note,
                ),
            )
        )
    return calls


def _plain_name(node: fx.Node) -> Any:
    """The callable for a function node; the out-of-place method name for a method node."""
    if node.op == "call_method":
        name = str(node.target)
        return name[:-1] if name.endswith("_") and hasattr(Tensor, name[:-1]) else name
    target = node.target
    name = getattr(target, "__name__", "")
    if name.endswith("_"):
        for namespace in (torch.nn.functional, torch):
            plain = getattr(namespace, name[:-1], None)
            if callable(plain):
                return plain
    return target


def _positional_inplace(node: fx.Node, rest: tuple[Any, ...]) -> int | None:
    """Index in ``rest`` of a positional ``inplace`` argument, None when there is none."""
    if node.op != "call_function":
        return None
    try:
        names = list(inspect.signature(node.target).parameters)[1:]
    except (TypeError, ValueError):
        return None
    if "inplace" in names and len(rest) > names.index("inplace"):
        return names.index("inplace")
    return None


def _constant_args(values: tuple[Any, ...], owner: nn.Module) -> tuple[tuple[Any, ...], bool]:
    """Node arguments resolved to values where they are attributes of the owner (``self.weight``)."""
    out, ok = [], True
    for v in values:
        if isinstance(v, fx.Node):
            if v.op == "get_attr":
                out.append(_fetch(owner, str(v.target)))
            else:
                out.append(v)
                ok = False
        else:
            out.append(v)
    return tuple(out), ok


def _constant_kwargs(values: dict[str, Any], owner: nn.Module) -> tuple[dict[str, Any], bool]:
    resolved, ok = _constant_args(tuple(values.values()), owner)
    return dict(zip(values, resolved, strict=True)), ok


def _fetch(owner: nn.Module, target: str) -> Any:
    obj: Any = owner
    for part in target.split("."):
        obj = getattr(obj, part)
    return obj


def _rewrite(plan: _OwnerPlan) -> fx.GraphModule:
    """Apply the planned call swaps to the owner's graph and build its GraphModule."""
    graph, owner = plan.graph, plan.owner
    order = {n: i for i, n in enumerate(graph.nodes)}
    added: list[str] = []
    for call in plan.calls:
        node = call.node
        x = node.args[0] if node.args else node.kwargs["input"]
        name = _free_name(owner, f"swapped_{node.name}")
        owner.add_module(name, call.new)
        added.append(name)
        with graph.inserting_before(node):
            new_node = graph.call_module(name, (x,))
        new_node.meta = dict(node.meta)
        node.replace_all_uses_with(new_node)
        if call.inplace:
            position = order[node]
            x.replace_all_uses_with(
                new_node,
                delete_user_cb=lambda user, p=position, nn_=new_node: (
                    user is not nn_ and order.get(user, -1) > p
                ),
            )
        graph.erase_node(node)
    graph.lint()
    try:
        gm = fx.GraphModule(owner, graph, class_name=type(owner).__name__)
    finally:
        for name in added:
            delattr(owner, name)
    _carry_over(owner, gm)
    return gm


def _free_name(owner: nn.Module, base: str) -> str:
    name, i = base, 1
    while hasattr(owner, name):
        i += 1
        name = f"{base}_{i}"
    return name


def _carry_over(owner: nn.Module, gm: fx.GraphModule) -> None:
    """Keep what the graph does not reference: unused children, parameters, buffers, plain attributes
    and the training flag, so the state_dict and the module's interface stay as they were."""
    for name, child in owner.named_children():
        if name not in gm._modules:
            gm.add_module(name, child)
    for name, param in owner.named_parameters(recurse=False):
        if name not in gm._parameters:
            gm.register_parameter(name, param)
    for name, buffer in owner.named_buffers(recurse=False):
        if name not in gm._buffers:
            gm.register_buffer(name, buffer, persistent=name not in owner._non_persistent_buffers_set)
    for name, value in vars(owner).items():
        if name.startswith("_") or name == "training" or name in gm.__dict__:
            continue
        if isinstance(value, (nn.Module, nn.Parameter)):
            continue
        try:
            setattr(gm, name, value)
        except (AttributeError, TypeError):
            pass
    gm.training = owner.training


__all__ = ["FunctionCall", "SkippedSite", "SwapError", "SwapReport", "SwapResult", "SwappedSite", "swap"]
