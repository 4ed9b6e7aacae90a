"use strict";
const $ = (id) => document.getElementById(id);
const shownAt = new Map();

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined) continue;
    if (k === "class") e.className = v; else e.setAttribute(k, String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}
function num(v) { return v === null || v === undefined ? "?" : String(v); }

// ---- messages: the lab's words, as it says them
let messageTimer = null;
function showError(text) {
  $("erreur-texte").textContent = text;
  $("erreur").hidden = false;
  $("message").hidden = true;
}
function showMessage(text) {
  $("erreur").hidden = true;
  $("message").textContent = text;
  $("message").hidden = false;
  clearTimeout(messageTimer);
  messageTimer = setTimeout(() => { $("message").hidden = true; }, 6000);
}
$("erreur-fermer").addEventListener("click", () => { $("erreur").hidden = true; });

async function call(method, path, body) {
  let response;
  try {
    response = await fetch(path, { method, headers: { "Content-Type": "application/json" },
                                   body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new Error("le labo ne répond pas (est-il arrêté ?) : " + e.message);
  }
  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
  if (!response.ok) {
    const why = json && json.erreur ? json.erreur : ("réponse " + response.status + " : " + text.slice(0, 200));
    throw new Error(why);
  }
  return json;
}
async function act(button, method, path, body, success) {
  if (button) button.disabled = true;
  try {
    const answer = await call(method, path, body);
    showMessage(success(answer));
    refreshDiagram();
  } catch (e) {
    showError("Le labo refuse : " + e.message);
  } finally {
    if (button) button.disabled = false;
  }
}

// ---- the fault buttons: the same API as ./jbang fault
function intField(id) {
  const raw = $(id).value.trim();
  if (raw === "") return null;
  const n = Number(raw);
  return Number.isInteger(n) ? n : raw;
}
function target() {
  const clientId = $("client-id").value.trim();
  return { api: $("api").value, nth: intField("nth"), clientId: clientId === "" ? null : clientId };
}
function labels() {
  const t = target();
  const ms = $("ms").value.trim();
  const request = (what) => t.nth === 1 ? "la prochaine " + what + " " + t.api : "la " + what + " " + t.api + " n°" + t.nth + " à venir";
  $("perdre-requete").textContent = "perdre " + request("requête");
  $("perdre-reponse").textContent = "perdre " + request("réponse");
  $("retarder").textContent = "retarder " + request("requête") + " de " + ms + " ms";
  $("refuser").textContent = "refuser les connexions pendant " + ms + " ms";
}
for (const id of ["api", "nth", "ms", "client-id"]) { $(id).addEventListener("input", labels); $(id).addEventListener("change", labels); }
function armed(rule) {
  return "Panne armée : " + describeRule(rule);
}
function describeRule(r) {
  const kind = r.kind === "lose-request" ? "requête perdue" : r.kind === "lose-response" ? "réponse perdue" : "retard de " + r.ms + " ms";
  return kind + " sur la requête " + r.api + " n°" + r.nth + " à venir" + (r.clientId ? " du client « " + r.clientId + " »" : "");
}
$("perdre-requete").addEventListener("click", (ev) =>
  act(ev.currentTarget, "POST", "/api/faults", Object.assign({ kind: "lose-request", ms: 0 }, target()), armed));
$("perdre-reponse").addEventListener("click", (ev) =>
  act(ev.currentTarget, "POST", "/api/faults", Object.assign({ kind: "lose-response", ms: 0 }, target()), armed));
$("retarder").addEventListener("click", (ev) =>
  act(ev.currentTarget, "POST", "/api/faults", Object.assign({ kind: "delay", ms: intField("ms") }, target()), armed));
$("couper").addEventListener("click", (ev) =>
  act(ev.currentTarget, "POST", "/api/cut", undefined, (a) => a.cut + " connexion(s) coupée(s)"));
$("refuser").addEventListener("click", (ev) =>
  act(ev.currentTarget, "POST", "/api/refuse", { ms: intField("ms") }, (a) => "Connexions refusées pendant " + a.refusingMs + " ms"));
$("effacer").addEventListener("click", async (ev) => {
  const button = ev.currentTarget;
  button.disabled = true;
  try {
    const cleared = await call("POST", "/api/clear");
    await call("POST", "/api/trace/reset");
    shownAt.clear();
    showMessage(cleared.cleared + " panne(s) retirée(s), trace effacée");
    refreshDiagram();
  } catch (e) {
    showError("Le labo refuse : " + e.message);
  } finally {
    button.disabled = false;
  }
});

// ---- the state: nodes, faults, losses, partitions, groups, transactions
function renderNodes(brokers, replicationHeld) {
  const box = $("noeuds");
  box.replaceChildren();
  const held = replicationHeld || [];
  for (const b of brokers) {
    const action = b.up ? "stop" : "start";
    const button = el("button", { type: "button", class: b.up ? "danger" : null, "data-action": action },
                      b.up ? "arrêter le nœud " + b.id : "redémarrer le nœud " + b.id);
    button.addEventListener("click", () => act(button, "POST", "/api/brokers/" + b.id + "/" + action, undefined,
        (a) => "nœud " + a.id + (a.up ? " redémarré" : " arrêté (comme un crash)")));
    const node = el("div", { class: b.up ? "noeud" : "noeud arrete", "data-id": b.id, "data-up": b.up },
        el("div", null, "nœud " + b.id + " · localhost:" + b.port + " : ", el("span", { class: "etat" }, b.up ? "en marche" : "ARRÊTÉ")),
        button);
    if (brokers.length > 1) {
      // fault hold-replication --node N: its followers get nothing from it (docs/LABO.md)
      const holding = held.includes(b.id) || held.includes(0);
      const replication = el("button", { type: "button", "data-action": holding ? "release-replication" : "hold-replication" },
                             holding ? "rendre la réplication" : "retenir la réplication depuis le nœud " + b.id);
      replication.addEventListener("click", () => holding
          ? act(replication, "POST", "/api/replication/release", undefined, () => "réplication rendue : les followers rattrapent leur leader")
          : act(replication, "POST", "/api/replication/hold", { node: b.id }, () => "réplication retenue depuis le nœud " + b.id));
      if (holding) node.append(el("div", { class: "avertissement" }, "réplication retenue : ses followers ne reçoivent rien"));
      node.append(replication);
    }
    box.append(node);
  }
}
function renderFaults(rules, refusing) {
  const list = $("pannes");
  list.replaceChildren();
  if (rules.length === 0) list.append(el("li", { class: "vide" }, "aucune"));
  for (const r of rules) {
    const how = r.note ? r.note : r.fired ? "a eu lieu" : "pas encore déclenchée (" + r.seen + " vue(s))";
    list.append(el("li", { class: r.fired || r.note ? "partie" : null, "data-kind": r.kind }, describeRule(r) + " : " + how));
  }
  $("refus").hidden = !refusing;
}
function renderLost(lost) {
  const list = $("pertes");
  const now = Date.now();
  list.replaceChildren();
  if (lost.length === 0) list.append(el("li", { class: "vide" }, "aucune"));
  for (const e of lost) {
    if (!shownAt.has(e.seq)) shownAt.set(e.seq, now);
    const li = el("li", { "data-seq": e.seq, "data-action": e.action, "data-shown-at": shownAt.get(e.seq) },
        e.time + " ", el("span", { class: "action" }, e.actionFr), " : " + e.api + " de " + (e.clientId || "?") + " vers le nœud " + e.node);
    for (const p of e.partitions) {
      const part = el("div", { class: "partition", "data-topic": p.topic, "data-partition": p.partition },
          p.topic + "-" + p.partition + " : " + p.records + " message(s)");
      if (e.api === "Produce" && p.baseOffset >= 0) {
        part.append(", écrit(s) à l'offset ", el("span", { class: "offset", "data-offset": p.baseOffset }, p.baseOffset));
        if (e.action === "RESPONSE_DROPPED" && p.producerId < 0) {
          part.append(" ; le producteur n'en sait rien et le renvoie : ",
                      el("span", { class: "doublon" }, "doublon de l'offset " + p.baseOffset), " (sans idempotence)");
        } else if (e.action === "RESPONSE_DROPPED") {
          part.append(" ; renvoyé avec pid=" + p.producerId + " époque=" + p.producerEpoch + " séquence=" + p.baseSequence
                      + " : le broker reconnaît le lot, pas de doublon (idempotence)");
        }
      } else if (e.api === "Produce" && e.action === "REQUEST_DROPPED") {
        part.append(", jamais écrit(s) : le broker n'a pas vu la requête");
      } else if (e.api === "Produce" && e.action === "CUT") {
        part.append(" : réponse jamais reçue (écrit(s) ou non : le producteur ne le sait pas)");
      }
      if (p.error) part.append(" (erreur " + p.error + ")");
      li.append(part);
    }
    if (e.transactionalId) li.append(el("div", null, "transaction " + e.transactionalId));
    if (e.groupId) li.append(el("div", null, "groupe " + e.groupId));
    list.append(li);
  }
}
function renderPartitions(partitions, omitted, polled) {
  const body = $("partitions").tBodies[0];
  body.replaceChildren();
  if (partitions.length === 0) {
    body.append(el("tr", null, el("td", { colspan: 6, class: "vide" }, polled ? "aucun topic" : "lecture en cours…")));
  }
  for (const p of partitions) {
    const open = p.lastStableOffset !== null && p.highWatermark !== null && p.lastStableOffset < p.highWatermark;
    body.append(el("tr", { "data-topic": p.topic, "data-partition": p.partition, class: open ? "ouverte" : null },
        el("td", null, p.topic), el("td", { class: "num" }, p.partition), el("td", { class: "num" }, num(p.leader)),
        el("td", { class: "num debut" }, num(p.logStartOffset)), el("td", { class: "num hw" }, num(p.highWatermark)),
        el("td", { class: "num lso", title: open ? "une transaction ouverte retient la lecture read_committed" : null }, num(p.lastStableOffset))));
  }
  $("partitions-note").hidden = omitted === 0;
  $("partitions-note").textContent = omitted + " autre(s) partition(s) ou topic(s) non affiché(s)";
}
function renderGroups(groups) {
  const body = $("groupes").tBodies[0];
  body.replaceChildren();
  if (groups.length === 0) body.append(el("tr", null, el("td", { colspan: 5, class: "vide" }, "aucun groupe")));
  for (const g of groups) {
    if (g.error || g.offsets.length === 0) {
      body.append(el("tr", { "data-group": g.groupId }, el("td", null, g.groupId),
          el("td", { colspan: 4, class: "vide" }, g.error || "aucun offset validé")));
    }
    for (const o of g.offsets) {
      body.append(el("tr", { "data-group": g.groupId, "data-topic": o.topic, "data-partition": o.partition },
          el("td", null, g.groupId), el("td", null, o.topic), el("td", { class: "num" }, o.partition),
          el("td", { class: "num offset" }, o.offset), el("td", { class: "num" }, num(o.lag))));
    }
  }
}
function renderTransactions(transactions) {
  const body = $("transactions").tBodies[0];
  body.replaceChildren();
  if (transactions.length === 0) body.append(el("tr", null, el("td", { colspan: 6, class: "vide" }, "aucune")));
  const now = Date.now();
  for (const t of transactions) {
    const since = t.startMs ? Math.max(0, Math.round((now - t.startMs) / 1000)) + " s" : "";
    body.append(el("tr", { "data-transactional-id": t.transactionalId },
        el("td", null, t.transactionalId), el("td", { class: "num" }, t.producerId), el("td", { class: "num" }, t.producerEpoch),
        el("td", null, t.stateFr), el("td", null, t.partitions.join(", ")), el("td", { class: "num" }, since)));
  }
}
function renderState(s) {
  $("bootstrap").textContent = s.bootstrap;
  renderNodes(s.brokers, s.replicationHeld);
  renderFaults(s.faults, s.refusing);
  renderLost(s.lost);
  renderPartitions(s.partitions, s.partitionsOmitted, s.polled);
  renderGroups(s.groups);
  renderTransactions(s.transactions);
  $("etat-erreurs").hidden = s.errors.length === 0;
  $("etat-erreurs").textContent = "Lecture de l'état : " + s.errors.join(" ; ");
}

// ---- the diagram: the server's SVG (PlantUML), reloaded when requests pass. One load at a time, and the loads start
// at most every max(400 ms, 1.5 x the last one's duration), so that a flood of requests doesn't keep the lab drawing;
// a pause of 150 ms lets a request and its answer, which come close together, be drawn by one load. A loss is urgent:
// it skips the waits, and a load already under way (started for something else) is dropped for a new one.
const diagram = { dirty: false, urgent: false, busy: null, busyUrgent: false, timer: null, lastStart: 0, lastMs: 0 };
function refreshDiagram(urgent) {
  diagram.dirty = true;
  if (urgent === true) {
    diagram.urgent = true;
    if (diagram.timer) { clearTimeout(diagram.timer); diagram.timer = null; }
    if (diagram.busy && !diagram.busyUrgent) diagram.busy.abort();
    pumpDiagram(20);
  } else {
    pumpDiagram(150);
  }
}
function pumpDiagram(pause) {
  if (!diagram.dirty || diagram.busy || diagram.timer) return;
  const interval = diagram.urgent ? 0 : Math.max(400, 1.5 * Math.min(diagram.lastMs, 2000));
  const wait = Math.max(pause || 0, diagram.lastStart + interval - Date.now());
  if (wait > 0) { diagram.timer = setTimeout(() => { diagram.timer = null; pumpDiagram(0); }, wait); return; }
  const controller = new AbortController();
  diagram.busy = controller;
  diagram.busyUrgent = diagram.urgent;
  diagram.dirty = false;
  diagram.urgent = false;
  const t0 = Date.now();
  diagram.lastStart = t0;
  fetch("/api/trace.svg?since=0&max=" + encodeURIComponent($("max").value), { signal: controller.signal })
    .then(async (r) => {
      const text = await r.text();
      if (!r.ok) {
        let why = text;
        try { why = JSON.parse(text).erreur; } catch (e) { }
        throw new Error(why);
      }
      showSvg(text);
      diagram.lastMs = Date.now() - t0;
      $("diagramme").setAttribute("data-load-ms", String(diagram.lastMs));
    })
    .catch((e) => { if (e.name !== "AbortError") showError("Le diagramme n'a pas pu être dessiné : " + e.message); })
    .finally(() => { diagram.busy = null; pumpDiagram(0); });
}
$("max").addEventListener("change", refreshDiagram);
function showSvg(text) {
  const doc = new DOMParser().parseFromString(text, "image/svg+xml");
  const svg = doc.documentElement;
  if (!svg || svg.nodeName !== "svg") throw new Error("image illisible");
  // nothing active in a picture
  for (const bad of svg.querySelectorAll("script, foreignObject")) bad.remove();
  for (const node of svg.querySelectorAll("*")) {
    for (const a of Array.from(node.attributes)) if (a.name.toLowerCase().startsWith("on")) node.removeAttribute(a.name);
  }
  const box = $("diagramme");
  const natural = parseFloat(svg.getAttribute("width")) || 800;
  const scale = Math.min(1.6, (box.clientWidth - 4) / natural);
  svg.removeAttribute("height");
  svg.style.width = Math.round(natural * Math.max(scale, 0.5)) + "px";
  svg.style.height = "auto";
  const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 40;
  box.replaceChildren(document.importNode(svg, true));
  box.setAttribute("data-updated-at", String(Date.now()));
  if (atBottom) box.scrollTop = box.scrollHeight;
}

// ---- live
// the lab's JVM gone (Kafka halts it on a fatal error, or Ctrl-C): say so after a few seconds rather than retry in silence
const LAB_GONE = "Le labo ne répond plus : sa JVM s'est sans doute arrêtée. Son terminal (./jbang broker --faults) dit pourquoi "
  + "et où sont les journaux de Kafka. Relancez-le : cette page se reconnectera d'elle-même.";
let goneTimer = null;
function connect() {
  const source = new EventSource("/api/events");
  source.addEventListener("open", () => {
    $("direct").textContent = "● en direct"; $("direct").className = "ok";
    clearTimeout(goneTimer); goneTimer = null;
    if ($("erreur-texte").textContent === LAB_GONE) $("erreur").hidden = true;
  });
  source.addEventListener("error", () => {
    $("direct").className = "ko";
    if (goneTimer === null) goneTimer = setTimeout(() => { goneTimer = null; showError(LAB_GONE); }, 6000);
    if (source.readyState === EventSource.CLOSED) {
      // refused (too many pages open) or the lab is gone: the browser won't retry by itself
      $("direct").textContent = "○ déconnecté (labo arrêté, ou trop de pages ouvertes) : nouvel essai dans 3 s";
      setTimeout(connect, 3000);
    } else {
      $("direct").textContent = "○ déconnecté, reconnexion…";
    }
  });
  source.addEventListener("state", (ev) => renderState(JSON.parse(ev.data)));
  source.addEventListener("trace", (ev) => {
    const e = JSON.parse(ev.data);
    refreshDiagram(e.action !== "FORWARDED" && e.action !== "DELAYED");
  });
  source.addEventListener("resync", () => refreshDiagram());
}
call("GET", "/api/apis").then((names) => {
  const select = $("api");
  select.replaceChildren(...names.map((n) => el("option", { value: n, selected: n === "Produce" ? "selected" : null }, n)));
  select.value = "Produce";
  labels();
}).catch((e) => showError("Le labo ne donne pas la liste des API : " + e.message));
labels();
connect();
refreshDiagram();
