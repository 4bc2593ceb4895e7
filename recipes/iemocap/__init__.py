"""IEMOCAP speech emotion recognition recipe whose outputs teer scores."""
