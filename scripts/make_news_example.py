"""Generate examples/news.jsonl, the corpus of the README's "Text clustering" example.

How to rerun (from the repository root; any Python 3, no packages, no network):

    python3 scripts/make_news_example.py

It (re)writes ``examples/news.jsonl``: 200 short "news" items, 50 for each of four planted
topics (sport, finance, space, cooking), one JSON object per line with the fields ``id``,
``topic`` (the planted topic, for checking) and ``text``. Each text is mostly words of its
topic, with words of another topic, filler words and English stop words mixed in, in the
manner of the corpus of ``crates/kentro-cli/tests/text.rs``. The output depends only on SEED.
"""

import json
from pathlib import Path

SEED = 2024
PER_TOPIC = 50
WORDS_PER_ITEM = 14
OUT = Path(__file__).resolve().parent.parent / "examples/news.jsonl"

TOPICS = {
    "sport": "goal match striker league referee stadium keeper penalty season coach".split(),
    "finance": "bank interest inflation market stocks bonds rates investor credit budget".split(),
    "space": "planet orbit telescope galaxy comet rocket nebula astronaut lunar solar".split(),
    "cooking": "recipe flour oven butter garlic simmer pasta sauce bake spice".split(),
}
FILLER = "today report people said new year week time".split()
STOP = "the and of it was very on in to a".split()


def xorshift(seed):
    """An endless stream of 64-bit xorshift numbers: the same on every Python."""
    state = (seed * 0x9E3779B97F4A7C15 | 1) & 0xFFFFFFFFFFFFFFFF
    while True:
        state ^= (state << 13) & 0xFFFFFFFFFFFFFFFF
        state ^= state >> 7
        state ^= (state << 17) & 0xFFFFFFFFFFFFFFFF
        yield state


def main():
    stream = xorshift(SEED)

    def pick(items):
        return items[next(stream) % len(items)]

    names = list(TOPICS)
    lines = []
    for i in range(PER_TOPIC * len(names)):
        topic = names[i % len(names)]
        words = []
        for _ in range(WORDS_PER_ITEM):
            roll = next(stream) % 10
            if roll <= 5:
                words.append(pick(TOPICS[topic]))
            elif roll == 6:
                words.append(pick(TOPICS[pick(names)]))
            elif roll == 7:
                words.append(pick(FILLER))
            else:
                words.append(pick(STOP))
        text = " ".join(words).capitalize() + "."
        lines.append(json.dumps({"id": i, "topic": topic, "text": text}))
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(lines)} items)")


if __name__ == "__main__":
    main()
