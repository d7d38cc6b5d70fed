/*
 * Personalens kampanjsida: frågar en gång till innan "Tiden är tillsatt" eller "Avsluta"
 * stänger alla patienters länkar. Utan skript skickas formulären direkt.
 */
(function () {
  "use strict";

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
      }
    });
  });
})();
