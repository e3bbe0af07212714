"""Size recommendation from what the customer bought and how the model fits (docs/catalog.md).

Pure functions: the caller gathers the sizes bought and the product's fit verdict.

- runs small: the largest size they bought; if they only ever bought one size, one size up;
- runs large: the smallest size they bought; if only one, one size down;
- true to size, or no verdict: the size they bought most often (a tie: the larger).

The answer is snapped to a size the product is made in, and the reason says all of it:
"bought 6 and 6.5; this model runs small → 6.5".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

LETTERS = ("XXS", "XS", "S", "M", "L", "XL", "XXL", "XXXL")
FIT_WORDS = {"small": "runs small", "true": "is true to size", "large": "runs large"}


def size_key(size: str) -> tuple[int, float, str]:
    """Numbers by value (6 < 6.5 < 10), letter sizes in garment order, anything else alphabetically."""
    text = size.strip()
    try:
        return (0, float(text), "")
    except ValueError:
        pass
    if text.upper() in LETTERS:
        return (1, float(LETTERS.index(text.upper())), "")
    return (2, 0.0, text.lower())


def normalise(size: object) -> str | None:
    """A purchase's size as a label: 6.5 -> "6.5", 7.0 -> "7", " M " -> "M"; booleans and blanks -> None."""
    if isinstance(size, bool) or size is None:
        return None
    if isinstance(size, int | float):
        return f"{size:g}"
    if isinstance(size, str) and size.strip():
        text = size.strip()
        try:
            return f"{float(text):g}"
        except ValueError:
            return text
    return None


def spoken(sizes: Sequence[str]) -> str:
    if len(sizes) == 1:
        return sizes[0]
    return ", ".join(sizes[:-1]) + " and " + sizes[-1]


def _step(offered: list[str], size: str, up: bool) -> str:
    """The next offered size above (or below) ``size``; the same size at the end of the range."""
    key = size_key(size)
    ordered = sorted(offered, key=size_key)
    if up:
        return next((s for s in ordered if size_key(s) > key), size)
    return next((s for s in reversed(ordered) if size_key(s) < key), size)


def _snap(offered: list[str], size: str, prefer_up: bool) -> str:
    """``size`` if the product is made in it, else the nearest size it is made in."""
    if not offered or size in offered:
        return size
    key = size_key(size)
    same_kind = [s for s in offered if size_key(s)[0] == key[0]] or offered

    def distance(s: str) -> tuple[float, int]:
        k = size_key(s)
        gap = abs(k[1] - key[1]) if k[0] == key[0] and k[0] < 2 else float(k[2] != key[2])
        above = k > key
        return (gap, 0 if above == prefer_up else 1)

    return min(same_kind, key=distance)


def recommend(offered: Sequence[str], bought: Sequence[str], fit: str | None) -> tuple[str | None, str]:
    """(size or None, the reason shown to the agent)."""
    sizes = sorted(set(bought), key=size_key)
    fit_text = f"this model {FIT_WORDS[fit]}" if fit in FIT_WORDS else "no fit signal from reviews yet"
    made = [s for s in dict.fromkeys(offered) if s]
    if not sizes:
        return None, f"no purchase with a size on record; {fit_text}"
    if fit == "small":
        pick = sizes[-1] if len(sizes) > 1 else _step(made or sizes, sizes[-1], up=True)
    elif fit == "large":
        pick = sizes[0] if len(sizes) > 1 else _step(made or sizes, sizes[0], up=False)
    else:
        counts = Counter(bought)
        pick = max(sizes, key=lambda s: (counts[s], size_key(s)))
    final = _snap(made, pick, prefer_up=fit != "large")
    made_note = "" if final == pick else f" (not made in {pick})"
    return final, f"bought {spoken(sizes)}; {fit_text} → {final}{made_note}"
