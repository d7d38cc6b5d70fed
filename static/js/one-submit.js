// Formulär som bara får skickas en gång (data-one-submit): sändsidan och kodstegen i inloggningen.
// Ett dubbelklick skickar annars samma formulär två gånger. På aktiveringen av tvåstegsverifiering
// skapade den första begäran reservkoderna medan webbläsaren visade svaret på den andra ("Koden
// stämmer inte"), så koderna, som bara visas en gång, syntes aldrig.
// En knapp med data-busy-text visar den texten medan formuläret är på väg (t.ex. "Skickar …").
// Ett annat skript spärrar formuläret genom att sätta form.dataset.sent = "true".
"use strict";

(function () {
  const forms = document.querySelectorAll("form[data-one-submit]");

  /** Knapparna som skickar formuläret. */
  function buttons(form) {
    return form.querySelectorAll("button[type=submit]");
  }

  forms.forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent === "true") {
        event.preventDefault(); // redan på väg (eller spärrat)
        return;
      }
      form.dataset.sent = "true";
      buttons(form).forEach(function (button) {
        button.setAttribute("aria-disabled", "true");
        if (button.dataset.busyText) {
          button.dataset.idleText = button.textContent;
          button.textContent = button.dataset.busyText;
        }
      });
    });
  });

  // Tillbaka-knappen kan visa sidan ur webbläsarens cache: då får formuläret skickas igen.
  window.addEventListener("pageshow", function () {
    forms.forEach(function (form) {
      form.dataset.sent = "false";
      buttons(form).forEach(function (button) {
        button.removeAttribute("aria-disabled");
        if (button.dataset.idleText) {
          button.textContent = button.dataset.idleText;
        }
      });
    });
  });
})();
