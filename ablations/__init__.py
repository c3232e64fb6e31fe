"""The experiment side of the toolkit: costs, training runs, the results store, plots.

Reads ``models.Design`` objects and builds them with ``models.build``; the one place that
looks inside a built model is ``collapse.py`` (it finds the blocks to measure their
features).
"""
