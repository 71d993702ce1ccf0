"""Analysis: the numbers, used by every stage. Intervals and their methods (`stats`), label counts as rates
(`rates`), heatmap cells (`grid`) and agreement between judges (`agreement`). Pure computation: no file, no
model; the store only where a number is read from it."""
