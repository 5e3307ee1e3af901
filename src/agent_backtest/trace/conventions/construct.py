"""Build pydantic models from already-normalized values, about 4x faster than ``model_construct``.

``BaseModel.model_construct`` still walks every field in Python to apply
defaults and track which were set; on the ingestion hot path (several models
per span, millions of spans) that alone costs more than parsing the JSON. The
decoders always pass every field, so ``build`` only has to fill the four slots
a pydantic v2 instance has, and all instances of a class can share one
"fields set" (every field is set; pydantic only ever adds to it). A test checks
decoded spans survive ``model_validate(model_dump())`` unchanged, which catches
a missing field.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

_new = object.__new__
_slots = BaseModel.__dict__
_set_dict = _slots["__dict__"].__set__
_set_fields_set = _slots["__pydantic_fields_set__"].__set__
_set_extra = _slots["__pydantic_extra__"].__set__
_set_private = _slots["__pydantic_private__"].__set__


_all_fields: dict[type[BaseModel], set[str]] = {}


def build(cls: type[M], /, **values: Any) -> M:
    """An instance of ``cls`` holding exactly ``values``; every field must be given."""
    fields_set = _all_fields.get(cls)
    if fields_set is None:
        fields_set = _all_fields[cls] = set(cls.model_fields)
    obj: M = _new(cls)
    _set_dict(obj, values)
    _set_fields_set(obj, fields_set)
    _set_extra(obj, None)
    _set_private(obj, None)
    return obj
