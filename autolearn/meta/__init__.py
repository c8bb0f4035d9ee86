"""Meta-learning: describe datasets (meta-features) to reuse what worked on similar ones."""

from autolearn.meta.metafeatures import metafeatures

__all__ = ["metafeatures"]
