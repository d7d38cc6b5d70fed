"""CSV-export för personalens sidor: semikolon och BOM, så att Excel med svenska inställningar öppnar
filen rätt, och text som Excel skulle räkna ut som formel görs ofarlig (CSV-injektion).

Modulen importerar inget av portalens egna.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

from django.http import HttpResponse
from django.utils import timezone

#: Tecken som får Excel att tolka en cell som formel (CSV-injektion).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_response(name: str, titles: list[str], rows: Iterable[list[Any]]) -> HttpResponse:
    """En CSV-fil att ladda ner, `<name>-ÅÅÅÅMMDD-TTMM.csv`; None blir en tom cell."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    response.write("\ufeff")
    writer = csv.writer(response, delimiter=";")
    writer.writerow(titles)
    for row in rows:
        writer.writerow(["" if value is None else safe_cell(value) for value in row])
    return response


def safe_cell(value: object) -> object:
    """Cellens värde; text som Excel skulle räkna ut som formel (=, +, -, @) får en inledande '.

    Mallrubriker och orsaker kommer från inmatning: `=HYPERLINK(...)` ska visas, inte köras.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
