"""The recipe's stages, one module each (``python -m recipes.iemocap STAGE``)."""
