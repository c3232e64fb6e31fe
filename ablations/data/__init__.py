"""The data layer: data sets and the loaders that serve them, behind one interface.

``datasets`` decodes the small data sets into memory (Fashion-MNIST, CIFAR, synthetic) and
batches them (``TensorLoader``); ``folders`` streams image folders (ImageNet, Imagenette)
through timm's transforms in workers (``FolderLoader``); both are ``BatchLoader``s, which
normalise each batch on the device (``batch_loader``). ``catalog`` names the data sets and
what a loader takes from the recipe (``LoaderOptions``); ``loading`` says what a run trains on
(``DataSpec``) and builds its loaders (``load_data``).
Imports nothing of training, running or analysis.
"""

from .. import lazy_exports

_WHERE = {
    "DATASETS": "catalog", "STATS": "catalog", "ImageSet": "datasets",
    "TensorLoader": "datasets", "check_data_dir": "datasets", "load": "datasets",
    "make_synthetic": "datasets", "prepare": "datasets", "read_idx": "datasets",
    "seed_host_generators": "datasets", "subset": "datasets", "BatchLoader": "batch_loader",
    "DataSpec": "loading", "LoadedData": "loading", "LoaderOptions": "catalog",
    "check_data_available": "loading", "load_data": "loading",
}
__getattr__ = lazy_exports(__name__, _WHERE)
__all__ = sorted(_WHERE)
