"""`blindrefusal.stats`, kept importable for the tools that call it (`paired_diff(x, y)`, `wilson(k, n)`):
the intervals live in `blindrefusal.analysis.stats`."""

from blindrefusal.analysis.stats import *  # noqa: F401,F403 - the public alias
from blindrefusal.analysis.stats import __all__  # noqa: F401
