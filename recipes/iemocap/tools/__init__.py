"""Helpers beside the recipe: the synthetic corpus, the writer of ``conf/default.yaml``."""
