"""The analysis layer: reads result tables (and stored predictions and checkpoints), never
trains. ``stats`` (paired statistics and verdicts), ``agreement`` (with the paper),
``contexts`` (a change in the chain, alone, removed), ``scale`` (the scale study's gaps),
``reproduce`` (a fresh replay against committed seeds), ``compare``, ``summary``,
``paper`` (the paper's reference table), ``collapse`` (feature collapse)."""
