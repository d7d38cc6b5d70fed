/*
 * Personalens kampanjsida i realtid: en websocket skickar kampanjens hela läge efter varje
 * ändring, och sidan ritar om räknare, förlopp, rader och status utan omladdning.
 *
 * Vid varje nytt JA: raden blinkar till, ett kort ljud spelas (efter att personalen slagit på
 * ljudet med ett klick – webbläsare spelar inget ljud före ett klick) och fliken visar antalet,
 * t.ex. "(1) JA – Akut-SMS 5/12 kl 08:00 – Södermalms Ortopedi". Är websocketen nere frågar sidan statusadressen var 5:e sekund
 * (det förlänger aldrig sessionen) och försöker koppla upp igen med växande väntetid.
 *
 * När sessionen tar slut (inaktivitet, utloggning i en annan flik) tas namn, nummer och
 * svarsdetaljer bort från sidan. Är kampanjen öppen fortsätter sidan ändå att larma om nya JA:
 * med nyckeln den fick när den visades öppnar den JA-signalen (/ws/campaigns/<id>/ja/), som bara
 * säger hur många som svarat JA. Ett nytt JA ger ljud (om påslaget), titeln "(1) Nytt JA –
 * logga in" och en banderoll; inloggningslänken leder tillbaka till samma kampanj.
 *
 * Namn är patientuppgifter: allt skrivs med textContent, aldrig som HTML.
 * Läget syns i data-live-state på sidelementet: connecting / live / polling / expired / deleted,
 * och efter utloggning i data-watch-state: watching / ended / deleted / refused.
 */
(function () {
  "use strict";

  const root = document.getElementById("kampanjsida");
  if (!root || !("WebSocket" in window) || !("fetch" in window)) {
    return;
  }

  const POLL_MS = 5000;
  const MAX_BACKOFF_S = 30;
  // Så länge sidan väntar på websocketens första läge innan den börjar polla (en socket som
  // öppnats men aldrig svarar, t.ex. när servern inte når Redis, får inte lämna sidan stilla).
  const FIRST_SNAPSHOT_MS = 5000;
  const HIGHLIGHT_MS = 6000;
  const SOUND_KEY = "akutsms.ljud";
  const TEXT_DOWN = "Liveuppdateringen är nere – hämtar läget var 5:e sekund";
  const TEXT_EXPIRED = "Du har loggats ut – logga in igen";
  const TEXT_DELETED = "Kampanjen finns inte längre: den har raderats.";
  const TEXT_WATCHING = "Du har loggats ut. Sidan larmar ändå när någon svarar JA – logga in igen för att se vem.";
  const TEXT_ENDED = "Du har loggats ut. Kampanjen är inte längre öppen – logga in igen för att se svaren.";

  // Utan websocketadress (sidan serverades via WSGI) finns ingen websocket: bara polling.
  const wsPath = root.dataset.wsPath || "";
  const wsBase = (location.protocol === "https:" ? "wss:" : "ws:") + "//" + location.host;
  const wsUrl = wsBase + wsPath;
  // JA-signalen efter utloggning (bara för en öppen kampanj): adress och nyckel.
  const watchPath = root.dataset.watchPath || "";
  const watchToken = root.dataset.watchToken || "";
  const snapshotUrl = root.dataset.snapshotUrl;
  const tbody = root.querySelector("[data-testid=mottagare] tbody");
  const statusBadge = root.querySelector("[data-testid=kampanjstatus]");
  const liveBadge = root.querySelector("[data-live-badge]");
  const message = root.querySelector("[data-live-message]");
  const messageText = root.querySelector("[data-live-text]");
  const loginLink = root.querySelector("[data-live-login]");
  const soundButton = root.querySelector("[data-sound-toggle]");
  const audio = document.getElementById("ja-ljud");
  const openActions = root.querySelector("[data-open-actions]");
  const wavesSection = root.querySelector("[data-waves]");
  const addSection = root.querySelector("[data-add-recipients]");
  const announcer = root.querySelector("[data-live-announce]");
  const progress = root.querySelector("progress");
  const hint = root.querySelector("[data-live-hint]");
  const plainTitle = document.title;
  const outcomeUrl = root.dataset.outcomeUrl;
  const csrfToken = root.dataset.csrfToken || "";
  const bookedBox = root.querySelector("[data-booked]");
  const bookedText = root.querySelector("[data-booked-text]");
  const reopenForm = root.querySelector("[data-reopen]");
  const revealUrl = root.dataset.revealUrl;
  const thanksBox = root.querySelector("[data-thanks]");
  // "Visa nummer": visade nummer per mottagare (bara i sidans minne; glöms vid utloggning).
  const revealed = new Map();
  // Knapparna på en JA-rad (samma som campaigns.outcomes.CALL_BUTTONS): utfall, text, stil, fråga.
  const CALL_BUTTONS = [
    ["booked", "Bokad", "btn-success",
      "Bokad – fick patienten tiden? Kampanjen blir tillsatt och alla andra patienters länkar visar att tiden är tagen."],
    ["not_reached", "Nådde inte", "btn-outline-dark", "Nådde du inte patienten? Ring först flyttas till nästa JA."],
    ["declined", "Tackade nej i telefon", "btn-outline-dark",
      "Tackade patienten nej i telefon? Ring först flyttas till nästa JA."],
  ];

  let socket = null;
  let stopped = false; // utloggad eller sidan lämnas: inga fler försök
  let attempt = 0; // antal misslyckade uppkopplingar i rad (för väntetiden)
  let reconnectTimer = null;
  let pollTimer = null;
  let soundOn = false;
  let unlocked = false; // har personalen klickat på sidan (får ljud spelas)?
  let campaignOpen = root.dataset.open === "ja";
  // Efter utloggning: JA-signalens socket, antal JA senast kända och nya JA sedan utloggningen.
  let watching = false;
  let watchSocket = null;
  let watchTimer = null;
  let watchAttempt = 0;
  let knownYes = 0;
  let newYesAfterLogout = 0;

  // Svaren som sidan redan visar (från serverns rendering): bara det som ändras därefter larmar.
  let previousAnswers = new Map();
  const rowElements = new Map();
  tbody.querySelectorAll("tr[data-recipient-id]").forEach(function (tr) {
    previousAnswers.set(tr.dataset.recipientId, tr.dataset.answer || "");
    rowElements.set(tr.dataset.recipientId, tr);
  });

  // --- Läge och meddelanden -------------------------------------------------------------

  /** Sätter läget (för test och CSS), Live-märket och meddelanderaden. */
  function setState(state) {
    root.dataset.liveState = state;
    liveBadge.hidden = state !== "live";
    if (state === "polling") {
      showMessage(TEXT_DOWN, false);
    } else if (state === "expired") {
      showMessage(TEXT_EXPIRED, true);
    } else if (state === "deleted") {
      showMessage(TEXT_DELETED, false);
      hideStaffActions(); // inget kvar att tillsätta, avsluta, öppna igen eller skicka
      soundButton.hidden = true;
    } else {
      message.hidden = true;
    }
  }

  /** Visar meddelanderaden; inloggningslänken bara när personalen har loggats ut. */
  function showMessage(text, expired) {
    messageText.textContent = text;
    loginLink.hidden = !expired;
    message.classList.toggle("alert-warning", !expired);
    message.classList.toggle("alert-danger", expired);
    message.hidden = false;
  }

  // --- Websocket ------------------------------------------------------------------------

  /** Kopplar upp websocketen; vid avbrott polling och nytt försök med växande väntetid. */
  function connect() {
    reconnectTimer = null;
    if (stopped) {
      return;
    }
    window.setTimeout(function () {
      if (!stopped && root.dataset.liveState !== "live") {
        startPolling();
      }
    }, FIRST_SNAPSHOT_MS);
    let ws;
    try {
      ws = new WebSocket(wsUrl);
    } catch (error) {
      scheduleReconnect();
      return;
    }
    socket = ws;
    ws.addEventListener("message", function (event) {
      let data;
      try {
        data = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      if (data.type === "snapshot" && data.data) {
        // Live först när första läget kommit: en socket som öppnas och genast stängs räknas inte.
        if (root.dataset.liveState !== "live") {
          attempt = 0;
          stopPolling();
          setState("live");
        }
        render(data.data);
      } else if (data.type === "session_expired") {
        expire();
      } else if (data.type === "deleted") {
        stop("deleted");
      }
    });
    ws.addEventListener("close", function (event) {
      if (socket !== ws) {
        return;
      }
      socket = null;
      if (stopped) {
        return;
      }
      if (event.code === 4401) {
        expire();
        return;
      }
      if (event.code === 4404) {
        stop("deleted");
        return;
      }
      // Avbrott som vi inte själva begärt: visa det, hämta läget med polling och försök igen.
      startPolling();
      scheduleReconnect();
    });
    // Ett fel följs alltid av "close"; där hanteras avbrottet.
  }

  /** Nästa uppkopplingsförsök om 1, 2, 4 … högst 30 sekunder. */
  function scheduleReconnect() {
    if (stopped || reconnectTimer !== null || !wsPath) {
      return;
    }
    const seconds = Math.min(MAX_BACKOFF_S, Math.pow(2, attempt));
    attempt += 1;
    reconnectTimer = window.setTimeout(connect, seconds * 1000);
  }

  /** Utloggad: sluta lyssna och fråga, ta bort persondata och fortsätt larma om nya JA. */
  function expire() {
    if (root.dataset.liveState === "expired") {
      return;
    }
    if (root.dataset.liveState === "deleted") {
      forgetPersonalData(); // raderad kampanj: inget att larma om, men inga namn kvar
      return;
    }
    stop("expired");
    forgetPersonalData();
    // Sessionsvakten (session.js) visar utloggningen i menyraden och varningsraden.
    document.dispatchEvent(new CustomEvent("portal:utloggad"));
    watchAfterLogout();
  }

  /** Tar bort namn, nummer och svarsdetaljer från sidan (de visas igen efter inloggning). */
  function forgetPersonalData() {
    root.querySelectorAll("[data-personal]").forEach(function (element) {
      element.remove();
    });
    root.querySelectorAll("[data-personal-hidden]").forEach(function (element) {
      element.hidden = false;
    });
    rowElements.clear();
    revealed.clear();
    previousAnswers = new Map();
    announcer.textContent = "";
    hideStaffActions(); // knapparna kräver inloggning
  }

  /** Slutar både lyssna och fråga och visar varför (utloggad eller kampanjen raderad). */
  function stop(state) {
    stopped = true;
    stopPolling();
    window.clearTimeout(reconnectTimer);
    if (socket) {
      const ws = socket;
      socket = null;
      ws.close();
    }
    setState(state);
  }

  // --- JA-signalen efter utloggning --------------------------------------------------------

  /** Börjar lyssna efter nya JA utan session (bara en öppen kampanj med nyckel och websocket). */
  function watchAfterLogout() {
    if (!watchPath || !watchToken || !campaignOpen) {
      return;
    }
    watching = true;
    knownYes = Number(root.querySelector("[data-testid=ja]").textContent) || 0;
    root.dataset.watchState = "watching";
    showMessage(TEXT_WATCHING, true);
    openWatch();
  }

  /** Öppnar JA-signalens socket och skickar nyckeln; vid avbrott nytt försök med växande väntetid. */
  function openWatch() {
    watchTimer = null;
    if (!watching) {
      return;
    }
    let ws;
    try {
      ws = new WebSocket(wsBase + watchPath);
    } catch (error) {
      scheduleWatch();
      return;
    }
    watchSocket = ws;
    ws.addEventListener("open", function () {
      ws.send(JSON.stringify({ token: watchToken }));
    });
    ws.addEventListener("message", function (event) {
      let data;
      try {
        data = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      if (data.type === "yes_count") {
        watchAttempt = 0;
        onYesCount(Number(data.yes) || 0);
      } else if (data.type === "ended" || data.type === "deleted") {
        endWatch(data.type);
      }
    });
    ws.addEventListener("close", function (event) {
      if (watchSocket !== ws) {
        return;
      }
      watchSocket = null;
      if (!watching) {
        return;
      }
      const finalStates = { 4410: "ended", 4404: "deleted", 4401: "refused" };
      if (finalStates[event.code]) {
        endWatch(finalStates[event.code]);
      } else {
        scheduleWatch();
      }
    });
  }

  /** Nästa försök att öppna JA-signalen om 1, 2, 4 … högst 30 sekunder. */
  function scheduleWatch() {
    if (!watching || watchTimer !== null) {
      return;
    }
    const seconds = Math.min(MAX_BACKOFF_S, Math.pow(2, watchAttempt));
    watchAttempt += 1;
    watchTimer = window.setTimeout(openWatch, seconds * 1000);
  }

  /** Slutar lyssna på JA-signalen (sidan lämnas, eller kampanjen är slut). */
  function stopWatching() {
    watching = false;
    window.clearTimeout(watchTimer);
    watchTimer = null;
    if (watchSocket) {
      const ws = watchSocket;
      watchSocket = null;
      ws.close();
    }
  }

  /** Kampanjen tillsatt, avslutad, passerad eller raderad: inga fler JA att larma om. */
  function endWatch(state) {
    stopWatching();
    root.dataset.watchState = state;
    soundButton.hidden = true;
    if (newYesAfterLogout === 0) {
      showMessage(state === "deleted" ? TEXT_DELETED : TEXT_ENDED, true);
    }
  }

  /** Nytt antal JA från signalen: fler än förut betyder nya JA sedan utloggningen. */
  function onYesCount(yes) {
    root.dataset.watchYes = String(yes); // för tester: signalen är igång
    setText("ja", String(yes)); // antalet är ingen persondata; vilka som svarat visas först efter inloggning
    if (yes > knownYes) {
      newYesAfterLogout += yes - knownYes;
      announceYesAfterLogout(yes - knownYes);
    }
    knownYes = yes;
  }

  /** Titel, banderoll, uppläsning, ljud och notis om nya JA – utan namn eller detaljer. */
  function announceYesAfterLogout(count) {
    document.title = "(" + newYesAfterLogout + ") Nytt JA – logga in – " + plainTitle;
    showMessage(
      (newYesAfterLogout === 1 ? "Nytt JA från en patient!" : newYesAfterLogout + " nya JA från patienter!") +
        " Logga in igen för att se vem och ringa.",
      true
    );
    message.dataset.newYes = String(newYesAfterLogout);
    announcer.textContent = "Nytt JA. Logga in igen för att se vem.";
    ring(count);
  }

  // --- Polling när websocketen är nere -----------------------------------------------------

  /** Börjar fråga statusadressen var 5:e sekund (om det inte redan pågår). */
  function startPolling() {
    if (pollTimer !== null || stopped) {
      return;
    }
    setState("polling");
    poll();
  }

  /** Slutar fråga statusadressen. */
  function stopPolling() {
    window.clearTimeout(pollTimer);
    pollTimer = null;
  }

  /** En fråga till statusadressen; en omdirigering (inloggningssidan) betyder utloggad. */
  async function poll() {
    pollTimer = window.setTimeout(poll, POLL_MS);
    let response;
    try {
      response = await fetch(snapshotUrl, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        cache: "no-store",
      });
    } catch (error) {
      return; // nätverksfel: nästa fråga om 5 sekunder
    }
    if (pollTimer === null || stopped) {
      return; // websocketen kom tillbaka under tiden
    }
    const type = response.headers.get("Content-Type") || "";
    if (response.redirected || response.status === 401 || response.status === 403 ||
        (response.ok && type.indexOf("application/json") === -1)) {
      expire();
      return;
    }
    if (response.status === 404) {
      stop("deleted");
      return;
    }
    if (!response.ok) {
      return; // tillfälligt serverfel: försök igen
    }
    try {
      render(await response.json());
    } catch (error) {
      // Trasigt svar: nästa fråga får visa läget.
    }
  }

  // --- Ritning ----------------------------------------------------------------------------

  /** Ritar om hela sidan från ett läge (samma format som dashboard.snapshot()). */
  function render(snapshot) {
    const counts = snapshot.counts;
    setText("skickade", counts.sent + "/" + counts.total);
    setText("ja", String(counts.yes));
    setText("nej", String(counts.no));
    setText("vantar", String(counts.waiting));
    setText("framsteg", "Skickade " + counts.sent + "/" + counts.total);
    progress.max = Math.max(counts.total, 1);
    progress.value = counts.sent;
    progress.textContent = counts.sent + "/" + counts.total;
    renderFunnel(snapshot.funnel);
    renderWaves(snapshot.waves);
    campaignOpen = snapshot.campaign.is_open;
    renderStatus(snapshot.campaign);

    const newYes = [];
    const answers = new Map();
    snapshot.rows.forEach(function (row) {
      const id = String(row.id);
      answers.set(id, row.answer);
      if (row.answer === "yes" && previousAnswers.get(id) !== "yes") {
        newYes.push(id);
      }
    });
    previousAnswers = answers;
    renderRows(snapshot.rows);
    updateTitle(snapshot.rows.filter(function (row) { return row.answer === "yes"; }).length);
    if (newYes.length) {
      newYes.forEach(highlight);
      alertYes(newYes.length);
    }
  }

  /** Sätter texten i elementet med givet data-testid. */
  /** Tratten skickade → levererade → öppnade → svarade → JA → bokad: antal och tid efter start. */
  function renderFunnel(steps) {
    for (const step of steps || []) {
      setText("tratt-" + step.key + "-namn", step.label);
      setText("tratt-" + step.key, String(step.count));
      setText("tratt-" + step.key + "-tid", step.after ? "efter " + step.after : "");
    }
  }

  function setText(testId, text) {
    const element = root.querySelector("[data-testid=" + testId + "]");
    if (element) {
      element.textContent = text;
    }
  }

  /** Statusmärket och knapparna "Tiden är tillsatt"/"Avsluta" (dolda när kampanjen är stängd). */
  function renderStatus(campaign) {
    // Serverns text (samma som vid sidans rendering), även varför en aktiv kampanj inte tar emot svar.
    const label = campaign.status_label || "";
    statusBadge.textContent = label.charAt(0).toUpperCase() + label.slice(1);
    statusBadge.classList.toggle("text-bg-success", campaign.is_open);
    statusBadge.classList.toggle("text-bg-secondary", !campaign.is_open);
    if (openActions) {
      openActions.hidden = !campaign.is_open;
    }
    if (reopenForm) {
      reopenForm.hidden = !campaign.can_reopen;
    }
    renderBooked(campaign);
    renderThanks(campaign.thanks);
    if (addSection) {
      addSection.hidden = !campaign.is_open;
    }
    // Stängd kampanj: inga fler JA att larma om, så ingen ljudknapp.
    soundButton.hidden = !campaign.is_open;
  }

  /** Vem som fick tiden (tillsatt kampanj): namnet i fetstil, eller att den gick utanför listan. */
  function renderBooked(campaign) {
    if (!bookedBox) {
      return;
    }
    bookedBox.hidden = campaign.status !== "filled";
    if (campaign.booked_name) {
      const strong = document.createElement("strong");
      strong.textContent = campaign.booked_name;
      bookedText.replaceChildren("Tiden gick till ", strong, ".");
    } else {
      bookedText.textContent = "Tiden tillsattes utan patient från listan.";
    }
  }

  /** Tack-SMS-rutan (tillsatt kampanj med sparade JA-nummer): antal, delar och kostnad före bekräftelsen. */
  function renderThanks(thanks) {
    if (!thanksBox || !thanksBox.isConnected) {
      return;
    }
    thanksBox.hidden = !thanks;
    if (!thanks) {
      return;
    }
    const parts = thanks.segments + (thanks.segments === 1 ? " SMS-del" : " SMS-delar");
    const summary = thanks.count + " SMS (" + parts + "), uppskattad kostnad " + thanks.cost + " kr.";
    thanksBox.querySelector("[data-thanks-summary]").textContent = summary;
    thanksBox.querySelector("[data-thanks-send]").dataset.confirm =
      "Skicka tack-SMS till " + thanks.count + (thanks.count === 1 ? " patient? " : " patienter? ") + summary;
  }

  /** Döljer personalens knappar (utloggad eller kampanjen raderad): "Tiden är tillsatt",
   * "Avsluta", "Öppna igen" och "Skicka nästa grupp nu". */
  function hideStaffActions() {
    const waveForm = wavesSection && wavesSection.querySelector("[data-wave-form]");
    [openActions, reopenForm, waveForm].forEach(function (element) {
      if (element) {
        element.hidden = true;
      }
    });
  }

  /** Grupperna: skickade grupper, nästa grupp, antal som väntar och knappen "Skicka nästa grupp nu". */
  function renderWaves(waves) {
    if (!wavesSection || !waves) {
      return;
    }
    const items = waves.sent.map(function (wave) {
      const li = document.createElement("li");
      li.textContent = "Grupp " + wave.number + ": kl " + wave.time + ", " + wave.count + " mottagare";
      return li;
    });
    wavesSection.querySelector("[data-wave-list]").replaceChildren.apply(
      wavesSection.querySelector("[data-wave-list]"), items
    );
    setText("nasta-grupp", waves.next);
    setText("vantar-pa-grupp", String(waves.waiting));
    const form = wavesSection.querySelector("[data-wave-form]");
    if (form && form.dataset.sending !== "1") {
      // Formuläret bär antalet skickade grupper som sidan visar: servern släpper bara nästa.
      form.querySelector("[data-wave-expected]").value = String(waves.waves_sent);
      form.querySelector("button[type=submit]").disabled = !waves.can_send_next;
    }
  }

  /** Raderna i given ordning (Ring först, reserver, NEJ, ej svarat); befintliga rader återanvänds. */
  function renderRows(rows) {
    const seen = new Set();
    rows.forEach(function (row) {
      const id = String(row.id);
      seen.add(id);
      let tr = rowElements.get(id);
      if (!tr) {
        tr = document.createElement("tr");
        tr.dataset.recipientId = id;
        rowElements.set(id, tr);
      }
      fillRow(tr, row);
      tbody.appendChild(tr); // flyttar raden sist: ger ordningen från servern
    });
    rowElements.forEach(function (tr, id) {
      if (!seen.has(id)) {
        tr.remove();
        rowElements.delete(id);
      }
    });
  }

  /** Fyller en rad med cellerna Namn … Ring (samma utseende som serverns rendering). */
  function fillRow(tr, row) {
    tr.dataset.answer = row.answer || "";
    tr.classList.toggle("table-success", row.role === "Ring först");
    const cells = [
      cell(row.name, "fw-semibold"),
      phoneCell(row),
      cell(row.consent ? "ja" : "nej"),
      cell(row.send_status),
      deliveryCell(row.delivery),
      answerCell(row.answer),
      cell(row.answered_at || "–", "text-nowrap"),
      roleCell(row),
    ];
    tr.replaceChildren.apply(tr, cells);
  }

  /** Nummercellen: maskerat nummer, och för en JA-rad med sparat nummer "Visa nummer" (eller det visade numret). */
  function phoneCell(row) {
    const td = cell(row.phone_masked, "text-nowrap");
    const id = String(row.id);
    if (!row.can_reveal) {
      revealed.delete(id); // numret är raderat: visa det inte längre
      return td;
    }
    if (revealed.has(id)) {
      td.appendChild(shownNumber(revealed.get(id)));
      return td;
    }
    const form = document.createElement("form");
    form.method = "post";
    form.action = revealUrl;
    form.className = "d-inline";
    form.dataset.fetch = "";
    form.dataset.reveal = "";
    form.append(hidden("csrfmiddlewaretoken", csrfToken), hidden("recipient", id));
    const button = document.createElement("button");
    button.type = "submit";
    button.className = "btn btn-sm btn-outline-dark py-0 ms-1";
    button.textContent = "Visa nummer";
    form.appendChild(button);
    td.appendChild(form);
    return td;
  }

  /** Det visade numret (fetstil, efter det maskerade). */
  function shownNumber(number) {
    const strong = document.createElement("strong");
    strong.className = "ms-2";
    strong.dataset.testid = "visat-nummer";
    strong.textContent = number;
    return strong;
  }

  /** "Visa nummer": hämtar numret (aldrig cachat; servern skriver visningen i åtkomstloggen). */
  async function reveal(form) {
    const id = form.querySelector("input[name=recipient]").value;
    const button = form.querySelector("button");
    button.disabled = true;
    let data = null;
    try {
      const response = await fetch(revealUrl, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        cache: "no-store",
      });
      data = await response.json();
    } catch (error) {
      data = { error: "Numret kunde inte hämtas. Försök igen." };
    }
    if (data && data.phone) {
      revealed.set(id, data.phone);
      // Raden kan ha ritats om under hämtningen: byt formuläret som står i raden nu.
      const tr = rowElements.get(id);
      const current = (tr && tr.querySelector("form[data-reveal]")) || form;
      current.replaceWith(shownNumber(data.phone));
    } else {
      const span = document.createElement("span");
      span.className = "ms-2 text-danger";
      span.textContent = (data && data.error) || "Numret kunde inte hämtas.";
      form.replaceWith(span);
    }
  }

  /** En tabellcell med text (och eventuell klass). */
  function cell(text, className) {
    const td = document.createElement("td");
    if (className) {
      td.className = className;
    }
    td.textContent = text == null ? "" : String(text);
    return td;
  }

  /** Ett märke (badge) med text. */
  function badge(text, className, testId) {
    const span = document.createElement("span");
    span.className = "badge " + className;
    span.textContent = text;
    if (testId) {
      span.dataset.testid = testId;
    }
    return span;
  }

  /** Leveranscellen: grönt levererat, rött ej levererat, annars texten. */
  function deliveryCell(delivery) {
    const td = document.createElement("td");
    if (delivery === "levererat") {
      td.appendChild(badge("levererat", "text-bg-success"));
    } else if (delivery === "ej levererat") {
      td.appendChild(badge("ej levererat", "text-bg-danger"));
    } else {
      td.textContent = delivery || "";
    }
    return td;
  }

  /** Svarscellen: JA, NEJ eller "ej svarat". */
  function answerCell(answer) {
    const td = document.createElement("td");
    if (answer === "yes") {
      td.appendChild(badge("JA", "text-bg-success"));
    } else if (answer === "no") {
      td.appendChild(badge("NEJ", "text-bg-secondary"));
    } else {
      const span = document.createElement("span");
      span.className = "text-body-secondary";
      span.textContent = "ej svarat";
      td.appendChild(span);
    }
    return td;
  }

  /** Ring-cellen: "Ring först" i rött, samtalets utfall (Bokad grönt), reserverna i gult; på en
   * JA-rad i en öppen kampanj dessutom knapparna för samtalets utfall. */
  function roleCell(row) {
    const td = document.createElement("td");
    const role = row.role;
    if (role === "Ring först") {
      td.appendChild(badge("Ring först", "text-bg-danger fs-6", "ring-forst"));
    } else if (row.call_outcome === "booked") {
      td.appendChild(badge(role, "text-bg-success fs-6", "samtal"));
    } else if (row.call_outcome) {
      td.appendChild(badge(role, "text-bg-secondary", "samtal"));
    } else if (role) {
      td.appendChild(badge(role, "text-bg-warning"));
    }
    if (campaignOpen && row.answer === "yes") {
      td.appendChild(callButtons(row));
    }
    return td;
  }

  /** Formulären "Bokad", "Nådde inte", "Tackade nej i telefon" för en JA-rad (utom radens nuvarande utfall). */
  function callButtons(row) {
    const div = document.createElement("div");
    div.className = "d-flex flex-wrap gap-1 mt-1";
    div.dataset.testid = "samtalsknappar";
    CALL_BUTTONS.forEach(function (spec) {
      if (row.call_outcome === spec[0]) {
        return;
      }
      const form = document.createElement("form");
      form.method = "post";
      form.action = outcomeUrl;
      form.dataset.confirm = row.name + ": " + spec[3];
      form.append(hidden("csrfmiddlewaretoken", csrfToken), hidden("recipient", String(row.id)), hidden("outcome", spec[0]));
      const button = document.createElement("button");
      button.type = "submit";
      button.className = "btn btn-sm " + spec[2];
      button.textContent = spec[1];
      form.appendChild(button);
      div.appendChild(form);
    });
    return div;
  }

  /** Ett dolt formulärfält. */
  function hidden(name, value) {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    return input;
  }

  // --- Larm vid nytt JA ---------------------------------------------------------------------

  /** Flikens titel: "(N) JA – " före den vanliga titeln (med tiden, så två kampanjers flikar skiljs åt). */
  function updateTitle(yesCount) {
    document.title = yesCount > 0 ? "(" + yesCount + ") JA – " + plainTitle : plainTitle;
  }

  /** Markerar raden med en kort animering (klassen tas bort efteråt). */
  function highlight(id) {
    const tr = rowElements.get(id);
    if (!tr) {
      return;
    }
    tr.classList.remove("ja-ny");
    void tr.offsetWidth; // startar om animeringen om raden redan var markerad
    tr.classList.add("ja-ny");
    window.setTimeout(function () { tr.classList.remove("ja-ny"); }, HIGHLIGHT_MS);
  }

  /** Uppläsning för skärmläsare, ljud och notis om nya JA medan personalen är inloggad. */
  function alertYes(count) {
    // Skärmläsare får beskedet också (utan namn); räknaren och raden ändras tyst annars.
    announcer.textContent = (count === 1 ? "Nytt JA från en patient." : count + " nya JA.") +
      " Totalt " + root.querySelector("[data-testid=ja]").textContent + " JA.";
    ring(count);
  }

  /** Ljud (om påslaget) och, när fliken är dold, en notis (om personalen tillåtit det). */
  function ring(count) {
    if (soundOn) {
      playSound(true);
    }
    if (document.hidden && "Notification" in window && Notification.permission === "granted") {
      try {
        // Inga namn i notisen: den kan synas på skärmen för andra.
        new Notification("Nytt JA – Akut-SMS", { body: count === 1 ? "En patient har svarat JA." : count + " patienter har svarat JA.", tag: "akutsms-ja" });
      } catch (error) {
        // Notiser stöds inte här (t.ex. i vissa mobilwebbläsare).
      }
    }
  }

  /** Spelar ljudet; räknar i data-played när uppspelningen faktiskt startat. */
  function playSound(countIt) {
    audio.currentTime = 0;
    const started = audio.play();
    if (started && typeof started.then === "function") {
      started.then(function () {
        if (countIt) {
          audio.dataset.played = String(Number(audio.dataset.played || "0") + 1);
        }
      }).catch(function () {
        // Webbläsaren spärrar ljud tills personalen klickat: be om ett klick.
        if (soundOn && !unlocked) {
          renderSoundButton("Klicka för att tillåta ljud");
        }
      });
    }
  }

  /** Knappens text och tryckta läge. */
  function renderSoundButton(text) {
    soundButton.textContent = text || (soundOn ? "Ljud på" : "Slå på ljud");
    soundButton.setAttribute("aria-pressed", soundOn ? "true" : "false");
    soundButton.classList.toggle("btn-primary", soundOn);
    soundButton.classList.toggle("btn-outline-primary", !soundOn);
  }

  /** Sparar valet i webbläsaren (går det inte, gäller valet bara den här fliken). */
  function rememberSound() {
    try {
      window.localStorage.setItem(SOUND_KEY, soundOn ? "på" : "av");
    } catch (error) {
      // Privat läge eller avstängd lagring.
    }
  }

  /** Klick på ljudknappen: slår av eller på; påslaget spelas ljudet en gång som prov. */
  function toggleSound() {
    unlocked = true;
    soundOn = !soundOn;
    rememberSound();
    renderSoundButton();
    if (soundOn) {
      playSound(false);
      if ("Notification" in window && Notification.permission === "default") {
        // Frågan om notiser ställs bara efter ett klick, aldrig av sig själv.
        try {
          Notification.requestPermission();
        } catch (error) {
          // Äldre webbläsare: inga notiser.
        }
      }
    }
  }

  /** Första klicket någonstans på sidan låser upp ljudet (när valet var sparat sedan förut). */
  function unlockOnGesture() {
    if (unlocked) {
      return;
    }
    unlocked = true;
    audio.muted = true;
    const started = audio.play();
    const restore = function () {
      audio.pause();
      audio.currentTime = 0;
      audio.muted = false;
      renderSoundButton();
    };
    if (started && typeof started.then === "function") {
      started.then(restore, restore);
    } else {
      restore();
    }
  }

  // --- Start --------------------------------------------------------------------------------

  try {
    soundOn = window.localStorage.getItem(SOUND_KEY) === "på";
  } catch (error) {
    soundOn = false;
  }
  renderSoundButton();
  soundButton.hidden = root.dataset.open !== "ja";
  soundButton.addEventListener("click", toggleSound);
  root.addEventListener("submit", function (event) {
    const form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.reveal !== undefined && !event.defaultPrevented) {
      event.preventDefault();
      reveal(form);
    }
  });
  // Sessionsvakten (session.js) märkte utloggningen först.
  document.addEventListener("portal:utloggad", expire);
  document.addEventListener("pointerdown", function (event) {
    if (!soundButton.contains(event.target)) {
      unlockOnGesture();
    }
  }, { once: true });
  if (hint) {
    hint.textContent = "Sidan uppdateras av sig själv när någon svarar.";
  }
  // Sidan lämnas (t.ex. "Tiden är tillsatt" laddar om den): inget avbrottsmeddelande.
  window.addEventListener("pagehide", function () {
    stopWatching();
    stopped = true;
    stopPolling();
    window.clearTimeout(reconnectTimer);
    reconnectTimer = null;
  });
  // Tillbaka från webbläsarens cache (bakåtknappen): koppla upp igen.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && root.dataset.liveState !== "expired") {
      stopped = false;
      attempt = 0;
      if (wsPath) {
        setState("connecting");
        connect();
      } else {
        startPolling();
      }
    }
  });
  if (wsPath) {
    setState("connecting");
    connect();
  } else {
    startPolling();
  }
})();
