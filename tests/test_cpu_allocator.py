"""Freed memory stays with a CPU training process: a step that frees and re-allocates its activations stops
page-faulting them in (ftlab.training.cpu_allocator)."""

import platform
import subprocess
import sys

import pytest

from ftlab.training import cpu_allocator

STEPS = """
import resource, sys
import torch
if sys.argv[1] == "keep":
    from ftlab.training.cpu_allocator import keep_freed_memory
    assert keep_freed_memory()
def step():
    kept = [torch.ones(262144) for _ in range(20)]  # twenty 1 MB activations, freed together as after backward
    del kept
step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(50):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def page_faults(mode: str) -> int:
    return int(subprocess.run([sys.executable, "-c", STEPS, mode], capture_output=True, text=True,
                              check=True).stdout.split()[-1])


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the settings are glibc's")
def test_steps_stop_page_faulting_their_activations_in():
    default, kept = page_faults("default"), page_faults("keep")
    assert default > 2000  # glibc gives the freed 20 MB back and faults it in again: 50 steps x 5,120 pages at most
    assert kept < default / 10, (default, kept)


def test_other_c_libraries_are_left_alone(monkeypatch):
    monkeypatch.setattr(platform, "libc_ver", lambda: ("", ""))
    assert cpu_allocator._mallopt() is False
