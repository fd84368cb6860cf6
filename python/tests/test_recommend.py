"""examples/recommend.py recovers its planted tastes and recommends liked items."""

import runpy
from pathlib import Path

import numpy as np
import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "recommend.py"


@pytest.fixture(scope="module")
def example():
    return runpy.run_path(str(EXAMPLE), run_name="recommend_example")


@pytest.mark.parametrize("seed", [7, 8, 9])
def test_planted_tastes_are_recovered(example, seed, capsys):
    result = example["main"](seed)
    assert result["ari"] >= 0.9
    assert result["hit_rate"] >= 0.8
    assert "adjusted Rand index" in capsys.readouterr().out


def test_recommendations_are_unrated_and_ranked_by_the_cluster(example):
    ratings, taste = example["generate"](7)
    labels = (
        np.arange(len(taste)) % 4
    )  # any partition: the ranking rule is what is tested
    for user in range(10):
        recs = example["recommend"](ratings, labels, user)
        assert [r for _, r in recs] == sorted((r for _, r in recs), reverse=True)
        for item, mean in recs:
            assert ratings[user, item] == 0
            others = (labels == labels[user]) & (np.arange(len(labels)) != user)
            given = ratings[others, item]
            assert mean == pytest.approx(given[given > 0].mean())


def test_runs_as_a_script(capsys):
    runpy.run_path(str(EXAMPLE), run_name="__main__")
    assert "planted likes" in capsys.readouterr().out
