"""Data in: loading tables, inferring column kinds, and validating what users pass to estimators."""

from autolearn.data.loaders import load_table
from autolearn.data.schema import KINDS, Schema
from autolearn.data.types import infer_schema
from autolearn.data.validation import check_consistent_length, check_X, check_y, infer_task

__all__ = [
    "KINDS",
    "Schema",
    "check_X",
    "check_consistent_length",
    "check_y",
    "infer_schema",
    "infer_task",
    "load_table",
]
