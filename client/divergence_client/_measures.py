"""The measure methods of both clients, one per entry of the measure catalogue.

They are made here, at import, by looping over ``divergence_client.catalogue.MEASURES``: a
measure added to the catalogue is a method of :class:`DivergenceClient` and
:class:`AsyncDivergenceClient` with nothing else to write. Each takes ``p`` (and ``q`` for a
pair measure) and the request's options as keyword arguments (``unit`` only for a measure that
has one), and returns the measure's response model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from divergence_client import _calls as c
from divergence_client.catalogue import MEASURES, Measure

__all__ = ["add_measure_methods"]


def _doc(measure: Measure) -> str:
    arguments = "p" if measure.arity == 1 else "p, q"
    unit = "" if measure.has_unit else " It has no unit: it takes no ``unit``."
    for parameter in measure.parameters:
        need = "required" if parameter.required else "optional"
        unit += f" ``{parameter.name}``: {parameter.help} ({need})."
    return (
        f"{measure.summary}\n\n``{measure.formula}``, in {measure.bounds}.{unit}\n\n"
        f"``POST {measure.route}`` with {arguments} and the options as keyword arguments; "
        f"returns a :class:`{measure.response.__name__}`."
    )


def _method(measure: Measure, asynchronous: bool) -> Callable[..., Any]:
    """``(self, p, **options)`` or ``(self, p, q, **options)``, plain or awaitable."""

    def single(self: Any, p: Any, **options: Any) -> BaseModel:
        return self.send(c.measure(measure, (p,), options))  # type: ignore[no-any-return]

    def pair(self: Any, p: Any, q: Any, **options: Any) -> BaseModel:
        return self.send(c.measure(measure, (p, q), options))  # type: ignore[no-any-return]

    async def single_async(self: Any, p: Any, **options: Any) -> BaseModel:
        return await self.send(c.measure(measure, (p,), options))  # type: ignore[no-any-return]

    async def pair_async(self: Any, p: Any, q: Any, **options: Any) -> BaseModel:
        return await self.send(c.measure(measure, (p, q), options))  # type: ignore[no-any-return]

    if asynchronous:
        method: Callable[..., Any] = single_async if measure.arity == 1 else pair_async
    else:
        method = single if measure.arity == 1 else pair
    method.__name__ = measure.name
    method.__doc__ = _doc(measure)
    method.__annotations__ = {**method.__annotations__, "return": measure.response}
    return method


def add_measure_methods(cls: type[Any], asynchronous: bool) -> None:
    """Give ``cls`` one method per catalogue entry, named as the entry."""
    for measure in MEASURES:
        method = _method(measure, asynchronous)
        method.__qualname__ = f"{cls.__name__}.{measure.name}"
        setattr(cls, measure.name, method)
