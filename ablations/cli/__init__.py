"""The command line, one module per command: each has ``add_parser(sub)`` (its options)
beside ``handle(args)`` (what it does). ``ablations.__main__`` only dispatches."""

COMMANDS = ("costs", "run", "replay", "plot", "show", "stats", "compare", "diagram", "bench",
            "bench_plot", "cost_vs_resolution", "collapse", "bench_data", "paper_table", "report", "pool")
"""The modules of ``ablations.cli``, in the order ``--help`` lists their commands."""
