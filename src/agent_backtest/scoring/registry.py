"""Finding classifiers by id: built-in detectors, registered judges, and plugins.

Three sources, in this order of precedence:

1. built-in rule detectors (``agent_backtest.scoring.detectors``);
2. classifiers registered at runtime with ``register()``: this is the hook the
   YAML judge loader uses, one ``register(judge)`` per judge definition;
3. third-party classifiers under the entry-point group
   ``agent_backtest.classifiers``. An entry point loads either a Classifier
   instance or a factory (a class or function) called with the parameters from
   ``get_classifier(name, **params)``. Entry points are only imported when
   their name is asked for, so a broken or heavy plugin costs nothing until used.

``get_classifier`` is the one way in; an unknown name is a ``ConfigError`` that
lists the valid names and suggests the nearest one.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any, cast

from pydantic import ValidationError

from agent_backtest.errors import ConfigError
from agent_backtest.scoring.detectors import BUILTIN_DETECTORS
from agent_backtest.scoring.verdict import Classifier

ENTRY_POINT_GROUP = "agent_backtest.classifiers"

ClassifierFactory = Callable[..., Classifier]
Entry = Classifier | ClassifierFactory


def _is_instance(entry: object) -> bool:
    # Classes have ``classify`` too (as a function); only objects count as ready.
    return not isinstance(entry, type) and isinstance(entry, Classifier)


class ClassifierRegistry:
    """A name -> classifier (or factory) table. Tests build their own; the rest of
    the project uses ``default_registry`` through the module-level functions."""

    def __init__(
        self,
        builtins: Mapping[str, Entry] | None = None,
        *,
        entry_point_group: str | None = ENTRY_POINT_GROUP,
    ) -> None:
        self._builtin: dict[str, Entry] = dict(builtins or {})
        self._registered: dict[str, Entry] = {}
        self._group = entry_point_group
        self._entry_points: dict[str, EntryPoint] | None = None

    def register(self, classifier: Entry, *, name: str | None = None, replace: bool = False) -> str:
        """Make ``classifier`` (an instance or a factory) available as ``name``.

        ``name`` defaults to the classifier's ``id``. Built-in names cannot be
        taken; registering a name twice is an error unless ``replace=True`` (a
        judge file that was edited and loaded again).
        """
        key = name or getattr(classifier, "id", None)
        if not isinstance(key, str) or not key:
            raise ConfigError(
                f"cannot register {classifier!r}: it has no id",
                fix="give it an `id` attribute or pass name=...",
            )
        if key in self._builtin:
            raise ConfigError(
                f"classifier {key!r} is a built-in detector and cannot be replaced",
                fix="choose another id for it",
            )
        if key in self._registered and not replace:
            raise ConfigError(
                f"classifier {key!r} is already registered",
                fix="use another id, or remove the duplicate definition",
            )
        self._registered[key] = classifier
        return key

    def unregister(self, name: str) -> None:
        self._registered.pop(name, None)

    def _plugins(self) -> dict[str, EntryPoint]:
        if self._entry_points is None:
            found = entry_points(group=self._group) if self._group else ()
            self._entry_points = {ep.name: ep for ep in found}
        return self._entry_points

    def names(self) -> list[str]:
        return sorted({*self._builtin, *self._registered, *self._plugins()})

    def _entry(self, name: str) -> Entry:
        for table in (self._builtin, self._registered):
            if name in table:
                return table[name]
        plugin = self._plugins().get(name)
        if plugin is None:
            raise self._unknown(name)
        try:
            loaded = plugin.load()
        except Exception as exc:  # a broken plugin is the user's to fix, not a crash
            raise ConfigError(
                f"classifier {name!r} from entry point {plugin.value!r} failed to load: {exc}",
                fix="check that the package providing it is installed and importable",
            ) from exc
        if not (_is_instance(loaded) or callable(loaded)):
            raise ConfigError(
                f"entry point {name!r} ({plugin.value}) is neither a classifier nor a factory",
                fix="point it at an object with id, version and classify(trace), or a callable",
            )
        return cast(Entry, loaded)

    def _unknown(self, name: str) -> ConfigError:
        names = self.names()
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return ConfigError(
            f"unknown classifier {name!r}",
            fix=f"{hint}valid classifiers: {', '.join(names)}",
        )

    def get(self, name: str, **params: Any) -> Classifier:
        """The classifier called ``name``, built with ``params``.

        ``name@version`` pins a version: a mismatch is an error, so a CI run never
        silently scores with a different version than the one asked for.
        """
        base, _, version = name.partition("@")
        entry = self._entry(base)
        if _is_instance(entry):
            if params:
                raise ConfigError(
                    f"classifier {base!r} takes no parameters (got {', '.join(sorted(params))})",
                    fix="remove the parameters, or define another classifier with them",
                )
            classifier = cast(Classifier, entry)
        else:
            classifier = _build(base, cast(ClassifierFactory, entry), params)
        if version and classifier.version != version:
            raise ConfigError(
                f"classifier {base!r} is version {classifier.version}, not {version}",
                fix=f"use {base}@{classifier.version}, or install the version that made {name}",
            )
        return classifier


def _build(name: str, factory: ClassifierFactory, params: dict[str, Any]) -> Classifier:
    try:
        built = factory(**params)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or name}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(
            f"classifier {name!r}: {problems}", fix=f"parameters: {_signature(factory)}"
        ) from exc
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"classifier {name!r}: {exc}", fix=f"parameters: {_signature(factory)}"
        ) from exc
    if not _is_instance(built):
        raise ConfigError(
            f"classifier {name!r}: its factory returned {type(built).__name__}, not a classifier",
            fix="return an object with id, version and classify(trace)",
        )
    return built


def _signature(factory: ClassifierFactory) -> str:
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return "(unknown)"
    shown = [
        f"{p.name}={p.default!r}" if p.default is not p.empty else p.name
        for p in parameters
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    return ", ".join(shown) or "none"


default_registry = ClassifierRegistry(BUILTIN_DETECTORS)


def get_classifier(name: str, **params: Any) -> Classifier:
    """Build the classifier called ``name`` (``id`` or ``id@version``) with ``params``."""
    return default_registry.get(name, **params)


def register(classifier: Entry, *, name: str | None = None, replace: bool = False) -> str:
    """Add a classifier (instance or factory) to the default registry; returns its name.

    The judge loader calls this once per YAML judge definition.
    """
    return default_registry.register(classifier, name=name, replace=replace)


def classifier_names() -> list[str]:
    """Every name ``get_classifier`` accepts, sorted."""
    return default_registry.names()
