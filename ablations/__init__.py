"""The experiment side of the toolkit: costs, training runs, the results store, plots.

Reads ``models.Design`` objects and builds them with ``models.build``; never reaches into
layer internals.
"""
