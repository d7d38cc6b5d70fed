"""Tester för SMS-textreglerna i Python (common.smstext) och JavaScript (static/js/smstext.js).

Båda implementationerna körs mot samma testvektorer i tests/fixtures/sms_vectors.json,
och en slumpad men deterministisk mängd texter jämförs mellan dem fält för fält.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.smstext import (
    GSM7,
    GSM_BASIC_CHARACTERS,
    GSM_EXTENSION_CHARACTERS,
    LIMITS,
    SUGGESTED_REPLACEMENTS,
    analyse,
    replace_non_gsm,
    split_parts,
)

ROOT = Path(__file__).resolve().parents[2]
VECTORS_PATH = ROOT / "tests" / "fixtures" / "sms_vectors.json"
JS_RUNNER = ROOT / "tests" / "js" / "run_sms_vectors.js"
VECTORS: list[dict[str, Any]] = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))
VECTOR_FIELDS = ("encoding", "characters", "units", "segments", "per_segment", "remaining", "non_gsm_characters")

# JavaScript-implementationens fältnamn (camelCase) för varje Python-fält.
JS_FIELDS = {
    "encoding": "encoding",
    "characters": "characters",
    "units": "units",
    "segments": "segments",
    "per_segment": "perSegment",
    "remaining": "remaining",
    "non_gsm_characters": "nonGsmCharacters",
}

# Alfabet för slumpade texter: GSM, utökningstecken, svenska tecken, emoji och vanliga UCS-2-tecken.
GSM_ALPHABET = "".join(sorted(GSM_BASIC_CHARACTERS))
EXTENSION_ALPHABET = "".join(sorted(GSM_EXTENSION_CHARACTERS))
SWEDISH_ALPHABET = "åäöÅÄÖé "
EMOJI_ALPHABET = "😀😊👍🇸🇪❤️\u200d"
UCS2_ALPHABET = "".join(SUGGESTED_REPLACEMENTS) + "`ç\t\u00ad"
ALPHABETS = (GSM_ALPHABET, EXTENSION_ALPHABET, SWEDISH_ALPHABET, EMOJI_ALPHABET, UCS2_ALPHABET)

mixed_text = st.text(
    alphabet=st.sampled_from("".join(ALPHABETS)) | st.characters(),
    max_size=500,
)


def python_result(text: str) -> dict[str, Any]:
    """Python-implementationens resultat i samma form som JS-körarens (camelCase, delar, ersättning)."""
    info = asdict(analyse(text))
    result = {JS_FIELDS[field]: info[field] for field in VECTOR_FIELDS}
    result["nonGsmCharacters"] = list(info["non_gsm_characters"])
    result["parts"] = split_parts(text)
    result["replaced"] = replace_non_gsm(text)
    return result


def run_js(vectors_path: Path) -> dict[str, Any]:
    """Kör JS-implementationen under Node på en vektorfil och returnerar dess JSON-utdata."""
    node = shutil.which("node")
    assert node is not None, "Node.js saknas: JavaScript-räknaren måste testas (installera nodejs)"
    completed = subprocess.run(
        [node, str(JS_RUNNER), str(vectors_path)],
        capture_output=True,
        check=True,
        encoding="utf-8",
        timeout=60,
    )
    return json.loads(completed.stdout)


def run_js_on_texts(texts: list[str], tmp_path: Path) -> list[dict[str, Any]]:
    """Kör JS-implementationen på en lista texter i en enda Node-process."""
    batch_path = tmp_path / "batch.json"
    batch = [{"name": f"text {index}", "text": text} for index, text in enumerate(texts)]
    batch_path.write_text(json.dumps(batch), encoding="utf-8")
    return run_js(batch_path)["results"]


def assert_same(expected: dict[str, Any], actual: dict[str, Any], label: str) -> None:
    """Jämför fält för fält och visar vilket fält och vilken text som skiljer sig."""
    for field, value in expected.items():
        assert actual[field] == value, f"{label}: fältet {field} är {actual[field]!r}, väntat {value!r}"


@pytest.fixture(scope="module")
def js_output() -> dict[str, Any]:
    """JS-implementationens resultat för alla testvektorer (en enda Node-körning)."""
    return run_js(VECTORS_PATH)


def test_vectors_are_many_and_uniquely_named() -> None:
    """Testvektorerna är minst 40 och har unika namn."""
    names = [vector["name"] for vector in VECTORS]
    assert len(names) >= 40
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("vector", VECTORS, ids=[vector["name"] for vector in VECTORS])
def test_python_matches_vector(vector: dict[str, Any]) -> None:
    """Python-implementationen ger de förväntade värdena för varje testvektor."""
    info = asdict(analyse(vector["text"]))
    info["non_gsm_characters"] = list(info["non_gsm_characters"])
    expected = {field: vector[field] for field in VECTOR_FIELDS}
    assert_same(expected, info, vector["name"])


@pytest.mark.parametrize("index", range(len(VECTORS)), ids=[vector["name"] for vector in VECTORS])
def test_js_matches_vector(index: int, js_output: dict[str, Any]) -> None:
    """JS-implementationen ger de förväntade värdena för varje testvektor."""
    vector = VECTORS[index]
    actual = js_output["results"][index]
    assert actual["name"] == vector["name"]
    expected = {JS_FIELDS[field]: vector[field] for field in VECTOR_FIELDS}
    assert_same(expected, actual, vector["name"])


@pytest.mark.parametrize("index", range(len(VECTORS)), ids=[vector["name"] for vector in VECTORS])
def test_js_parts_and_replacement_match_python(index: int, js_output: dict[str, Any]) -> None:
    """JS delar och ersätter varje testvektor exakt som Python."""
    vector = VECTORS[index]
    assert_same(python_result(vector["text"]), js_output["results"][index], vector["name"])


def test_js_has_the_same_replacements(js_output: dict[str, Any]) -> None:
    """Ersättningstabellen är densamma i JS och Python."""
    assert js_output["replacements"] == SUGGESTED_REPLACEMENTS


def test_js_classifies_every_character_like_python(tmp_path: Path) -> None:
    """Varje enskilt tecken upp till U+2FFF, några emoji och ensamma surrogat klassas lika i JS och Python."""
    texts = [chr(code) for code in range(0x3000)] + ["😀", "🇸", "\U0010ffff", "\ud800", "\udfff"]
    for text, actual in zip(texts, run_js_on_texts(texts, tmp_path), strict=True):
        assert_same(python_result(text), actual, f"U+{ord(text):04X}")


def random_texts(count: int, seed: int) -> list[str]:
    """Deterministiska slumptexter ur en blandning av alfabeten, med längder runt delgränserna."""
    generator = random.Random(seed)
    texts = []
    for _ in range(count):
        alphabet = "".join(generator.sample(ALPHABETS, generator.randint(1, len(ALPHABETS))))
        length = generator.choice([generator.randint(0, 20), generator.randint(60, 170), generator.randint(130, 470)])
        texts.append("".join(generator.choice(alphabet) for _ in range(length)))
    return texts


def test_js_matches_python_on_random_batch(tmp_path: Path) -> None:
    """200 slumpade texter ger identiska resultat i JS och Python (en Node-process för allt)."""
    texts = random_texts(200, seed=20260521)
    for index, (text, actual) in enumerate(zip(texts, run_js_on_texts(texts, tmp_path), strict=True)):
        assert_same(python_result(text), actual, f"slumptext {index} {text!r}")


def test_replace_non_gsm_gives_pure_gsm() -> None:
    """Typografiska citattecken, tankstreck, ellips och hårda mellanslag ersätts så att texten blir GSM-7."""
    text = (
        "Hej! \u201cVälkommen\u201d \u2018åter\u2019 \u2013 tid\u00a0kl.\u202f10\u201412\u2026 \u2022 ta med id\u00b4"
    )
    replaced = replace_non_gsm(text)
    assert replaced == "Hej! \"Välkommen\" 'åter' - tid kl. 10-12... - ta med id'"
    info = analyse(replaced)
    assert info.encoding == GSM7
    assert info.non_gsm_characters == ()


@given(st.text(alphabet=st.sampled_from(GSM_ALPHABET + EXTENSION_ALPHABET + "".join(SUGGESTED_REPLACEMENTS))))
def test_replace_non_gsm_property(text: str) -> None:
    """GSM-text blandad med ersättningsbara tecken blir alltid ren GSM-7 efter ersättning."""
    assert analyse(replace_non_gsm(text)).encoding == GSM7


@given(mixed_text)
def test_analyse_invariants(text: str) -> None:
    """analyse kraschar aldrig, och resultatet hänger ihop med delarna för godtycklig text."""
    info = analyse(text)
    parts = split_parts(text)
    assert info.characters == len(text)
    assert info.segments == len(parts)
    assert (info.segments >= 1) == bool(text)
    assert (info.encoding == GSM7) == (not info.non_gsm_characters)
    assert 0 <= info.remaining <= info.per_segment


def units_in(text: str, encoding: str) -> int:
    """Oberoende kontrollräkning: septetter (utökningstecken dubbelt) eller UTF-16-enheter."""
    if encoding == GSM7:
        return len(text) + sum(char in GSM_EXTENSION_CHARACTERS for char in text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


@given(mixed_text)
def test_split_parts_properties(text: str) -> None:
    """Delarna blir tillsammans hela texten, och varje del ryms inom sin gräns."""
    info = analyse(text)
    parts = split_parts(text)
    assert "".join(parts) == text
    assert units_in(text, info.encoding) == info.units
    single_limit, part_limit = LIMITS[info.encoding]
    limit = single_limit if len(parts) == 1 else part_limit
    assert all(part and units_in(part, info.encoding) <= limit for part in parts)
