"""Fresh cases: the authors' generator and gates run on demand (generate), reviewed before use, and spot-checks
on them beside published cases of the same cells (gap)."""
