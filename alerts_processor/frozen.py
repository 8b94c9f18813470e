"""quick_init: a cheaper __init__ for frozen, slotted dataclasses, still frozen."""

from __future__ import annotations

from dataclasses import MISSING, fields
from typing import Any, TypeVar

T = TypeVar("T")


def quick_init(cls: type[T]) -> type[T]:
    """Give a frozen, slotted dataclass an __init__ that fills its slots through their descriptors.

    The generated __init__ of a frozen dataclass calls object.__setattr__ for each field, at about
    twice the cost of a plain class; eight of these records are made per alert, about 40 fields.
    A slot's descriptor sets it without the frozen class's __setattr__, which still refuses every
    later assignment. Same signature and defaults as the dataclass's own __init__.
    """
    declared = cls.__dict__.get("__dataclass_params__")
    if "__slots__" not in cls.__dict__ or declared is None or not declared.frozen:
        raise TypeError(f"quick_init needs a frozen, slotted dataclass, not {cls.__name__}")
    params, lines = [], []
    scope: dict[str, Any] = {"_FACTORY": _FACTORY}
    for f in fields(cls):  # type: ignore[arg-type]
        scope[f"_set_{f.name}"] = getattr(cls, f.name).__set__
        value = f.name
        if f.default is not MISSING:
            scope[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        elif f.default_factory is not MISSING:
            scope[f"_factory_{f.name}"] = f.default_factory
            params.append(f"{f.name}=_FACTORY")
            value = f"_factory_{f.name}() if {f.name} is _FACTORY else {f.name}"
        else:
            params.append(f.name)
        lines.append(f"    _set_{f.name}(self, {value})\n")
    namespace: dict[str, Any] = {}
    exec(f"def __init__(self, {', '.join(params)}):\n{''.join(lines)}", scope, namespace)
    namespace["__init__"].__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = namespace["__init__"]  # type: ignore[method-assign]
    return cls


_FACTORY = object()  # a field's default_factory is called when its argument is left out
