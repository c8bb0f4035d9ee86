"""The registry of models and preprocessors the CASH space is built from.

Importing this package registers every built-in component; ``register`` adds more. Look components
up with ``get(name)``, ``components(kind, task)`` or ``registry.models(task)`` (not re-exported here:
``autolearn.components.models`` is the module of model entries).
"""

from autolearn.components import models, neural, preprocessing, tree_models  # noqa: F401  (registers the built-ins)
from autolearn.components.registry import KINDS, TASKS, BuildContext, Component, Fidelity, components, get, register

_BUILTIN = frozenset(c.name for c in components())


def custom_components() -> tuple[Component, ...]:
    """Components a user registered: they travel with the objective to worker processes, which import
    only the built-ins."""
    return tuple(c for c in components() if c.name not in _BUILTIN)


def ensure_registered(extra: tuple[Component, ...]) -> None:
    """Register components sent from the parent process that this process does not know yet."""
    for component in extra:
        try:
            get(component.name)
        except ValueError:
            register(component)


__all__ = ["KINDS", "TASKS", "BuildContext", "Component", "Fidelity", "components", "custom_components",
           "ensure_registered", "get", "register"]
