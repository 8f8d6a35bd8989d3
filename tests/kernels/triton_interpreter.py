"""Triton's interpreter has no libdevice: stand-ins for the functions the kernels call.

The interpreter runs a kernel's Python with numpy arrays inside its tensors; these stand-ins apply
numpy's tanh, log1p and expm1 and scipy's erfc to them, in the tensor's own dtype. They rely on the interpreter's
``TensorHandle`` (triton.runtime.interpreter), so a Triton release that changes it fails the
interpreter test loudly rather than skipping it.
"""

from __future__ import annotations

import types

import numpy as np
import scipy.special


def _elementwise(fn):
    import triton.language as tl
    from triton.runtime.interpreter import TensorHandle

    def apply(x, _semantic=None):
        data = x.handle.data
        return tl.core.tensor(TensorHandle(fn(data).astype(data.dtype), x.handle.dtype), x.type)

    return apply


def install_libdevice(module) -> None:
    """Point ``module``'s kernels (they look up ``libdevice`` when they run) at the stand-ins."""
    module.libdevice = types.SimpleNamespace(
        tanh=_elementwise(np.tanh),
        erfc=_elementwise(scipy.special.erfc),
        log1p=_elementwise(np.log1p),
        expm1=_elementwise(np.expm1),
    )
