"""corroborate: does other outlets' independent reporting corroborate or contradict each claim?

The library imports no Prefect and loads no model at import time; heavy modules are imported
where they are used so that ``corroborate --help`` starts fast.
"""

__version__ = "0.1.0"
