"""Stapeldiagram som ritas på servern: geometrin räknas här, SVG:n skrivs av mallen
`stats/_bar_chart.html`. Inget skript och inget från ett CDN, så att sidan håller sig inom
CSP:n; färgerna kommer från klasser i portal.css. Varje diagram har en tabell med samma siffror
bredvid sig (för skärmläsare och för den som vill läsa exakt).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

WIDTH = 640
HEIGHT = 240
#: Marginaler runt ritytan: plats för skalans siffror till vänster och månaderna under.
LEFT, RIGHT, TOP, BOTTOM = 48, 8, 12, 28
#: Antal steg på skalan (fem linjer med nollan).
TICKS = 4


@dataclass(frozen=True)
class Series:
    """En serie staplar: namn i förklaringen, CSS-klass och ett värde per etikett."""

    name: str
    css: str
    values: list[float]


@dataclass(frozen=True)
class Bar:
    """En stapel (eller en del av en staplad stapel) med sin text för verktygstipset."""

    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass(frozen=True)
class Tick:
    """En linje på skalan och dess siffra."""

    y: float
    label: str


@dataclass(frozen=True)
class Label:
    """En etikett under staplarna (månaden)."""

    x: float
    text: str


@dataclass(frozen=True)
class BarChart:
    """Allt mallen behöver för att rita diagrammet."""

    chart_id: str
    title: str
    description: str
    bars: list[Bar]
    ticks: list[Tick]
    labels: list[Label]
    legend: list[Series]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    baseline: int = HEIGHT - BOTTOM


def nice_ceiling(value: float) -> int:
    """Skalans tak: `TICKS` lika steg om 1, 2 eller 5 gånger en tiopotens (minst 1), så att varje
    linje på skalan är ett heltal och taket rymmer `value`."""
    needed = max(value, 1) / TICKS
    power = 10 ** max(math.floor(math.log10(needed)), 0)
    step = next(step * power for step in (1, 2, 5, 10) if needed <= step * power)
    return step * TICKS


def _number(value: float) -> str:
    """Ett tal med decimalkomma, utan decimaler när det är ett heltal."""
    text = f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
    return text.replace(".", ",")


def bar_chart(
    chart_id: str,
    title: str,
    description: str,
    labels: list[str],
    series: list[Series],
    value_text: Callable[[float], str] = _number,
) -> BarChart:
    """Ett stapeldiagram med en stapel per etikett; flera serier staplas på varandra i ordning."""
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    top = nice_ceiling(max(totals, default=0))
    plot_height = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    bar_width = slot * 0.7
    bars = []
    for index, label in enumerate(labels):
        x = LEFT + slot * index + (slot - bar_width) / 2
        base = float(HEIGHT - BOTTOM)
        for serie in series:
            value = serie.values[index]
            if value <= 0:
                continue
            height = plot_height * value / top
            base -= height
            bars.append(
                Bar(
                    round(x, 1),
                    round(base, 1),
                    round(bar_width, 1),
                    round(height, 1),
                    serie.css,
                    f"{label}: {serie.name.lower()} {value_text(value)}",
                )
            )
    ticks = [
        Tick(round(HEIGHT - BOTTOM - plot_height * step / TICKS, 1), _number(top * step / TICKS))
        for step in range(TICKS + 1)
    ]
    centres = [Label(round(LEFT + slot * (index + 0.5), 1), label) for index, label in enumerate(labels)]
    return BarChart(chart_id, title, description, bars, ticks, centres, series)
