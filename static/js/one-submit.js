// Formulär som bara får skickas en gång (data-one-submit): kodstegen i inloggningen.
// Ett dubbelklick på "Aktivera" skickade annars samma kod två gånger. Den första begäran
// aktiverade appen och skapade reservkoderna, men webbläsaren visade svaret på den andra:
// "Koden stämmer inte" eller "Formuläret har gått ut". Reservkoderna, som bara visas en gång,
// syntes då aldrig, och den andra koden räknades som ett misslyckat försök.
"use strict";

(function () {
  const forms = document.querySelectorAll("form[data-one-submit]");

  forms.forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent === "true") {
        event.preventDefault(); // redan på väg
        return;
      }
      form.dataset.sent = "true";
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        button.setAttribute("aria-disabled", "true");
      });
    });
  });

  // Tillbaka-knappen kan visa sidan ur webbläsarens cache: då får formuläret skickas igen.
  window.addEventListener("pageshow", function () {
    forms.forEach(function (form) {
      form.dataset.sent = "false";
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        button.removeAttribute("aria-disabled");
      });
    });
  });
})();
