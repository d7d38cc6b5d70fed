"""Diagrammens geometri: heltal på skalan, staplar i proportion och staplade serier på varandra."""

from __future__ import annotations

import pytest

from stats.charts import BOTTOM, HEIGHT, TOP, Series, bar_chart, nice_ceiling


@pytest.mark.parametrize(("value", "top"), [(0, 4), (1, 4), (4, 4), (5, 8), (12, 20), (40, 40), (199, 200)])
def test_scale_is_whole_steps_that_hold_the_largest_value(value: float, top: int) -> None:
    """Taket rymmer största värdet och delas i fyra steg som alla är heltal."""
    assert nice_ceiling(value) == top
    assert top % 4 == 0 and top >= value


def test_stacked_bars_are_proportional_and_labelled() -> None:
    """Tillsatta (3) och inte tillsatta (1) staplas: hela stapeln når taket 4, tipsen säger antalen."""
    chart = bar_chart(
        "d",
        "Kampanjer",
        "beskrivning",
        ["jan 26", "feb 26"],
        [Series("Tillsatta", "chart-filled", [3, 0]), Series("Inte tillsatta", "chart-unfilled", [1, 2])],
    )
    plot = HEIGHT - TOP - BOTTOM
    first, second, third = chart.bars
    assert (first.css, first.height, first.title) == ("chart-filled", plot * 3 / 4, "jan 26: tillsatta 3")
    assert (second.css, second.y, second.height) == ("chart-unfilled", TOP, plot / 4)  # ovanpå, upp till taket
    assert (third.title, third.height) == ("feb 26: inte tillsatta 2", plot / 2)  # en nolla ritas inte
    assert [tick.label for tick in chart.ticks] == ["0", "1", "2", "3", "4"]
    assert [label.text for label in chart.labels] == ["jan 26", "feb 26"]
