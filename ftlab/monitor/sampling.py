"""System samples for the dashboard and the run record.

On a CUDA machine the GPU is read through NVML (the memory the driver sees,
which is what runs out, not just what PyTorch allocated); on a CPU the process'
resident memory and CPU use come from psutil.
"""

from __future__ import annotations

import resource
import sys
import time


def peak_rss_mb() -> float:
    """Peak resident memory of this process since it started (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


class SystemSampler:
    """Reads memory and utilisation; each read costs well under a millisecond."""

    def __init__(self):
        import psutil

        self._process = psutil.Process()
        self._process.cpu_percent(None)  # the first call only starts the measuring interval
        self._cores = psutil.cpu_count() or 1
        self._nvml = None
        self._gpu = None
        try:
            import torch

            if torch.cuda.is_available():
                import pynvml

                pynvml.nvmlInit()
                self._nvml = pynvml
                self._gpu = pynvml.nvmlDeviceGetHandleByIndex(torch.cuda.current_device())
        except Exception:  # no driver, no NVML library: fall back to CPU figures only
            self._nvml = None

    @property
    def has_gpu(self) -> bool:
        return self._nvml is not None

    def sample(self) -> dict:
        row = {
            "time": time.time(),
            "rss_mb": round(self._process.memory_info().rss / 2**20, 1),
            "cpu_percent": self._process.cpu_percent(None),  # 100 per core busy (180 = 1.8 cores)
        }
        row["cpu_share"] = round(row["cpu_percent"] / self._cores, 1)  # % of the whole machine's CPU time
        if self._nvml is not None:
            mem = self._nvml.nvmlDeviceGetMemoryInfo(self._gpu)
            util = self._nvml.nvmlDeviceGetUtilizationRates(self._gpu)
            row.update(gpu_mem_mb=round(mem.used / 2**20, 1), gpu_mem_total_mb=round(mem.total / 2**20, 1),
                       gpu_util_percent=util.gpu)
        return row
