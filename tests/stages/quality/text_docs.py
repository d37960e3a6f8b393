"""Crafted texts, one per text rule, each failing exactly that rule first (used by two test modules)."""

from __future__ import annotations

BASE_LINES = [
    "The history of the city goes back to the Roman period, when a small camp was built on the river.",
    "Over the centuries the settlement grew into an important market town with a busy harbour.",
    "Merchants from many countries came to trade wool, salt and wine with the local families.",
    "In the nineteenth century the railway arrived and brought new industries to the region.",
    "Today the old town is known for its narrow streets, its cathedral and its lively festivals.",
    "Visitors can walk along the walls and enjoy a wide view of the valley and the hills beyond it.",
]
BASE = "\n".join(BASE_LINES)
WORDS = ("river", "stone", "garden", "window", "market", "forest", "bridge", "letter", "silver", "harbour",
         "candle", "mirror", "pepper", "ladder", "velvet", "button", "saddle", "rocket", "meadow", "anchor")


def unique_words(count: int, length: int = 6) -> list[str]:
    """Distinct lowercase words of about ``length`` letters (no repeated n-grams)."""
    out = []
    for i in range(count):
        a, b = divmod(i, 26)
        out.append((chr(97 + b) * 2 + chr(97 + a % 26) + "ovelt" + "abcdefghij"[: max(0, length - 8)])[:length])
    return out


def _sentences(words: list[str], per: int = 8) -> str:
    return " ".join(" ".join(words[i:i + per]) + "." for i in range(0, len(words), per))


LONG_PARAGRAPH = " ".join(BASE_LINES)
STOPLESS = [  # sentences without any of Gopher's stop words
    "Merchants sold wool salt wine bread cheese olives honey spices fish meat.",
    "Farmers brought apples pears plums cherries grapes figs nuts melons beans.",
    "Painters made portraits landscapes murals icons frescoes sketches drawings maps.",
    "Sailors crossed seas rivers straits channels bays lagoons gulfs oceans lakes.",
    "Builders raised walls towers gates bridges churches houses barns mills halls.",
    "Children played games sang songs told stories danced laughed ran jumped swam.",
]


def text_cases() -> list[tuple[str, str]]:
    """(expected reason, text) for every text rule reachable in the default order, plus a kept text."""
    lines, short = BASE_LINES, "Read more."
    filler = _sentences(unique_words(60))
    long_words = unique_words(54, 9)
    list_lines = [f"{long_words[3 * i]} {long_words[3 * i + 1]} {stops} {long_words[3 * i + 2]}." for i, stops in
                  enumerate(("and the", "with the", "to the", "of the", "and that", "with that") * 3)]
    no_end = unique_words(72, 7)
    two_letter = [chr(97 + i // 26) + chr(97 + i % 26) for i in range(80)]
    return [
        (None, BASE),
        ("gopher repetition: empty", ""),
        ("gopher repetition: duplicate paragraphs", "\n\n".join([lines[0], lines[1], lines[0], lines[0]])),
        ("gopher repetition: duplicate paragraph characters",
         "\n\n".join([LONG_PARAGRAPH, lines[1], lines[2], LONG_PARAGRAPH])),
        ("gopher repetition: duplicate lines", "\n".join([lines[0], lines[1], lines[0], lines[0]])),
        ("gopher repetition: duplicate line characters", "\n".join([LONG_PARAGRAPH, short, lines[2], LONG_PARAGRAPH])),
        ("gopher repetition: top 2-gram", " ".join(f"new york {w}" for w in unique_words(40))),
        ("gopher repetition: duplicate 5-grams",
         filler + " " + LONG_PARAGRAPH[:300] + " " + " ".join(unique_words(40, 7)) + " " + LONG_PARAGRAPH[:300]),
        ("gopher: word count", _sentences(unique_words(40)) + " the and"),
        ("gopher: mean word length", _sentences(two_letter) + " the and to of"),
        ("gopher: mean word length", _sentences(unique_words(70, 12)) + " the and"),
        ("gopher: hashes", BASE + " " + " ".join(f"#{w}" for w in unique_words(20))),
        ("gopher: ellipses", BASE + " " + " ".join(f"{w}..." for w in unique_words(20))),
        ("gopher: bullet lines", "\n".join("- " + line for line in lines)),
        ("gopher: ellipsis lines", "\n".join(line[:-1] + "..." if i % 2 else line for i, line in enumerate(lines))),
        ("gopher: alphabetic words", BASE + " " + " ".join(str(1000 + i * 7) for i in range(60))),
        ("gopher: stop words", "\n".join(STOPLESS)),
        ("c4: lorem ipsum", BASE + "\nLorem ipsum dolor sit amet, consectetur adipiscing elit."),
        ("c4: curly bracket", BASE + "\nUse the {name} field to store the value of the record."),
        ("c4: too few sentences", "\n".join(lines[:4]) + "\nA line without an end mark and with enough words here"),
        ("fineweb: line punctuation", " ".join(lines[:5]) + "\n" + "\n".join(
            " ".join(no_end[i:i + 8]) for i in range(0, 72, 8))),
        ("fineweb: short lines", BASE + "\n" + "\n".join(f"See the {w} map" for w in WORDS[:14])),
        ("fineweb: duplicate line characters", BASE + "\nRead more about the city here.\nRead more about the city here."),
        ("fineweb: list-like", "\n\n".join(list_lines)),
    ]
