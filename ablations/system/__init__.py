"""The bottom layer: what the toolkit asks of the machine it runs on - files written whole
(``files``), thread counts, device facts and labels, the matmul peak (``machine``).
Imports nothing else of ``ablations``."""
