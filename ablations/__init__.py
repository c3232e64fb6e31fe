"""The experiment side of the toolkit: costs, training runs, the results store, plots.

Reads ``models.Design`` objects and builds them with ``models.build``; it uses the models'
public API only (``collapse.py`` finds each ``models.Block`` and asks it for the conv unit
of a role, ``Block.unit("expand")``), never their layer internals.
"""
