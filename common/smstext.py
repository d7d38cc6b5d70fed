"""Regler för SMS-text: teckenkodning, längd och uppdelning i delmeddelanden.

Detta är den enda Python-implementationen av reglerna. Webbläsarens motsvarighet
finns i static/js/smstext.js och ska bete sig exakt likadant; båda kontrolleras mot
de gemensamma testvektorerna i tests/fixtures/sms_vectors.json. Modulen importerar inget av
portalens egna: utskicken, mallarnas admin och kampanjerna använder den alla.

Reglerna:

* Består texten enbart av tecken ur GSM 03.38 (3GPP TS 23.038, standardalfabetet och
  dess utökningstabell) skickas den som GSM-7. Tecken i grundtabellen tar en septett,
  tecken i utökningstabellen två (escape-tecken plus tecknet).
* Finns minst ett tecken utanför GSM skickas hela meddelandet som UCS-2 och räknas i
  UTF-16-enheter; tecken utanför BMP (t.ex. emoji) tar två enheter (surrogatpar).
* Ett meddelande som ryms i 160 septetter (GSM-7) eller 70 enheter (UCS-2) är ett
  enda SMS. Annars delas det i delar om högst 153 respektive 67 enheter. Ett tecken
  delas aldrig mellan två delar (varken escape-par eller surrogatpar), därför packas
  tecknen girigt i delar i stället för att antalet räknas med division.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

GSM7: Final = "GSM-7"
UCS2: Final = "UCS-2"

# Grundtabellen i GSM 03.38 (128 positioner) utan escape-tecknet 0x1B, i tabellordning.
GSM_BASIC_CHARACTERS: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)

# Utökningstabellen: varje tecken kostar två septetter (escape 0x1B plus tecknet).
GSM_EXTENSION_CHARACTERS: Final = frozenset("\x0c^{}\\[]~|€")

# Gränser per kodning: (ett enda SMS, per del när meddelandet delas upp).
LIMITS: Final = {GSM7: (160, 153), UCS2: (70, 67)}

# Vanliga tecken som tvingar fram UCS-2 och deras GSM-ersättningar.
SUGGESTED_REPLACEMENTS: Final = {
    "\u201c": '"',  # “ vänster citattecken
    "\u201d": '"',  # ” höger citattecken
    "\u201e": '"',  # „ nedre citattecken
    "\u2018": "'",  # ‘ vänster apostrof
    "\u2019": "'",  # ’ höger apostrof
    "\u201a": "'",  # ‚ nedre apostrof
    "\u00b4": "'",  # ´ akut accent
    "\u2013": "-",  # – kort tankstreck
    "\u2014": "-",  # — långt tankstreck
    "\u2022": "-",  # • punkt i punktlista
    "\u2026": "...",  # … ellips
    "\u00a0": " ",  # hårt mellanslag
    "\u2009": " ",  # smalt mellanslag
    "\u202f": " ",  # smalt hårt mellanslag
}


@dataclass(frozen=True)
class SmsInfo:
    """Resultatet av en analys av en SMS-text.

    encoding: "GSM-7" eller "UCS-2".
    characters: antal tecken (kodpunkter, samma som len() i Python).
    units: septetter för GSM-7, UTF-16-enheter för UCS-2.
    segments: antal SMS som skickas (0 för tom text).
    per_segment: gränsen per SMS vid nuvarande antal (160/153 eller 70/67).
    remaining: enheter kvar i sista SMS:et innan ytterligare ett behövs.
    non_gsm_characters: tecknen som tvingar fram UCS-2, unika i förekomstordning.
    """

    encoding: str
    characters: int
    units: int
    segments: int
    per_segment: int
    remaining: int
    non_gsm_characters: tuple[str, ...]


def _is_gsm(char: str) -> bool:
    """Sant om tecknet finns i GSM 03.38 (grundtabellen eller utökningstabellen)."""
    return char in GSM_BASIC_CHARACTERS or char in GSM_EXTENSION_CHARACTERS


def non_gsm_characters(text: str) -> tuple[str, ...]:
    """Tecknen i texten som saknas i GSM 03.38, unika och i förekomstordning."""
    return tuple(dict.fromkeys(char for char in text if not _is_gsm(char)))


def _encoding(text: str) -> str:
    """Kodningen som texten måste skickas med."""
    return GSM7 if all(_is_gsm(char) for char in text) else UCS2


def _unit_cost(char: str, encoding: str) -> int:
    """Antal enheter ett tecken tar: septetter för GSM-7, UTF-16-enheter för UCS-2."""
    if encoding == GSM7:
        return 2 if char in GSM_EXTENSION_CHARACTERS else 1
    return 2 if ord(char) > 0xFFFF else 1


def _units(text: str, encoding: str) -> int:
    """Summan av enheterna för alla tecken i texten."""
    return sum(_unit_cost(char, encoding) for char in text)


def _pack(text: str, encoding: str) -> list[str]:
    """Packar tecknen girigt i delar utan att dela något tecken mellan två delar."""
    single_limit, part_limit = LIMITS[encoding]
    if not text:
        return []
    if _units(text, encoding) <= single_limit:
        return [text]
    parts: list[str] = []
    current: list[str] = []
    used = 0
    for char in text:
        cost = _unit_cost(char, encoding)
        if used + cost > part_limit:
            parts.append("".join(current))
            current, used = [], 0
        current.append(char)
        used += cost
    parts.append("".join(current))
    return parts


def split_parts(text: str) -> list[str]:
    """Delar texten i de delmeddelanden som skulle skickas (tom lista för tom text)."""
    return _pack(text, _encoding(text))


def analyse(text: str) -> SmsInfo:
    """Analyserar en SMS-text: kodning, längd, antal SMS och utrymme kvar."""
    encoding = _encoding(text)
    parts = _pack(text, encoding)
    single_limit, part_limit = LIMITS[encoding]
    per_segment = part_limit if len(parts) > 1 else single_limit
    last_units = _units(parts[-1], encoding) if parts else 0
    return SmsInfo(
        encoding=encoding,
        characters=len(text),
        units=_units(text, encoding),
        segments=len(parts),
        per_segment=per_segment,
        remaining=per_segment - last_units,
        non_gsm_characters=non_gsm_characters(text),
    )


def unix_newlines(text: str) -> str:
    """Radbrytningar som webbläsarens räknare räknar dem: CRLF och CR från ett formulär blir LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def replace_non_gsm(text: str) -> str:
    """Byter ut vanliga UCS-2-tecken (typografiska citattecken, tankstreck m.m.) mot GSM-tecken."""
    return "".join(SUGGESTED_REPLACEMENTS.get(char, char) for char in text)
