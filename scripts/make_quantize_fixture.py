"""Generate the scikit-learn reference for ``kentro quantize`` (crates/kentro-cli/tests/quantize.rs).

How to rerun (from the repository root), in the venv that scripts/make_fixtures.py uses:

    python3 -m venv .venv-fixtures
    .venv-fixtures/bin/pip install scikit-learn==1.9.1 numpy scipy
    .venv-fixtures/bin/python scripts/make_quantize_fixture.py

It draws the test image of the Rust tests (gradients, shapes and a little deterministic noise,
256 x 256; the same integer formula as ``test_image`` in crates/kentro-cli/tests/quantize.rs),
records an FNV-1a checksum of its RGB bytes so that the two generators cannot drift apart, and
quantizes it to 16 colours with ``KMeans(16, random_state=s)`` for s in 0..5 on the pixels as
float64 RGB in [0, 1]: each pixel takes its centre rounded to 8 bits, and the PSNR is
10 log10(255^2 / MSE) on the 8-bit values of the three channels, as ``kentro quantize`` reports
it. It writes ``crates/kentro-cli/tests/fixtures/quantize_sklearn.json``.
"""

import json
from pathlib import Path

import numpy as np
import sklearn
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

EXPECTED_SKLEARN = "1.9.1"
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "crates" / "kentro-cli" / "tests" / "fixtures" / "quantize_sklearn.json"
SIZE = 256
N_COLORS = 16
SEEDS = range(5)
MASK32 = 0xFFFFFFFF


def pixel(x, y):
    """The colour at column x, row y: integers only, so that Rust and Python agree exactly."""
    if (x - 80) ** 2 + (y - 90) ** 2 < 50**2:
        base = (220, 50, 40)
    elif 150 <= x < 230 and 30 <= y < 110:
        base = (30, 60 + 2 * (y - 30), 200)
    elif 30**2 <= (x - 170) ** 2 + (y - 190) ** 2 < 45**2:
        base = (250, 220, 30)
    elif 20 <= x < 100 and 170 <= y < 240:
        base = (245, 245, 245) if (x // 10 + y // 10) % 2 == 0 else (15, 15, 15)
    else:
        base = (x, y, (x + y) // 2)
    h = (x * 374761393 + y * 668265263) & MASK32
    h = ((h ^ (h >> 13)) * 1274126177) & MASK32
    noise = [((h >> (8 * (2 - c))) & 0xFF) % 9 - 4 for c in range(3)]
    return [min(255, max(0, v + n)) for v, n in zip(base, noise)]


def test_image():
    """Row-major (SIZE, SIZE, 3) uint8."""
    rows = [[pixel(x, y) for x in range(SIZE)] for y in range(SIZE)]
    return np.array(rows, dtype=np.uint8)


def fnv1a64(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def psnr(original, quantized):
    diff = original.astype(np.float64) - quantized.astype(np.float64)
    mse = float(np.mean(diff**2))
    return 10.0 * np.log10(255.0**2 / mse)


def main():
    assert sklearn.__version__ == EXPECTED_SKLEARN, sklearn.__version__
    image = test_image()
    pixels = image.reshape(-1, 3)
    X = pixels.astype(np.float64) / 255.0
    results = []
    with threadpool_limits(1):
        for seed in SEEDS:
            km = KMeans(n_clusters=N_COLORS, random_state=seed).fit(X)
            palette = np.clip(np.round(km.cluster_centers_ * 255.0), 0, 255).astype(
                np.uint8
            )
            results.append(psnr(pixels, palette[km.labels_]))
    fixture = {
        "sklearn_version": sklearn.__version__,
        "width": SIZE,
        "height": SIZE,
        "pixels_fnv1a64": f"{fnv1a64(image.tobytes()):016x}",
        "n_colors": N_COLORS,
        "seeds": list(SEEDS),
        "psnr": results,
        "median_psnr": float(np.median(results)),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(fixture, indent=2) + "\n")
    print(json.dumps(fixture, indent=2))


if __name__ == "__main__":
    main()
