"""The registry of models and preprocessors the CASH space is built from.

Importing this package registers every built-in component; ``register`` adds more. Look components
up with ``get(name)``, ``components(kind, task)`` or ``registry.models(task)`` (not re-exported here:
``autolearn.components.models`` is the module of model entries).
"""

from autolearn.components import models, preprocessing, tree_models  # noqa: F401  (registers the built-ins)
from autolearn.components.registry import KINDS, TASKS, BuildContext, Component, Fidelity, components, get, register

__all__ = ["KINDS", "TASKS", "BuildContext", "Component", "Fidelity", "components", "get", "register"]
