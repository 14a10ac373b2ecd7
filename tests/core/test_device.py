"""core.device: the thread policy for shared machines and the one synchronize helper."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from anytime_audio.core.device import configure_threads, default_num_threads, synchronize, usable_cores

REPO = Path(__file__).resolve().parents[2]


def test_default_threads_leave_a_core_free():
    n = default_num_threads()
    assert 1 <= n <= max(1, usable_cores() - 1)
    if usable_cores() <= 2:
        assert n == 1


def test_configure_threads_sets_counts_and_rejects_bad_values():
    before = torch.get_num_threads()
    try:
        assert configure_threads(1) == 1 and torch.get_num_threads() == 1
        assert configure_threads("auto") == default_num_threads() == torch.get_num_threads()
        for bad in (-1, 1.5, "many"):
            with pytest.raises(ValueError, match="num_threads must be 0 \\(auto\\) or a positive integer"):
                configure_threads(bad)
    finally:
        torch.set_num_threads(before)


def test_cli_sets_the_passive_wait_policy_before_torch_loads(tmp_path):
    """OpenMP reads OMP_WAIT_POLICY when torch is imported: the CLI must set it first."""
    code = (
        "import json, os, sys\n"
        "from anytime_audio import cli\n"
        "assert 'torch' not in sys.modules, 'importing the CLI imported torch'\n"
        f"rc = cli.main(['dump-codes', 'exp_dir={tmp_path / 'none'}', 'device=nosuch', 'log_level=CRITICAL'])\n"
        "import torch\n"
        "print(json.dumps([rc, os.environ.get('OMP_WAIT_POLICY'), torch.get_num_threads()]))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS", "GOMP_SPINCOUNT")}
    env.update(PYTHONPATH=str(REPO), OMP_DISPLAY_ENV="VERBOSE")  # GNU OpenMP prints what it adopted
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    rc, policy, threads = json.loads(out.stdout.strip().splitlines()[-1])
    assert rc != 0  # refused the device, after setting the threads
    assert policy == "PASSIVE"
    spin = re.search(r"GOMP_SPINCOUNT = '(\d+)'", out.stderr)
    assert spin is None or spin.group(1) == "0", out.stderr[-2000:]  # 300000 if torch had loaded first
    assert threads == max(1, min(threads, usable_cores() - 1))


def test_synchronize_accepts_devices_and_names():
    synchronize("cpu")
    synchronize(torch.device("cpu"))
    if torch.cuda.is_available():  # pragma: no cover - GPU machines
        synchronize("cuda")
