"""The figures layer: draws what analysis computed. ``common`` (the one figure writer),
``chain`` (roadmap, accuracy vs GFLOPs, curves), ``studies`` (order effects, scale, sweeps),
``bench``, ``resolution_costs``, ``collapse``, ``compare``, ``diagram`` (block diagrams), ``folder``
(every figure of a results folder)."""
