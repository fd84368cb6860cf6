"""examples/tutorial.py runs headless, writes its two plots, and finds the blobs."""

import os
import runpy
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")

TUTORIAL = Path(__file__).resolve().parents[2] / "examples" / "tutorial.py"


def test_tutorial_runs_headless(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    # KMeans(random_state=None) draws its seed from numpy's global state.
    np.random.seed(0)  # noqa: NPY002
    result = runpy.run_path(str(TUTORIAL), run_name="__main__")
    for name in ("blobs.png", "clusters.png"):
        png = tmp_path / name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert os.path.getsize(png) > 10_000, name
    assert result["ari"] >= 0.95
    assert "Adjusted Rand index" in capsys.readouterr().out
