"""The measuring layer: what designs cost and how fast things run. ``costs`` (GFLOPs and
parameters), ``bench`` / ``bench_settings`` (model speed), ``bench_data`` (loader against
training step), ``resolution_costs`` (cost against resolution). Beside analysis, above studies."""
