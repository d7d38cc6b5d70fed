/*
 * Kör static/js/smstext.js mot en lista med SMS-texter under Node och skriver resultaten
 * som JSON på stdout (en post per text, i samma ordning).
 *
 * Användning: node tests/js/run_sms_vectors.js [fil.json]
 * Filen innehåller en lista med objekt som har fälten "name" och "text"; utan argument
 * används de gemensamma testvektorerna i tests/fixtures/sms_vectors.json.
 */
"use strict";

const fs = require("fs");
const path = require("path");
const SmsText = require(path.join(__dirname, "..", "..", "static", "js", "smstext.js"));

const vectorsPath = process.argv[2] || path.join(__dirname, "..", "fixtures", "sms_vectors.json");
const vectors = JSON.parse(fs.readFileSync(vectorsPath, "utf8"));

const results = vectors.map((vector) => ({
  name: vector.name,
  ...SmsText.analyse(vector.text),
  parts: SmsText.splitParts(vector.text),
  replaced: SmsText.replaceNonGsm(vector.text),
}));
process.stdout.write(JSON.stringify({ results, replacements: SmsText.SUGGESTED_REPLACEMENTS }));
