/*
 * Sändsidan: klick på en mall fyller texten, räknaren visar tecken, kodning och SMS-delar,
 * förhandsgranskningen visar exakt SMS (med signatur). Knappen kan bara tryckas en gång (js/one-submit.js).
 */
(function () {
  "use strict";

  const form = document.getElementById("send-form");
  if (!form || !window.SmsText) {
    return;
  }
  const templateInput = form.querySelector("input[name=template]");
  const phone = form.querySelector("input[name=phone]");
  const body = form.querySelector("textarea[name=body]");
  const preview = form.querySelector("[data-sms-preview]");
  const counter = document.getElementById("sms-raknare");
  const warning = document.getElementById("ucs2-varning");
  const sendButton = form.querySelector("[data-send-button]");
  const templateButtons = Array.from(form.querySelectorAll("[data-template-id]"));
  const signature = form.dataset.signature || "";

  /** Exakt SMS: texten och signaturen på egen rad (som templates_app.models.with_signature). */
  function smsText() {
    const text = body.value.trim();
    if (!text) {
      return "";
    }
    return signature.trim() ? text + "\n" + signature.trim() : text;
  }

  /** Visar tecken, kodning och delar; varnar för fler delar och för tecken som ger UCS-2. */
  function update() {
    const text = smsText();
    const info = window.SmsText.analyse(text);
    preview.textContent = text;
    const parts = info.segments === 1 ? "1 SMS-del" : info.segments + " SMS-delar";
    counter.textContent = info.characters + " tecken · " + info.encoding + " · " + parts +
      (info.segments > 1 ? " – längre än ett SMS, kostar " + info.segments + " gånger så mycket." : "");
    counter.classList.toggle("text-danger", info.segments > 1);
    counter.classList.toggle("fw-semibold", info.segments > 1);
    if (info.nonGsmCharacters.length > 0) {
      const names = info.nonGsmCharacters.map(characterName);
      // Knappen bara när något går att byta; en emoji har ingen vanlig motsvarighet.
      const replaceable = info.nonGsmCharacters.filter(function (character) {
        return Object.hasOwn(window.SmsText.SUGGESTED_REPLACEMENTS, character);
      });
      const byHand = replaceable.length < info.nonGsmCharacters.length
        ? " Tecken utan vanlig motsvarighet (t.ex. emoji) tas bort för hand."
        : "";
      warning.querySelector("[data-ucs2-text]").textContent =
        "Dessa tecken gör att SMS:et kodas som UCS-2 (70 tecken per del i stället för 160): " +
        names.join(", ") + "." + byHand;
      warning.querySelector("[data-ucs2-replace]").hidden = replaceable.length === 0;
      warning.hidden = false;
    } else {
      warning.hidden = true;
    }
  }

  // Begripliga namn på vanliga tecken som tvingar fram UCS-2.
  const CHARACTER_NAMES = {
    "\u201c": "typografiskt citattecken “", "\u201d": "typografiskt citattecken ”",
    "\u201e": "typografiskt citattecken „", "\u2018": "typografisk apostrof ‘",
    "\u2019": "typografisk apostrof ’", "\u2013": "tankstreck –", "\u2014": "långt tankstreck —",
    "\u2026": "tre punkter …", "\u00a0": "hårt mellanslag", "\u2009": "smalt mellanslag",
    "\u202f": "smalt hårt mellanslag",
  };

  /** Namnet på ett tecken som ger UCS-2 (eller tecknet självt, t.ex. en emoji). */
  function characterName(character) {
    return CHARACTER_NAMES[character] || character;
  }

  /** Markerar vald mall (synligt och för skärmläsare). */
  function markSelected(id) {
    templateButtons.forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.dataset.templateId === id));
    });
  }

  templateButtons.forEach(function (button) {
    button.addEventListener("click", function () {
      templateInput.value = button.dataset.templateId;
      body.value = button.dataset.templateBody;
      markSelected(button.dataset.templateId);
      update();
      phone.focus();
    });
  });

  warning.querySelector("[data-ucs2-replace]").addEventListener("click", function () {
    body.value = window.SmsText.replaceNonGsm(body.value);
    update();
    body.focus();
  });

  body.addEventListener("input", update);

  // Utloggad (sessionsvakten, static/js/session.js): inget kan skickas härifrån. Knappen stängs och
  // säger det, och numret tas bort från skärmen (receptionens dator kan stå obevakad), som
  // kampanjsidan döljer namnen. Förut såg knappen ut att fungera och ledde till inloggningen,
  // där ingenting sade att SMS:et inte hade skickats.
  document.addEventListener("portal:utloggad", function () {
    phone.value = "";
    form.dataset.sent = "true"; // samma spärr som mot dubbelklick (js/one-submit.js)
    sendButton.textContent = "Utloggad – SMS:et skickas inte. Logga in igen.";
    sendButton.setAttribute("aria-disabled", "true");
  });

  markSelected(templateInput.value);
  update();
  if (!templateInput.value && templateButtons.length > 0) {
    templateButtons[0].focus();
  } else if (templateInput.value && !phone.value) {
    phone.focus();
  }
})();
