"""Training and evaluation (never imported by runtime code): data sources, training, evaluation."""
