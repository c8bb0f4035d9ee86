"""Where trials run: isolated local workers by default, a Dask cluster on request."""

from autolearn.execution._base import Runner
from autolearn.execution.inline import InlineRunner
from autolearn.execution.isolation import Completed, IsolatedWorker, worker_threads
from autolearn.execution.local import LocalRunner

__all__ = ["Completed", "InlineRunner", "IsolatedWorker", "LocalRunner", "Runner", "worker_threads"]
