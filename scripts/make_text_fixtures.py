"""Generate the scikit-learn reference fixture of ``kentro text``'s TF-IDF.

How to rerun (from the repository root), in a virtual environment that has
scikit-learn==1.9.1 installed (the one of scripts/make_fixtures.py):

    python3 -m venv .venv-fixtures
    .venv-fixtures/bin/pip install scikit-learn==1.9.1 numpy scipy
    .venv-fixtures/bin/python scripts/make_text_fixtures.py

It (re)writes ``crates/kentro-cli/tests/fixtures/text/tfidf.json``: a small corpus,
scikit-learn's English stop words, and for several ``min_df``/``max_df`` settings the
vocabulary and dense rows of
``TfidfVectorizer(stop_words="english", sublinear_tf=True, smooth_idf=True, norm="l2")``.
"""

import json
from pathlib import Path

import sklearn
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

EXPECTED_SKLEARN = "1.9.1"
OUT = Path(__file__).resolve().parent.parent / "crates/kentro-cli/tests/fixtures/text"

DOCUMENTS = [
    "The cat sat on the mat. The cat purred, and the cat slept.",
    "Dogs and cats: a dog's life is ruff! Dogs bark; cats meow.",
    "Stock markets fell as the central bank raised interest rates again.",
    "The bank's interest rate decision surprised markets; stocks rallied later.",
    "Café naïve über-Größe 東京 x y z 42 4 a_b __init__",
    "",
    "the and of to a in is it",
    "Cats, dogs and birds: pets at home. A bird sings; the cat listens.",
    "Rates, rates, rates: the bank, the bank, the BANK.",
    "Mixed CASE words Words WORDS and numbers 2024 2024 1999",
]

CASES = [("1", "1.0"), ("2", "1.0"), ("1", "0.3"), ("0.2", "0.8"), ("2", "3")]


def parse(text):
    return float(text) if "." in text else int(text)


def main():
    if sklearn.__version__ != EXPECTED_SKLEARN:
        raise SystemExit(
            f"need scikit-learn {EXPECTED_SKLEARN}, found {sklearn.__version__}"
        )
    cases = []
    for min_df, max_df in CASES:
        vec = TfidfVectorizer(
            stop_words="english",
            sublinear_tf=True,
            smooth_idf=True,
            norm="l2",
            min_df=parse(min_df),
            max_df=parse(max_df),
        )
        X = vec.fit_transform(DOCUMENTS)
        cases.append(
            {
                "min_df": min_df,
                "max_df": max_df,
                "terms": [str(t) for t in vec.get_feature_names_out()],
                "matrix": X.toarray().tolist(),
            }
        )
    fixture = {
        "sklearn_version": sklearn.__version__,
        "documents": DOCUMENTS,
        "stop_words": sorted(ENGLISH_STOP_WORDS),
        "cases": cases,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "tfidf.json").write_text(
        json.dumps(fixture, indent=1, ensure_ascii=False) + "\n"
    )
    print(f"wrote {OUT / 'tfidf.json'}")


if __name__ == "__main__":
    main()
