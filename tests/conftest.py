import os
import sys

import pytest
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# computed claims tables are cached per results digest; tests keep theirs out of the home folder
os.environ.setdefault("CONVNEXT_ABLATIONS_CACHE", os.path.join(
    __import__("tempfile").mkdtemp(prefix="claims-cache-"), "cache"))

torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", 0)) or max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
