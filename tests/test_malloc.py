"""The worker's memory setting takes effect: freed buffers go back to the system at once."""
from __future__ import annotations

import ctypes
import ctypes.util
import subprocess
import sys
from pathlib import Path

import pytest

GLIBC = hasattr(ctypes.CDLL(ctypes.util.find_library("c")), "gnu_get_libc_version")

# Free a 16 MB block, as a worker does now and then, so that glibc raises its thresholds; then hold
# twenty 1 MB buffers and free them. With the raised thresholds they came from the heap, which keeps
# them; with fixed ones each was its own mapping, returned on free.
CHURN = """
import sys
from bot.malloc import return_freed_memory
del_me = bytes(16 << 20) + b"x"
del del_me
if sys.argv[1] == "set":
    assert return_freed_memory()
kept = [bytes(1 << 20) + b"x" for _ in range(20)]  # written, so resident
kept.clear()
for line in open("/proc/self/status"):
    if line.startswith("VmRSS:"):
        print(int(line.split()[1]) // 1024)
"""


def rss_after_churn(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", CHURN, mode], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent)
    return int(out.stdout)


@pytest.mark.skipif(not GLIBC, reason="the thresholds are glibc's; other C libraries have no such setting")
def test_freed_buffers_are_returned_once_the_thresholds_are_fixed():
    assert rss_after_churn("set") + 10 < rss_after_churn("dynamic")  # MB: the twenty buffers kept or not
