"""Checking: retrieve evidence, judge it, count independent voices, the verdict per claim."""
