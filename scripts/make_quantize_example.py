"""Write the README's image-compression example input, docs/images/china.jpg.

scikit-learn's sample photo ``china.jpg`` (CC BY 2.0, danielbuechele on Flickr; see
sklearn/datasets/images/README.txt), downscaled to 320 pixels wide so that the committed
pictures stay small. Run from the repository root, in the fixtures venv (which has Pillow):

    .venv-fixtures/bin/pip install scikit-learn==1.9.1 pillow
    .venv-fixtures/bin/python scripts/make_quantize_example.py
    cargo run -p kentro-cli -- quantize docs/images/china.jpg --colors 16 \\
        -o china-16colors.png --side-by-side docs/images/quantize-china-16.png
"""

from pathlib import Path

from PIL import Image
from sklearn.datasets import load_sample_image

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "images" / "china.jpg"
WIDTH = 320


def main():
    photo = Image.fromarray(load_sample_image("china.jpg"))
    height = round(photo.height * WIDTH / photo.width)
    small = photo.resize((WIDTH, height), Image.Resampling.LANCZOS)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    small.save(OUT, quality=90)
    print(
        f"wrote {OUT.relative_to(ROOT)}: {WIDTH} x {height}, {OUT.stat().st_size} bytes"
    )


if __name__ == "__main__":
    main()
