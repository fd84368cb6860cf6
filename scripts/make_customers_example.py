"""Generate examples/customers.csv, the data of the README's "Customer segmentation" example.

How to rerun (from the repository root; any Python 3, no packages, no network):

    python3 scripts/make_customers_example.py

It (re)writes ``examples/customers.csv``: 400 synthetic customers, 100 from each of four
planted segments, shuffled, and ``examples/new-customers.csv``: 12 more from the same segments
(3 each, drawn after them), for ``kentro predict``. Both have the columns
``visits_per_month``, ``basket_eur``, ``age`` and ``online_pct``. Each segment draws every feature from a normal distribution (mean and standard
deviation in SEGMENTS), clipped to the feature's range and rounded. The features are in very
different units (euros against visits), which is what ``--scale standard`` is for. The output
depends only on SEED.
"""

import random
from pathlib import Path

SEED = 7
PER_SEGMENT = 100
NEW = 3
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

COLUMNS = ["visits_per_month", "basket_eur", "age", "online_pct"]
# Per feature: (low, high, decimals).
RANGES = [(0.0, 31.0, 1), (0.0, 1000.0, 2), (15, 90, 0), (0, 100, 0)]
# Per segment, per feature: (mean, standard deviation).
SEGMENTS = {
    "young regulars, online": [(12.0, 1.2), (20.0, 8.0), (25.0, 4.0), (80.0, 7.0)],
    "big baskets, rarely": [(1.2, 0.6), (240.0, 8.0), (57.0, 6.0), (60.0, 5.0)],
    "middle of the road": [(6.5, 1.0), (95.0, 6.0), (42.0, 4.0), (40.0, 6.0)],
    "older, in store": [(2.0, 0.8), (32.0, 6.0), (62.0, 7.0), (10.0, 6.0)],
}


def customers(rng, per_segment):
    """`per_segment` rows (CSV text) of each segment, shuffled."""
    rows = []
    for features in SEGMENTS.values():
        for _ in range(per_segment):
            row = []
            for (mean, std), (low, high, decimals) in zip(features, RANGES):
                value = min(max(rng.gauss(mean, std), low), high)
                row.append(f"{value:.{decimals}f}")
            rows.append(",".join(row))
    rng.shuffle(rows)
    return rows


def main():
    rng = random.Random(SEED)
    for name, per_segment in [
        ("customers.csv", PER_SEGMENT),
        ("new-customers.csv", NEW),
    ]:
        rows = customers(rng, per_segment)
        out = EXAMPLES / name
        out.write_text(
            ",".join(COLUMNS) + "\n" + "\n".join(rows) + "\n", encoding="utf-8"
        )
        print(f"wrote {out} ({len(rows)} customers)")


if __name__ == "__main__":
    main()
