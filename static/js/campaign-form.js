/*
 * Formuläret för en ny kampanj: fälten för grupper (antal per grupp, minuter mellan grupper,
 * paus vid JA) går bara att ändra när "Skicka i grupper" är valt. Utan skript är de alltid
 * öppna, och servern bortser från dem när "Skicka alla på en gång" är valt.
 */
(function () {
  "use strict";

  const fields = document.querySelector("[data-wave-fields]");
  const choices = document.querySelectorAll("input[name=send_mode]");
  if (!fields || !choices.length) {
    return;
  }

  /** Öppnar eller stänger gruppfälten efter valt sändningssätt. */
  function update() {
    const chosen = document.querySelector("input[name=send_mode]:checked");
    fields.disabled = !chosen || chosen.value !== "grupper";
  }

  choices.forEach(function (choice) {
    choice.addEventListener("change", update);
  });
  update();
})();
