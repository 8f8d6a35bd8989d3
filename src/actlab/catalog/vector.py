"""The vector activations: softmax, log-softmax, softmin and sparsemax.

Each maps a whole vector (along ``dim``) to a vector. The Spec conventions for ``kind="vector"``:

* ``forward(x, dim)`` — x in the compute dtype (float64 for fp32/fp64 inputs, float32 for fp16/bf16);
* ``vjp(grad, y, dim)`` — the vector-Jacobian product from the *output* y (backward keeps only the
  output, which the next layer keeps anyway);
* ``derivative(x, dim)`` — the diagonal of the Jacobian, ∂y_i/∂x_i (y(1 - y) for softmax);
* ``mp_forward(xs)`` / ``mp_derivative(xs)`` — mpmath references on one vector (a list of mpf),
  returning a list; used by tests/catalog/test_vector.py.

``dim`` defaults to -1 and must be an int. torch's legacy implicit dim (``F.softmax(x)`` without dim,
``nn.Softmax()``: dim 0 for 0-, 1- and 3-d inputs, dim 1 otherwise, with a deprecation warning) is
deliberately *not* replicated: ``dim=None`` is rejected with a clear error.

All four are stable for huge scores: the maximum along ``dim`` is subtracted first, so exp never
overflows. log_softmax uses log1p of the sum of the non-maximal terms, so the log-probability of a
dominant score (≈ -Σ others, maybe 1e-30) keeps full relative accuracy where log(Σ) would return 0.
Every reduction runs over a contiguous last axis, so a transposed input gives bit-identical results.
"""

from __future__ import annotations

from collections.abc import Callable

import mpmath as mp
import torch

from actlab.catalog.spec import INF, Param, Properties, Spec, register

Tensor = torch.Tensor

_DIM = Param(
    "dim",
    -1,
    integer=True,
    doc="the dimension the function normalises over (an int). torch's legacy implicit dim "
    "(dim=None) is not replicated.",
)


def _check_dim(name: str, x: Tensor, dim) -> int:
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise TypeError(
            f"{name}: dim must be an int (got {dim!r}); torch's legacy implicit dim is not replicated, "
            "pass the dimension to normalise over, e.g. dim=-1"
        )
    n = max(x.dim(), 1)
    if not -n <= dim < n:
        raise ValueError(f"{name}: dim={dim} is out of range for a {x.dim()}-d input; use -{n} ≤ dim < {n}")
    return dim % n


def _along(name: str, dim, fn: Callable[..., Tensor], *tensors: Tensor) -> Tensor:
    """Apply ``fn`` to the tensors with ``dim`` moved last and made contiguous; move it back."""
    x = tensors[0]
    if x.dim() == 0:
        _check_dim(name, x, dim)
        return fn(*(t.reshape(1) for t in tensors)).reshape(())
    d = _check_dim(name, x, dim)
    if x.shape[d] == 0:
        return torch.empty_like(x)
    moved = [t.movedim(d, -1).contiguous() for t in tensors]
    return fn(*moved).movedim(-1, d).contiguous()


# ----------------------------------------------------------------------------------------------------
# last-axis kernels (z is contiguous along its last axis)
# ----------------------------------------------------------------------------------------------------
def _shifted(z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """z - max, exp of it, and t = the sum of exp over all but one maximal entry (whose exp is 1)."""
    s = z - z.amax(-1, keepdim=True)
    e = torch.exp(s)
    top = s.argmax(-1, keepdim=True)
    t = e.scatter(-1, top, 0.0).sum(-1, keepdim=True)
    return s, e, t


def _softmax_last(z: Tensor) -> Tensor:
    s = z - z.amax(-1, keepdim=True)
    e = torch.exp(s)
    return e / e.sum(-1, keepdim=True)


def _log_softmax_last(z: Tensor) -> Tensor:
    s, _, t = _shifted(z)
    return s - torch.log1p(t)


def _one_minus_softmax_last(z: Tensor) -> tuple[Tensor, Tensor]:
    """softmax and 1 - softmax; for the dominant entry 1 - y = t/(1 + t), without cancellation."""
    s, e, t = _shifted(z)
    y = e / (1 + t)
    top = s.argmax(-1, keepdim=True)
    return y, (1 - y).scatter(-1, top, t / (1 + t))


def _sparsemax_last(z: Tensor) -> Tensor:
    s = z - z.amax(-1, keepdim=True)
    srt, _ = torch.sort(s, dim=-1, descending=True)
    k = torch.arange(1, s.shape[-1] + 1, dtype=s.dtype, device=s.device)
    cum = srt.cumsum(-1)
    # support size: the largest k with 1 + k·z_(k) > Σ_{j≤k} z_(j) (the condition holds on a prefix)
    support = (1 + k * srt > cum).sum(-1, keepdim=True).clamp(min=1)
    tau = (cum.gather(-1, support - 1) - 1) / support.to(s.dtype)
    return torch.clamp(s - tau, min=0)


def _sparsemax_diag_last(z: Tensor) -> Tensor:
    inside = (_sparsemax_last(z) > 0).to(z.dtype)
    return inside * (1 - 1 / inside.sum(-1, keepdim=True))


# vector-Jacobian products from the output
def _softmax_vjp_last(g: Tensor, y: Tensor) -> Tensor:
    return y * (g - (g * y).sum(-1, keepdim=True))


def _log_softmax_vjp_last(g: Tensor, y: Tensor) -> Tensor:
    return g - torch.exp(y) * g.sum(-1, keepdim=True)


def _sparsemax_vjp_last(g: Tensor, y: Tensor) -> Tensor:
    inside = (y > 0).to(g.dtype)
    mean = (g * inside).sum(-1, keepdim=True) / inside.sum(-1, keepdim=True)
    return inside * (g - mean)


# ----------------------------------------------------------------------------------------------------
# mpmath references on one vector
# ----------------------------------------------------------------------------------------------------
def _mp_parts(xs):
    m = max(xs)
    top = xs.index(m)
    e = [mp.exp(v - m) for v in xs]
    t = mp.fsum(v for i, v in enumerate(e) if i != top)
    return m, top, e, t


def mp_softmax(xs):
    _, _, e, t = _mp_parts(xs)
    return [v / (1 + t) for v in e]


def mp_log_softmax(xs):
    m, _, _, t = _mp_parts(xs)
    return [v - m - mp.log1p(t) for v in xs]


def mp_softmax_diag(xs):
    _, top, e, t = _mp_parts(xs)
    y = [v / (1 + t) for v in e]
    return [yi * (t / (1 + t) if i == top else 1 - yi) for i, yi in enumerate(y)]


def mp_sparsemax(xs):
    srt = sorted(xs, reverse=True)
    cum, support, total = mp.mpf(0), 0, mp.mpf(0)
    for k, v in enumerate(srt, start=1):
        cum += v
        if 1 + k * v > cum:
            support, total = k, cum
    tau = (total - 1) / support
    return [max(v - tau, mp.mpf(0)) for v in xs]


def mp_sparsemax_diag(xs):
    y = mp_sparsemax(xs)
    size = sum(1 for v in y if v > 0)
    return [(1 - mp.mpf(1) / size) if v > 0 else mp.mpf(0) for v in y]


# ----------------------------------------------------------------------------------------------------
# the Specs
# ----------------------------------------------------------------------------------------------------
register(
    Spec(
        name="softmax",
        family="vector",
        kind="vector",
        summary="Softmax: exponentiate and normalise along dim; a probability vector. Stable for huge scores.",
        aliases=("normalized_exponential",),
        formula="f(x)_i = exp(x_i - max x) / Σ_j exp(x_j - max x)",
        latex=r"f(x)_i = \frac{e^{x_i}}{\sum_j e^{x_j}}",
        derivative_formula="∂f_i/∂x_j = f_i (δ_ij - f_j); diagonal f_i (1 - f_i); vjp: f ⊙ (g - ⟨g, f⟩)",
        derivative_latex=r"\frac{\partial f_i}{\partial x_j} = f_i(\delta_{ij} - f_j)",
        params=(_DIM,),
        forward=lambda x, dim: _along("softmax", dim, _softmax_last, x),
        derivative=lambda x, dim: _along("softmax", dim, lambda z: torch.mul(*_one_minus_softmax_last(z)), x),
        vjp=lambda grad, y, dim: _along("softmax", dim, _softmax_vjp_last, grad, y),
        mp_forward=mp_softmax,
        mp_derivative=mp_softmax_diag,
        properties=Properties(
            (0.0, 1.0), monotonic=True, continuity="Cinf", zero_centred=False, saturating=True
        ),
        origin="Bridle, Probabilistic Interpretation of Feedforward Classification Network Outputs "
        "(the Boltzmann/Gibbs distribution as a network output)",
        year=1990,
        torch_function="torch.nn.functional.softmax",
        torch_module="torch.nn.Softmax",
        keras="keras.activations.softmax",
        jax="jax.nn.softmax",
        kink_note="Shift-invariant: f(x + c) = f(x). Each output increases with its own score.",
    )
)

register(
    Spec(
        name="log_softmax",
        family="vector",
        kind="vector",
        summary="Log-softmax: x - logsumexp(x) along dim, with log1p keeping a dominant score's "
        "log-probability accurate.",
        aliases=("logsoftmax",),
        formula="f(x)_i = (x_i - m) - log1p(Σ_{j≠k} exp(x_j - m)),  m = x_k = max x",
        latex=r"f(x)_i = x_i - \log \sum_j e^{x_j}",
        derivative_formula="∂f_i/∂x_j = δ_ij - softmax_j; diagonal 1 - softmax_i; vjp: g - exp(f)·Σg",
        derivative_latex=r"\frac{\partial f_i}{\partial x_j} = \delta_{ij} - \operatorname{softmax}(x)_j",
        params=(_DIM,),
        forward=lambda x, dim: _along("log_softmax", dim, _log_softmax_last, x),
        derivative=lambda x, dim: _along("log_softmax", dim, lambda z: _one_minus_softmax_last(z)[1], x),
        vjp=lambda grad, y, dim: _along("log_softmax", dim, _log_softmax_vjp_last, grad, y),
        mp_forward=mp_log_softmax,
        mp_derivative=lambda xs: [1 - v for v in mp_softmax(xs)],
        properties=Properties(
            (-INF, 0.0), monotonic=True, continuity="Cinf", zero_centred=False, saturating=False
        ),
        origin="the log-likelihood of the multinomial logit (softmax) model; as a layer in Torch7",
        year=2011,
        torch_function="torch.nn.functional.log_softmax",
        torch_module="torch.nn.LogSoftmax",
        keras="keras.activations.log_softmax",
        jax="jax.nn.log_softmax",
    )
)


def _softmin_derivative_last(z: Tensor) -> Tensor:
    y, rest = _one_minus_softmax_last(-z)
    return -y * rest


register(
    Spec(
        name="softmin",
        family="vector",
        kind="vector",
        summary="Softmin: softmax of the negated scores; the smallest score gets the most weight.",
        formula="f(x) = softmax(-x)",
        latex=r"f(x)_i = \frac{e^{-x_i}}{\sum_j e^{-x_j}}",
        derivative_formula="∂f_i/∂x_j = -f_i (δ_ij - f_j); diagonal -f_i (1 - f_i); vjp: -f ⊙ (g - ⟨g, f⟩)",
        derivative_latex=r"\frac{\partial f_i}{\partial x_j} = -f_i(\delta_{ij} - f_j)",
        params=(_DIM,),
        forward=lambda x, dim: _along("softmin", dim, lambda z: _softmax_last(-z), x),
        derivative=lambda x, dim: _along("softmin", dim, _softmin_derivative_last, x),
        vjp=lambda grad, y, dim: _along("softmin", dim, lambda g, f: -_softmax_vjp_last(g, f), grad, y),
        mp_forward=lambda xs: mp_softmax([-v for v in xs]),
        mp_derivative=lambda xs: [-v for v in mp_softmax_diag([-v for v in xs])],
        properties=Properties(
            (0.0, 1.0), monotonic=False, continuity="Cinf", zero_centred=False, saturating=True
        ),
        origin="Torch7 (nn.SoftMin), Collobert, Kavukcuoglu & Farabet",
        year=2011,
        torch_function="torch.nn.functional.softmin",
        torch_module="torch.nn.Softmin",
        kink_note="Each output decreases with its own score.",
    )
)

register(
    Spec(
        name="sparsemax",
        family="vector",
        kind="vector",
        summary="Sparsemax: the Euclidean projection onto the probability simplex; exact zeros for "
        "low scores.",
        formula="f(x)_i = max(x_i - τ(x), 0),  τ = (Σ_{j≤k} x_(j) - 1)/k,  k = max{k : 1 + k·x_(k) > Σ_{j≤k} x_(j)}",
        latex=r"f(x) = \operatorname*{arg\,min}_{p \in \Delta} \lVert p - x \rVert^2 = [x - \tau(x)]_+",
        derivative_formula="∂f_i/∂x_j = s_i (δ_ij - s_j/|S|), s = 1 on the support S; diagonal "
        "s_i (1 - 1/|S|); vjp: s ⊙ (g - mean_S g)",
        derivative_latex=r"\frac{\partial f_i}{\partial x_j} = s_i\big(\delta_{ij} - \tfrac{s_j}{|S|}\big)",
        params=(_DIM,),
        forward=lambda x, dim: _along("sparsemax", dim, _sparsemax_last, x),
        derivative=lambda x, dim: _along("sparsemax", dim, _sparsemax_diag_last, x),
        vjp=lambda grad, y, dim: _along("sparsemax", dim, _sparsemax_vjp_last, grad, y),
        mp_forward=mp_sparsemax,
        mp_derivative=mp_sparsemax_diag,
        properties=Properties(
            (0.0, 1.0), monotonic=True, continuity="C0", zero_centred=False, saturating=True
        ),
        origin="Martins & Astudillo, From Softmax to Sparsemax: A Sparse Model of Attention and "
        "Multi-Label Classification, ICML 2016",
        year=2016,
        keras="keras.activations.sparsemax",
        kink_note="Piecewise linear: the Jacobian jumps where the support changes (a score crosses τ); "
        "there actlab uses the Jacobian of the support S = {i : f_i > 0}, as Martins & Astudillo do.",
    )
)
