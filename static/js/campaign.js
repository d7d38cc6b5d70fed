/*
 * Personalens kampanjsida: frågar en gång till innan "Tiden är tillsatt" eller "Avsluta"
 * stänger alla patienters länkar, och skickar "Skicka nästa grupp nu" och "Lägg till
 * mottagare" bara en gång per klick (ett dubbelklick blir ett). Utan skript skickas
 * formulären direkt (servern tål ändå dubbla POST).
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

  document.querySelectorAll("form[data-submit-once]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.submitted === "1") {
        event.preventDefault();
        return;
      }
      form.dataset.submitted = "1";
      const button = form.querySelector("button[type=submit]");
      if (button) {
        // Efter att formuläret skickats: knappen gråas ut tills nästa sida visas.
        window.setTimeout(function () { button.disabled = true; }, 0);
      }
    });
  });
})();
