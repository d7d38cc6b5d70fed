/*
 * Regler för SMS-text i webbläsaren: teckenkodning, längd och uppdelning i delmeddelanden.
 *
 * Samma regler som common/smstext.py (Python-implementationen) och ska bete sig
 * exakt likadant; båda kontrolleras mot tests/fixtures/sms_vectors.json.
 *
 * - Enbart tecken ur GSM 03.38 ger GSM-7: grundtabellen kostar en septett per tecken,
 *   utökningstabellen två (escape-tecken plus tecknet).
 * - Minst ett tecken utanför GSM ger UCS-2 för hela meddelandet, räknat i
 *   UTF-16-enheter (emoji och andra tecken utanför BMP tar två).
 * - Ett SMS rymmer 160 septetter eller 70 enheter; längre meddelanden delas i delar
 *   om 153 respektive 67. Inget tecken delas mellan två delar, så tecknen packas girigt.
 *
 * Vanligt webbläsarskript utan byggsteg: definierar window.SmsText och fungerar även
 * under Node (module.exports) för testerna.
 */
const SmsText = (function () {
  "use strict";

  const GSM7 = "GSM-7";
  const UCS2 = "UCS-2";

  // Grundtabellen i GSM 03.38 (128 positioner) utan escape-tecknet 0x1B, i tabellordning.
  const GSM_BASIC_CHARACTERS = new Set(
    "@£$¥èéùìòÇ\nØø\rÅå" +
      "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ" +
      " !\"#¤%&'()*+,-./" +
      "0123456789:;<=>?" +
      "¡ABCDEFGHIJKLMNO" +
      "PQRSTUVWXYZÄÖÑÜ§" +
      "¿abcdefghijklmno" +
      "pqrstuvwxyzäöñüà"
  );

  // Utökningstabellen: varje tecken kostar två septetter (escape 0x1B plus tecknet).
  const GSM_EXTENSION_CHARACTERS = new Set("\f^{}\\[]~|€");

  // Gränser per kodning: ett enda SMS respektive per del när meddelandet delas upp.
  const LIMITS = {
    [GSM7]: { single: 160, part: 153 },
    [UCS2]: { single: 70, part: 67 },
  };

  // Vanliga tecken som tvingar fram UCS-2 och deras GSM-ersättningar.
  const SUGGESTED_REPLACEMENTS = Object.freeze({
    "\u201c": '"', // “ vänster citattecken
    "\u201d": '"', // ” höger citattecken
    "\u201e": '"', // „ nedre citattecken
    "\u2018": "'", // ‘ vänster apostrof
    "\u2019": "'", // ’ höger apostrof
    "\u201a": "'", // ‚ nedre apostrof
    "\u00b4": "'", // ´ akut accent
    "\u2013": "-", // – kort tankstreck
    "\u2014": "-", // — långt tankstreck
    "\u2022": "-", // • punkt i punktlista
    "\u2026": "...", // … ellips
    "\u00a0": " ", // hårt mellanslag
    "\u2009": " ", // smalt mellanslag
    "\u202f": " ", // smalt hårt mellanslag
  });

  /** Sant om tecknet finns i GSM 03.38 (grundtabellen eller utökningstabellen). */
  function isGsm(char) {
    return GSM_BASIC_CHARACTERS.has(char) || GSM_EXTENSION_CHARACTERS.has(char);
  }

  /** Tecknen (kodpunkter, inte UTF-16-enheter) i texten. */
  function charactersOf(text) {
    return Array.from(text);
  }

  /** Tecknen i texten som saknas i GSM 03.38, unika och i förekomstordning. */
  function nonGsmCharacters(chars) {
    return Array.from(new Set(chars.filter((char) => !isGsm(char))));
  }

  /** Antal enheter ett tecken tar: septetter för GSM-7, UTF-16-enheter för UCS-2. */
  function unitCost(char, encoding) {
    if (encoding === GSM7) {
      return GSM_EXTENSION_CHARACTERS.has(char) ? 2 : 1;
    }
    return char.codePointAt(0) > 0xffff ? 2 : 1;
  }

  /** Summan av enheterna för en lista med tecken. */
  function unitsOf(chars, encoding) {
    return chars.reduce((sum, char) => sum + unitCost(char, encoding), 0);
  }

  /** Packar tecknen girigt i delar (listor med tecken) utan att dela något tecken. */
  function pack(chars, encoding) {
    const limits = LIMITS[encoding];
    if (chars.length === 0) {
      return [];
    }
    if (unitsOf(chars, encoding) <= limits.single) {
      return [chars];
    }
    const parts = [];
    let current = [];
    let used = 0;
    for (const char of chars) {
      const cost = unitCost(char, encoding);
      if (used + cost > limits.part) {
        parts.push(current);
        current = [];
        used = 0;
      }
      current.push(char);
      used += cost;
    }
    parts.push(current);
    return parts;
  }

  /** Kodningen och de tecken som tvingar fram UCS-2. */
  function encodingOf(chars) {
    const nonGsm = nonGsmCharacters(chars);
    return { encoding: nonGsm.length === 0 ? GSM7 : UCS2, nonGsm: nonGsm };
  }

  /** Delar texten i de delmeddelanden som skulle skickas (tom lista för tom text). */
  function splitParts(text) {
    const chars = charactersOf(text);
    return pack(chars, encodingOf(chars).encoding).map((part) => part.join(""));
  }

  /** Analyserar en SMS-text: kodning, längd, antal SMS och utrymme kvar. */
  function analyse(text) {
    const chars = charactersOf(text);
    const { encoding, nonGsm } = encodingOf(chars);
    const parts = pack(chars, encoding);
    const limits = LIMITS[encoding];
    const perSegment = parts.length > 1 ? limits.part : limits.single;
    const lastUnits = parts.length > 0 ? unitsOf(parts[parts.length - 1], encoding) : 0;
    return {
      encoding: encoding,
      characters: chars.length,
      units: unitsOf(chars, encoding),
      segments: parts.length,
      perSegment: perSegment,
      remaining: perSegment - lastUnits,
      nonGsmCharacters: nonGsm,
    };
  }

  /** Byter ut vanliga UCS-2-tecken (typografiska citattecken, tankstreck m.m.) mot GSM-tecken. */
  function replaceNonGsm(text) {
    return charactersOf(text)
      .map((char) => (Object.hasOwn(SUGGESTED_REPLACEMENTS, char) ? SUGGESTED_REPLACEMENTS[char] : char))
      .join("");
  }

  return Object.freeze({ analyse, replaceNonGsm, splitParts, SUGGESTED_REPLACEMENTS });
})();

if (typeof window !== "undefined") {
  window.SmsText = SmsText;
}
if (typeof module !== "undefined") {
  module.exports = SmsText;
}
