"""Peak host memory of the image-folder loader, whole shares against micro-batches (issue 29).

Writes a generated 256 px JPEG folder once, then iterates one epoch of the `paper` preset's
training loader at 224 px (batch 512 per process, 2 workers, prefetch 4) twice: once with the
workers making whole 512-image batches (no micro-batch, as before) and once with micro-batches
of 128. A slow consumer (4 s per 512 images) lets the prefetch queue fill, as a GPU
step does. Samples every 50 ms the RSS of this process and its workers (/proc) and the
shared memory in use (/dev/shm) and prints the peaks beside the formula of
``FolderLoader.host_bytes_in_flight``.

    python scripts/loader_memory.py [folder]      # about 3 minutes on 2 cores
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from pathlib import Path

from ablations.data import folders
from ablations.data.loading import DataSpec, load_data
from ablations.train.recipe import recipe, run_preset

BATCH, MICRO, WORKERS = 512, 128, 2


def tree_rss(pid: int) -> int:
    """RSS bytes of ``pid`` and its descendants."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            total += int(next(line for line in status.splitlines()
                              if line.startswith("VmRSS")).split()[1]) * 1024
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            continue
    return total


def measure(micro: int | None, root: Path) -> dict[str, float]:
    import os

    preset = run_preset("paper").replace(batch_size=BATCH, recipe_overrides={})
    options = preset.scale_recipe(recipe("convnext")).loader_options(64, 0)
    loaded = load_data(DataSpec("imagefolder", 224, 3), str(root), options, workers=WORKERS)
    loaded.train.set_micro_batch(micro)
    base_rss, base_shm = tree_rss(os.getpid()), shutil.disk_usage("/dev/shm").used
    peak = {"rss": 0, "shm": 0}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak["rss"] = max(peak["rss"], tree_rss(os.getpid()))
            peak["shm"] = max(peak["shm"], shutil.disk_usage("/dev/shm").used - base_shm)
            time.sleep(0.05)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    t0 = time.perf_counter()
    images = 0
    for step in loaded.train.steps():
        for _, y in step:
            images += len(y)
            time.sleep(4.0 * len(y) / BATCH)  # a slow step (128 images/s): the queue fills
    done.set()
    t.join()
    return {"micro_batch": micro or BATCH, "images": images,
            "seconds": time.perf_counter() - t0, "base_rss_mb": base_rss / 1e6,
            "peak_rss_mb": peak["rss"] / 1e6, "peak_shm_mb": peak["shm"] / 1e6,
            "formula_mb": loaded.train.host_bytes_in_flight(3, 224) / 1e6}


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/jpeg256")
    if not (root / "train").is_dir():
        folders.write_jpeg_folder(root, classes=8, per_class=512, size=256, val_per_class=2)
    for micro in (None, MICRO):
        r = measure(micro, root)
        print(f"micro-batch {r['micro_batch']:4d}: {r['images']} images in {r['seconds']:.0f} s;"
              f" peak RSS {r['peak_rss_mb']:.0f} MB (loader built: {r['base_rss_mb']:.0f} MB),"
              f" peak /dev/shm {r['peak_shm_mb']:.0f} MB; formula "
              f"(workers x 4 + 1) x batch x 3 x 224 x 224 = {r['formula_mb']:.0f} MB")


if __name__ == "__main__":
    main()
