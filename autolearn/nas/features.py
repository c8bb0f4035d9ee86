"""Tables to the two arrays a network takes: float numerics (NaN kept) and integer category codes.

Column kinds come from the package's one schema inference and :class:`ColumnKinds` (booleans as 0/1,
datetimes as calendar parts, text as a few SVD dimensions, categories as strings with missing values
as their own category), so a network sees a table exactly as the other models do. What happens next
lives *inside* the network (:class:`autolearn.nas.networks.TabularInput`): standardizing, imputing
NaN with an indicator, embedding the codes. Only the mapping from category strings to codes is kept
here, because tensors cannot hold strings.

Code 0 of every categorical column is "unknown": categories first seen at predict time, and
categories seen fewer than ``min_frequency`` times at fit time, map to it. Mapping rare training
categories there is what trains the unknown embedding, so an unseen category at predict time gets
a learned, average-like vector rather than an untrained one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from autolearn.components.transformers import ColumnKinds
from autolearn.data.schema import Schema
from autolearn.data.types import infer_schema

MAX_DENSE_CELLS = 50_000_000  # a sparse matrix larger than this (as float32, 200 MB) is refused, not densified


@dataclass
class FeatureCoder:
    """Fitted once on the training table; ``transform`` gives ``(numeric float32, codes int64)``."""

    min_frequency: int = 2
    schema: Schema | None = None
    kinds: ColumnKinds | None = None
    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    vocabularies: dict[str, dict[str, int]] = field(default_factory=dict)
    sparse: bool = False

    def fit_transform(self, X: pd.DataFrame | sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        self.sparse = sp.issparse(X)
        if self.sparse:
            _check_dense_size(X)
            self.schema = infer_schema(X)
            self.numeric = list(self.schema.columns)
            return self.transform(X)
        self.schema = infer_schema(X)
        self.kinds = ColumnKinds(self.schema)
        frame = self.kinds.fit_transform(X)
        self.categorical = [str(c) for c in frame.columns if frame[c].dtype == object]
        self.numeric = [str(c) for c in frame.columns if c not in set(self.categorical)]
        self.vocabularies = {}
        for c in self.categorical:
            counts = frame[c].value_counts()
            kept = sorted(str(v) for v, n in counts.items() if n >= self.min_frequency)
            self.vocabularies[c] = {v: i + 1 for i, v in enumerate(kept)}
        return self._arrays(frame)

    def transform(self, X: pd.DataFrame | sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        if self.sparse:
            if not sp.issparse(X):
                raise TypeError("the network was fitted on a sparse matrix; pass a sparse matrix to predict")
            _check_dense_size(X)
            return np.asarray(X.toarray(), dtype=np.float32), np.zeros((X.shape[0], 0), dtype=np.int64)
        if sp.issparse(X):
            raise TypeError("the network was fitted on a table; pass a DataFrame or an array to predict")
        assert self.kinds is not None, "fit_transform first"
        return self._arrays(self.kinds.transform(X))

    def _arrays(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        n = len(frame)
        numeric = frame[self.numeric].to_numpy(dtype=np.float32, na_value=np.nan) if self.numeric else \
            np.zeros((n, 0), dtype=np.float32)
        codes = np.zeros((n, len(self.categorical)), dtype=np.int64)
        for k, c in enumerate(self.categorical):
            vocab = self.vocabularies[c]
            codes[:, k] = [vocab.get(v, 0) for v in frame[c].astype(str)]
        return numeric, codes

    @property
    def cardinalities(self) -> list[int]:
        """Rows of each embedding table: the kept categories plus code 0 ("unknown")."""
        return [len(self.vocabularies[c]) + 1 for c in self.categorical]


def _check_dense_size(X: sp.spmatrix) -> None:
    if X.shape[0] * X.shape[1] > MAX_DENSE_CELLS:
        raise ValueError(
            f"a sparse matrix of shape {X.shape} is too large to densify for a network "
            f"(more than {MAX_DENSE_CELLS:,} cells); reduce its columns first (e.g. TruncatedSVD)"
        )
