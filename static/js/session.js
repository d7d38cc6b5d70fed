/*
 * Sessionsvakt: frågar då och då hur länge sessionen räcker (utan att förlänga den),
 * varnar två minuter före utloggning – i sidan och i flikens titel, så att det syns även
 * när fliken ligger i bakgrunden – och visar direkt när personalen har loggats ut, så att
 * ingen hinner fylla i ett formulär som sedan går förlorat.
 *
 * Utloggningen meddelas mellan sidans skript med händelsen "portal:utloggad" på document
 * (kampanjsidan märker den ofta först, via sin websocket).
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
  const titleElement = document.querySelector("title");
  const WARN_SECONDS = 120;
  const POLL_MS = 30000;
  const TITLE_PREFIX = /^Loggas ut om \d+ min – /;
  let timer = null;
  let titlePrefix = "";
  let loggedOut = false;

  /** Visar varningen med given text; knappen eller inloggningslänken efter läget. */
  function show(message, expired) {
    text.textContent = message;
    button.hidden = expired;
    loginLink.hidden = !expired;
    banner.hidden = false;
  }

  /** Flikens titel börjar med `prefix` (tom sträng: ingen varning) även när sidan själv byter titel. */
  function setTitlePrefix(prefix) {
    titlePrefix = prefix;
    applyTitlePrefix();
  }

  /** Lägger på (eller tar bort) varningen först i titeln; ändrar bara när det behövs. */
  function applyTitlePrefix() {
    const wanted = titlePrefix + document.title.replace(TITLE_PREFIX, "");
    if (document.title !== wanted) {
      document.title = wanted;
    }
  }

  /** Utloggad: varningsraden med inloggningslänk, och menyraden säger inte längre "Inloggad som". */
  function markLoggedOut() {
    window.clearTimeout(timer);
    setTitlePrefix("");
    show("Du har loggats ut. Logga in igen innan du fortsätter.", true);
    document.querySelectorAll("[data-session-user]").forEach(function (element) {
      element.hidden = true;
    });
    if (!loggedOut) {
      loggedOut = true;
      document.dispatchEvent(new CustomEvent("portal:utloggad"));
    }
  }

  /** Tolkar svaret från statusadressen och uppdaterar varningen. */
  function update(state) {
    if (!state.inloggad) {
      markLoggedOut();
      return false;
    }
    if (state.sekunder_kvar <= WARN_SECONDS) {
      const minutes = Math.max(1, Math.ceil(state.sekunder_kvar / 60));
      show("Du loggas ut om " + minutes + " min på grund av inaktivitet.", false);
      setTitlePrefix("Loggas ut om " + minutes + " min – ");
    } else {
      banner.hidden = true;
      setTitlePrefix("");
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
  if (titleElement) {
    // Sidans egna skript (t.ex. kampanjsidans JA-räknare) byter titel: varningen ligger kvar först.
    new MutationObserver(applyTitlePrefix).observe(titleElement, { childList: true, characterData: true, subtree: true });
  }
  document.addEventListener("portal:utloggad", function () {
    if (!loggedOut) {
      loggedOut = true;
      markLoggedOut();
    }
  });
  timer = window.setTimeout(poll, POLL_MS);
  document.addEventListener("visibilitychange", function () {
    // När fliken visas igen efter en lång paus: fråga genast (inte efter utloggning).
    if (document.visibilityState === "visible" && !loggedOut) {
      window.clearTimeout(timer);
      poll();
    }
  });
})();
