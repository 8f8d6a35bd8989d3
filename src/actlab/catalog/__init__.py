"""The catalogue: one declarative Spec per activation, registered by the family modules."""

from actlab.catalog.spec import INF, Param, Properties, Spec, all_specs, lookup, register

__all__ = ["INF", "Param", "Properties", "Spec", "all_specs", "lookup", "register"]
