/*
 * Patientens svarssida: meddelar att en människa öppnat sidan (förhandsvisningar i
 * meddelandeappar kör inga skript, så en GET räknas aldrig som öppnad) och hindrar
 * dubbelklick. Sidan fungerar lika bra utan skript.
 */
(function () {
  "use strict";

  const form = document.querySelector("form[data-opened-url]");
  if (!form) {
    return;
  }
  const token = form.querySelector("input[name=csrfmiddlewaretoken]");
  fetch(form.dataset.openedUrl, {
    method: "POST",
    credentials: "same-origin",
    headers: { "X-CSRFToken": token ? token.value : "" },
  }).catch(function () {
    // Ingen fara: öppnad-markeringen är bara information till personalen.
  });

  let sent = false;
  form.addEventListener("submit", function (event) {
    if (sent) {
      event.preventDefault();
    }
    sent = true;
  });
})();
