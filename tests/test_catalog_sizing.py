"""Size recommendation rules (amity.catalog.sizing), with the reason an agent reads out."""

from __future__ import annotations

import pytest

from amity.catalog.sizing import normalise, recommend, size_key

SHOES = ["5", "5.5", "6", "6.5", "7", "7.5", "8"]


@pytest.mark.parametrize(
    ("bought", "fit", "size", "reason"),
    [
        (["6", "6.5"], "small", "6.5", "bought 6 and 6.5; this model runs small → 6.5"),
        (["6", "6.5"], "large", "6", "bought 6 and 6.5; this model runs large → 6"),
        (["6", "6.5", "6.5"], "true", "6.5", "bought 6 and 6.5; this model is true to size → 6.5"),
        (["6", "6", "6.5"], None, "6", "bought 6 and 6.5; no fit signal from reviews yet → 6"),
        (["6"], "small", "6.5", "bought 6; this model runs small → 6.5"),
        (["6"], "large", "5.5", "bought 6; this model runs large → 5.5"),
        (["8"], "small", "8", "bought 8; this model runs small → 8"),  # nothing larger is made
        (["6.25"], "true", "6.5", "bought 6.25; this model is true to size → 6.5 (not made in 6.25)"),
        ([], "small", None, "no purchase with a size on record; this model runs small"),
    ],
)
def test_recommendations_follow_the_fit_and_say_why(
    bought: list[str], fit: str | None, size: str | None, reason: str
) -> None:
    assert recommend(SHOES, bought, fit) == (size, reason)


def test_sizes_sort_as_people_expect_and_purchases_become_labels() -> None:
    assert sorted(["10", "6.5", "6", "9"], key=size_key) == ["6", "6.5", "9", "10"]
    assert sorted(["L", "xs", "M", "XL", "S"], key=size_key) == ["xs", "S", "M", "L", "XL"]
    assert [normalise(v) for v in (6.5, 7.0, "6.50", " M ", True, None, "", 8)] == [
        "6.5", "7", "6.5", "M", None, None, None, "8"
    ]  # fmt: skip
    assert recommend(["S", "M", "L"], ["M"], "small") == ("L", "bought M; this model runs small → L")
