/*
 * Mallredigering i Django admin: förhandsgranskningen visar exakt SMS (text, länk,
 * signatur) och antal SMS-delar medan administratören skriver.
 */
(function () {
  "use strict";

  const LINK_PLACEHOLDER = "[LÄNK]";

  /** Samma sammansättning som templates_app.models.render_sms_text. */
  function renderSmsText(text, link, signature) {
    let body = text.trim();
    link = link.trim();
    if (link) {
      body = body.includes(LINK_PLACEHOLDER) ? body.split(LINK_PLACEHOLDER).join(link) : body + " " + link;
    }
    signature = signature.trim();
    return signature ? body + "\n" + signature : body;
  }

  /** Kort beskrivning: tecken, kodning och antal SMS-delar. */
  function describe(info) {
    const parts = info.segments === 1 ? "1 SMS-del" : info.segments + " SMS-delar";
    return info.characters + " tecken, " + info.encoding + ", " + parts;
  }

  document.addEventListener("DOMContentLoaded", function () {
    const preview = document.querySelector("[data-sms-preview]");
    const count = document.querySelector("[data-sms-preview-count]");
    const text = document.getElementById("id_text");
    const link = document.getElementById("id_link");
    if (!preview || !text || !link || !window.SmsText) {
      return;
    }
    function update() {
      const sms = renderSmsText(text.value, link.value, preview.dataset.signature || "");
      preview.textContent = sms;
      count.textContent = describe(window.SmsText.analyse(sms));
    }
    text.addEventListener("input", update);
    link.addEventListener("input", update);
    update();
  });
})();
