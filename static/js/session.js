/*
 * Sessionsvakt: frågar då och då hur länge sessionen räcker (utan att förlänga den),
 * varnar två minuter före utloggning och visar direkt när personalen har loggats ut,
 * så att ingen hinner fylla i ett formulär som sedan går förlorat.
 */
(function () {
  "use strict";

  const body = document.body;
  const statusUrl = body.dataset.sessionUrl;
  const keepAliveUrl = body.dataset.keepaliveUrl;
  const banner = document.getElementById("session-varning");
  if (!statusUrl || !banner) {
    return;
  }
  const text = banner.querySelector("[data-session-text]");
  const button = banner.querySelector("[data-session-keepalive]");
  const loginLink = banner.querySelector("[data-session-login]");
  const WARN_SECONDS = 120;
  const POLL_MS = 30000;
  let timer = null;

  /** Visar varningen med given text; knappen eller inloggningslänken efter läget. */
  function show(message, expired) {
    text.textContent = message;
    button.hidden = expired;
    loginLink.hidden = !expired;
    banner.hidden = false;
  }

  /** Tolkar svaret från statusadressen och uppdaterar varningen. */
  function update(state) {
    if (!state.inloggad) {
      show("Du har loggats ut på grund av inaktivitet. Logga in igen innan du fortsätter.", true);
      return false;
    }
    if (state.sekunder_kvar <= WARN_SECONDS) {
      const minutes = Math.max(1, Math.ceil(state.sekunder_kvar / 60));
      show("Du loggas ut om " + minutes + " min på grund av inaktivitet.", false);
    } else {
      banner.hidden = true;
    }
    return true;
  }

  /** Frågar servern; bakgrundsanropet förlänger aldrig sessionen. */
  async function poll() {
    try {
      const response = await fetch(statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
      const state = await response.json();
      if (update(state)) {
        timer = window.setTimeout(poll, POLL_MS);
      }
    } catch (error) {
      // Nätverksfel: försök igen senare, utan att störa personalen.
      timer = window.setTimeout(poll, POLL_MS);
    }
  }

  /** "Fortsätt vara inloggad": en egen handling som förlänger sessionen. */
  async function keepAlive() {
    const token = document.querySelector("input[name=csrfmiddlewaretoken]");
    const response = await fetch(keepAliveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": token ? token.value : "", Accept: "application/json" },
    });
    if (response.ok) {
      update(await response.json());
    } else {
      update({ inloggad: false, sekunder_kvar: 0 });
    }
  }

  button.addEventListener("click", keepAlive);
  timer = window.setTimeout(poll, POLL_MS);
  document.addEventListener("visibilitychange", function () {
    // När fliken visas igen efter en lång paus: fråga genast.
    if (document.visibilityState === "visible") {
      window.clearTimeout(timer);
      poll();
    }
  });
})();
