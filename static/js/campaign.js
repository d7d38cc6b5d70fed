/*
 * Personalens kampanjsida: frågar en gång till innan en knapp med data-confirm ("Tiden är
 * tillsatt", "Avsluta", "Bokad", "Nådde inte", "Tackade nej i telefon", "Öppna igen" …) skickas,
 * och skickar varje formulär högst en gång (ett dubbelklick blir ett tryck), även "Skicka nästa
 * grupp nu" och "Lägg till mottagare". Formulären på raderna ritas om av liveuppdateringen,
 * därför lyssnar sidan på hela dokumentet. Utan skript skickas formulären direkt (servern tål
 * ändå dubbla tryck).
 */
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post") {
      return;
    }
    if (form.dataset.sending === "1") {
      event.preventDefault(); // redan skickat: andra klicket i ett dubbelklick
      return;
    }
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    if (form.dataset.fetch !== undefined) {
      return; // skickas av sidans skript (t.ex. "Visa nummer"), som själv spärrar dubbla tryck
    }
    form.dataset.sending = "1";
    // Knappen spärras efter att formuläret tagits emot av webbläsaren (fälten är dolda inmatningar).
    window.setTimeout(function () {
      form.querySelectorAll("button").forEach(function (button) {
        button.disabled = true;
      });
    }, 0);
  });

  // Tillbaka från webbläsarens cache (bakåtknappen): knapparna går att trycka igen.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      document.querySelectorAll("form[data-sending]").forEach(function (form) {
        delete form.dataset.sending;
        form.querySelectorAll("button").forEach(function (button) {
          button.disabled = false;
        });
      });
    }
  });
})();
