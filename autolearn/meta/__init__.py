"""Meta-learning: describe datasets (meta-features) to reuse what worked on similar ones.

``metafeatures(X, y)`` describes a dataset; ``recommend(X, y, n)`` returns configurations that did
well on similar datasets of the shipped meta-database (``load_metadb()``); ``warm_start_configs``
filters them to a search's own space for ``Optimizer.enqueue(..., origin="meta")``.
"""

from autolearn.meta.database import MetaDatabase, StaleDatabaseError, TaskTable, load_metadb
from autolearn.meta.metafeatures import metafeatures
from autolearn.meta.recommend import recommend, using_database, warm_start_configs

__all__ = [
    "MetaDatabase",
    "StaleDatabaseError",
    "TaskTable",
    "load_metadb",
    "metafeatures",
    "recommend",
    "using_database",
    "warm_start_configs",
]
