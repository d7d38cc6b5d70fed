"""Format för statistiksidan: kronor, procent, tider och kvoter på svenska (decimalkomma, mellanslag
som tusentalsavgränsare)."""

from __future__ import annotations

from django import template

from campaigns.summary import duration_text

register = template.Library()

#: Tunt hårt mellanslag mellan tusental, så att ett belopp aldrig bryts över två rader.
_THOUSANDS = "\u202f"


def grouped(value: float, decimals: int = 0) -> str:
    """Ett tal med mellanslag mellan tusental och decimalkomma: 12 345 eller 12 345,60."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", _THOUSANDS).replace(".", ",")


@register.filter
def kronor(value: float | None) -> str:
    """Ett belopp i hela kronor ("12 345 kr"); öresbelopp under 100 kr med två decimaler."""
    if value is None:
        return "–"
    return f"{grouped(value, 2 if 0 < value < 100 else 0)} kr"


@register.filter
def percent(value: float | None) -> str:
    """En andel (0–1) i hela procent ("42 %"); "–" utan underlag."""
    return "–" if value is None else f"{round(value * 100)} %"


@register.filter
def duration(seconds: float | None) -> str:
    """Sekunder i ord ("12 min", "1 h 5 min"); "–" utan underlag."""
    return duration_text(seconds) or "–"


@register.filter
def times(value: float | None) -> str:
    """En kvot ("1 587 ggr"); "–" utan underlag."""
    return "–" if value is None else f"{grouped(value)} ggr"
