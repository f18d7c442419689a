// Live minutes (Protokoll): one Yjs document and one CodeMirror editor per agenda item, kept in sync over the
// Socket.IO namespace /minutes. Without this script the page still shows every item's text (the <pre> fallback).
//
// Protocol (see minutes/sockets.py): "join" {item, sv} → {ok, item, update, sv, records}; "update" {item, id,
// update} → {ok, id} once the server has committed it; "awareness" {item, state} is relayed to the others in the
// item; the server sends "update" {item, id, update}, "awareness" {item, state} and "evicted" {item, reason, title}.
// Once a decision or task has been stored (from this page's forms, sent in the background, or from the results
// page), the item's room gets "record" {item, kind: "decision"|"task", id, text, …}; a change of attendance
// reaches every item room as "attendance" {conference, attendance: [{user, status}]}. Both are shown with
// textContent only. Closing the minutes (or opening them again) reaches every item room as "closing"
// {conference, closed}.

import { defaultKeymap } from "@codemirror/commands";
import { Compartment, EditorState } from "@codemirror/state";
import { EditorView, keymap, placeholder } from "@codemirror/view";
import { io } from "socket.io-client";
import { yCollab, yUndoManagerKeymap } from "y-codemirror.next";
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate } from "y-protocols/awareness";
import * as Y from "yjs";

import { useConstructedStylesheets } from "./csp-styles.js";
import { sendQuietly } from "./minutes-forms.js";
import { remoteCursors, renderPresence, safeColor } from "./minutes-presence.js";

const REMOTE = Symbol("remote"); // origin of what came from the server: applied, never sent back
const BATCH_MS = 80; // local changes are merged and sent at most this often per item
const AWARENESS_MS = 100;
const SLOW_MS = 1500; // only then does the status line count what is still being saved
const RETRY_MS = [500, 1000, 2000, 4000, 8000];

const TEXT = {
  connecting: "Verbindung wird hergestellt …",
  online: "Verbunden – Änderungen werden gespeichert.",
  offline: "Offline – Ihre Änderungen werden gesendet, sobald die Verbindung wieder steht.",
  ended:
    "Die Verbindung wurde vom Server beendet (abgemeldet oder Sitzung abgelaufen). " +
    "Bitte melden Sie sich erneut an; nicht gesendete Änderungen gehen dabei verloren.",
  evicted: "Sie haben keinen Zugriff mehr auf diesen Tagesordnungspunkt.",
  placeholder: "Noch kein Protokolltext. Hier schreiben; alle Teilnehmenden sehen es sofort.",
  reload: "Bitte laden Sie die Seite neu.",
  closedNow:
    "Die Moderation hat das Protokoll abgeschlossen; es ist jetzt schreibgeschützt. " +
    "Was danach hier noch getippt wurde, ist nicht gespeichert.",
  reopened: "Die Moderation hat das Protokoll wieder geöffnet. Bitte laden Sie die Seite neu, um weiterzuschreiben.",
  refused: "Keine Verbindung zum Protokoll.",
};
const FRESH_MS = 4000; // how long a record that just came in stays highlighted
const ATTENDANCE = { anwesend: "anwesend", entschuldigt: "entschuldigt", abwesend: "abwesend" };

/** A task's line as the page renders it: "what – who, person, bis date (status)" and, apart, its status. */
function taskItem(entry, form) {
  const li = document.createElement("li");
  li.dataset.entry = String(entry.id);
  const line = document.createElement("span");
  let who = String(entry.agency || "");
  if (entry.person) who += `, ${entry.person}`;
  if (entry.due) who += `, bis ${entry.due}`;
  const status = document.createElement("span");
  status.dataset.status = "";
  status.textContent = String(entry.status || "offen");
  line.append(`${entry.text} – ${who} (`, status, ")");
  li.append(line);
  markOverdue(li, entry.overdue);
  if (form) li.append(form);
  return li;
}

/** "überfällig" after a task's line while it is open past its due date, as the page renders it. */
function markOverdue(li, overdue) {
  const mark = li.querySelector("strong.overdue");
  if (!overdue) {
    if (mark) mark.remove();
    return;
  }
  if (mark) return;
  const strong = document.createElement("strong");
  strong.className = "overdue";
  strong.textContent = "(überfällig)";
  li.querySelector("span").after(" ", strong);
}

/** The "Erledigt" form the page renders for a task of one's own agency (or for the moderator); the server
 * decides again when it is sent. */
function doneForm(entry, page, back) {
  const form = document.createElement("form");
  form.method = "post";
  form.action = page.taskDone.replace("/0/", `/${entry.id}/`);
  form.className = "inline";
  form.dataset.done = "";
  form.dataset.quiet = "";
  for (const [name, value] of [
    ["csrf_token", page.csrf],
    ["next", back],
  ]) {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    form.append(input);
  }
  const button = document.createElement("button");
  button.type = "submit";
  const label = document.createElement("span");
  label.className = "visually-hidden";
  label.textContent = `: ${entry.text}`;
  button.append("Erledigt", label);
  form.append(button);
  return form;
}

function bytes(value) {
  return value instanceof Uint8Array ? value : new Uint8Array(value);
}

function changes(n) {
  return n === 1 ? "1 Änderung" : `${n} Änderungen`;
}

/** A fresh update id: 16 random bytes, base64url (the server accepts [A-Za-z0-9_-]{1,64}). */
function newUpdateId() {
  const raw = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...raw))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

/** Whether `diff` (ours, against the server's state vector) holds anything the server lacks. */
function serverLacks(diff, serverUpdate) {
  const ours = Y.decodeUpdate(diff);
  if (ours.structs.length) return true;
  // A state vector does not cover deletions: compare with the delete set the server sent along.
  const theirs = Y.decodeUpdate(serverUpdate).ds.clients;
  for (const [client, ranges] of ours.ds.clients) {
    const known = theirs.get(client) || [];
    for (const r of ranges) {
      if (!known.some((k) => k.clock <= r.clock && r.clock + r.len <= k.clock + k.len)) return true;
    }
  }
  return false;
}

class MinutesItem {
  constructor(channel, host) {
    this.channel = channel;
    this.id = Number(host.dataset.item);
    this.host = host;
    this.label = host.dataset.label || `Protokolltext zu Tagesordnungspunkt ${this.id}`;
    this.itemName = this.label.replace(/^Protokolltext zu /, "");
    this.presence = document.querySelector(`[data-presence="${this.id}"]`);
    this.records = document.querySelector(`[data-records="${this.id}"]`);
    this.evictedBox = document.querySelector(`[data-evicted="${this.id}"]`);
    this.hintBox = document.querySelector(`[data-name-hint="${this.id}"]`);
    this.doc = new Y.Doc();
    this.text = this.doc.getText("text");
    this.awareness = new Awareness(this.doc);
    this.awareness.setLocalState({ user: channel.user, cursor: null });
    this.pending = new Map(); // update id → {update, at}, in order; kept until the server acknowledged it
    this.sent = new Set(); // ids emitted at least once (those keep their bytes: a resend must be identical)
    this.inflight = new Set(); // ids emitted on the current connection, not yet answered
    this.buffer = [];
    this.joined = false;
    this.closed = false;
    this.view = null;
    this.editable = new Compartment();
    this.timers = new Set(); // every timer of this item, cleared when it is evicted
    this.named = new Map(); // name → timer, for the coalescing ones (batch, awareness)

    this.doc.on("update", (update, origin) => {
      if (origin !== REMOTE) this.local(update);
    });
    this.awareness.on("update", (_, origin) => {
      if (origin !== REMOTE) this.later("awareness", AWARENESS_MS, () => this.sendAwareness());
    });
    this.awareness.on("change", ({ added }, origin) => {
      this.showPresence();
      // Someone new: tell them who is here now instead of at the next renewal (15 s).
      if (origin === REMOTE && added.length) this.later("awareness", AWARENESS_MS, () => this.sendAwareness());
    });
  }

  get socket() {
    return this.channel.socket;
  }

  /** Run fn after ms, unless a run under the same name is already waiting (then that one does it). */
  later(name, ms, fn) {
    if (this.named.has(name)) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.named.delete(name);
      fn();
    }, ms);
    this.named.set(name, timer);
    this.timers.add(timer);
  }

  // -- joining -------------------------------------------------------------------------------------------

  join() {
    if (this.closed) return;
    this.joined = false;
    const connection = this.channel.connection;
    this.socket.emit("join", { item: this.id, sv: Y.encodeStateVector(this.doc) }, (ack) => {
      if (this.closed || connection !== this.channel.connection) return;
      if (ack && ack.ok) this.joinedWith(ack);
      else if (ack && (ack.status === 403 || ack.status === 404)) this.evict(ack.error || TEXT.evicted);
      else {
        this.channel.problem(ack && ack.error);
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          if (connection === this.channel.connection) this.join();
        }, RETRY_MS[RETRY_MS.length - 1]);
        this.timers.add(timer);
      }
    });
  }

  joinedWith(ack) {
    const update = bytes(ack.update);
    Y.applyUpdate(this.doc, update, REMOTE);
    this.joined = true;
    this.mount();
    // The item's decisions and tasks: whatever came while this page was offline is added now.
    for (const entry of Array.isArray(ack.records) ? ack.records : []) this.record(entry);
    const missing = Y.encodeStateAsUpdate(this.doc, bytes(ack.sv));
    if (serverLacks(missing, update)) this.queue(missing);
    for (const id of this.pending.keys()) this.send(id);
    this.sendAwareness();
    this.showPresence();
    this.channel.refresh();
  }

  offline() {
    this.joined = false;
    this.inflight.clear();
  }

  // -- the editor ------------------------------------------------------------------------------------------

  mount() {
    if (this.view) return;
    const undoManager = new Y.UndoManager(this.text);
    this.view = new EditorView({
      state: EditorState.create({
        doc: this.text.toString(),
        extensions: [
          keymap.of([...yUndoManagerKeymap, ...defaultKeymap]),
          EditorView.lineWrapping,
          EditorView.contentAttributes.of({ "aria-label": this.label }),
          placeholder(TEXT.placeholder),
          this.editable.of(EditorView.editable.of(!this.channel.ended && !this.channel.finished)),
          yCollab(this.text, null, { undoManager }),
          remoteCursors(this.text, this.awareness),
        ],
      }),
    });
    this.host.replaceChildren(this.view.dom);
    this.host.classList.add("live");
  }

  readOnly() {
    if (this.view) this.view.dispatch({ effects: this.editable.reconfigure(EditorView.editable.of(false)) });
  }

  /** The minutes are closed: nothing more is sent, and the editor takes no more typing. */
  frozen() {
    if (this.closed) return;
    this.pending.clear();
    this.sent.clear();
    this.buffer = [];
    this.readOnly();
  }

  showPresence() {
    if (!this.closed && this.presence) renderPresence(this.presence, this.awareness, this.itemName);
  }

  // -- local changes ---------------------------------------------------------------------------------------

  local(update) {
    if (this.closed) return;
    this.buffer.push(update);
    this.channel.refresh();
    this.later("batch", BATCH_MS, () => this.flush());
  }

  flush() {
    if (this.closed || !this.buffer.length) return;
    const merged = this.buffer.length === 1 ? this.buffer[0] : Y.mergeUpdates(this.buffer);
    this.buffer = [];
    this.queue(merged);
  }

  queue(update) {
    // While offline, changes that never left the browser are merged into one, so a reconnect sends few.
    const ids = [...this.pending.keys()];
    const last = ids[ids.length - 1];
    if (last !== undefined && !this.sent.has(last)) {
      const entry = this.pending.get(last);
      entry.update = Y.mergeUpdates([entry.update, update]);
    } else {
      const id = newUpdateId();
      this.pending.set(id, { update, at: Date.now() });
      this.send(id);
    }
    this.channel.refresh();
  }

  send(id, attempt = 0) {
    if (this.closed || !this.joined || !this.channel.online || this.inflight.has(id) || !this.pending.has(id)) return;
    const connection = this.channel.connection;
    this.inflight.add(id);
    this.sent.add(id);
    this.socket.emit("update", { item: this.id, id, update: this.pending.get(id).update }, (ack) => {
      if (this.closed || connection !== this.channel.connection) return;
      this.inflight.delete(id);
      if (ack && ack.ok) {
        this.pending.delete(id);
        this.sent.delete(id);
        this.channel.saved();
      } else {
        this.refused(id, ack || {}, attempt);
      }
      this.channel.refresh();
    });
  }

  refused(id, ack, attempt) {
    const status = ack.status || 500;
    if (status === 403 || status === 404) {
      this.evict(ack.error || TEXT.evicted);
    } else if (status === 409) {
      // The minutes are closed: nothing more can be saved here.
      this.frozen();
      this.channel.finished = true;
      this.channel.problem(ack.error);
    } else if (status === 413 || status === 422) {
      // This change will never be accepted; the text here and on the server now differ.
      this.pending.delete(id);
      this.sent.delete(id);
      this.channel.problem(`${ack.error || ""} ${TEXT.reload}`.trim());
    } else {
      // Too fast, not joined (yet) or a server error: the same change again, a little later.
      this.channel.problem(ack.error);
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.send(id, attempt + 1);
      }, RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)]);
      this.timers.add(timer);
    }
  }

  // -- from the server -------------------------------------------------------------------------------------

  remoteUpdate(update) {
    if (!this.closed) Y.applyUpdate(this.doc, bytes(update), REMOTE);
  }

  remoteAwareness(state) {
    if (!this.closed) applyAwarenessUpdate(this.awareness, bytes(state), REMOTE);
  }

  /** A decision or task stored by someone (or a task done): into this item's list at its place, announced. */
  record(entry) {
    if (this.closed || !this.records || !entry || !Number.isInteger(entry.id)) return;
    const kind = entry.kind === "decision" || entry.kind === "task" ? entry.kind : null;
    const list = kind && this.records.querySelector(`[data-list="${kind}"]`);
    if (!list) return;
    let li = [...list.children].find((node) => node.dataset.entry === String(entry.id));
    let news = "";
    if (entry.withdrawn) {
      // taken back by the moderator (recorded by mistake): out of the list, and said so
      if (!li) return;
      li.remove();
      if (!list.children.length) {
        list.hidden = true;
        const none = this.records.querySelector(`[data-none="${kind}"]`);
        if (none) none.hidden = false;
      }
      this.channel.announce(`${kind === "decision" ? "Beschluss" : "Aufgabe"} zurückgezogen (${this.itemName})`, this.id);
      return;
    }
    if (!li) {
      if (kind === "decision") {
        li = document.createElement("li");
        li.dataset.entry = String(entry.id);
        li.textContent = String(entry.text);
        news = `Neuer Beschluss zu ${this.itemName}: ${entry.text}`;
      } else {
        const back = `${window.location.pathname}#m-${this.id}`;
        li = taskItem(entry, this.channel.mayComplete(entry) ? doneForm(entry, this.channel.page, back) : null);
        news = `Neue Aufgabe zu ${this.itemName}: ${entry.text} (${entry.agency})`;
      }
      const next = [...list.children].find((node) => Number(node.dataset.entry) > entry.id);
      list.insertBefore(li, next || null);
      list.hidden = false;
      const none = this.records.querySelector(`[data-none="${kind}"]`);
      if (none) none.hidden = true;
    } else if (kind === "task" && !entry.done && !li.classList.contains("done")) {
      // given to another agency or person, or another due date: the line as it reads now
      const back = `${window.location.pathname}#m-${this.id}`;
      const fresh = taskItem(entry, this.channel.mayComplete(entry) ? doneForm(entry, this.channel.page, back) : null);
      if (fresh.querySelector("span").textContent !== li.querySelector("span").textContent) {
        li.replaceWith(fresh);
        li = fresh;
        news = `Aufgabe geändert (${this.itemName}): ${entry.text} (${entry.agency})`;
      }
    }
    if (kind === "task" && entry.done && !li.classList.contains("done")) {
      li.classList.add("done");
      const status = li.querySelector("[data-status]");
      if (status) status.textContent = String(entry.status);
      for (const form of li.querySelectorAll("form[data-done]")) form.remove();
      markOverdue(li, false);
      news ||= `Aufgabe erledigt (${this.itemName}): ${entry.text}`;
    }
    if (kind === "task" && !entry.done && li.classList.contains("done")) {
      // opened again from the dashboard: open here too, with its "Erledigt" again where one may tick it off
      li.classList.remove("done");
      const status = li.querySelector("[data-status]");
      if (status) status.textContent = String(entry.status);
      markOverdue(li, entry.overdue);
      if (this.channel.mayComplete(entry)) {
        li.append(doneForm(entry, this.channel.page, `${window.location.pathname}#m-${this.id}`));
      }
      news ||= `Aufgabe wieder offen (${this.itemName}): ${entry.text}`;
    }
    if (!news) return;
    li.classList.add("fresh");
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      li.classList.remove("fresh");
    }, FRESH_MS);
    this.timers.add(timer);
    this.channel.announce(news, this.id);
  }

  sendAwareness() {
    if (this.closed || !this.joined || !this.channel.online) return;
    const state = encodeAwarenessUpdate(this.awareness, [this.awareness.clientID]);
    this.socket.emit("awareness", { item: this.id, state });
  }

  /** Leaving the page: the others drop this person from the item at once. */
  leave() {
    if (this.closed) return;
    this.awareness.setLocalState(null);
    this.sendAwareness();
  }

  /** The server's hint that this general item's text names a client or a case (empty: the text is clean again). */
  hint(text) {
    if (!this.hintBox || this.closed) return;
    this.hintBox.textContent = text || "";
    this.hintBox.hidden = !text;
  }

  /** No access any more: the text, the people and the case line go from the page; the reason takes their place. */
  evict(reason, title = "vertraulicher Fall") {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.named.clear();
    this.pending.clear();
    this.buffer = [];
    if (this.view) this.view.destroy();
    this.view = null;
    this.host.replaceChildren();
    this.host.hidden = true;
    this.awareness.destroy();
    this.doc.destroy();
    if (this.presence) {
      this.presence.replaceChildren();
      this.presence.hidden = true;
    }
    const caseItem = document.querySelector(`[data-case="${this.id}"]`) !== null;
    for (const line of document.querySelectorAll(`[data-case="${this.id}"]`)) line.remove();
    const section = this.host.closest(".minutes-item");
    if (section) {
      // What the page would show after a reload: a case item without consent has no title, and offers nothing.
      const heading = section.querySelector("h2");
      if (caseItem && heading) heading.textContent = `${heading.textContent.split(" – ")[0]} – ${title}`;
      for (const tools of section.querySelectorAll(".backlog-tools")) tools.remove();
    }
    for (const option of document.querySelectorAll(`select[name="item_id"] option[value="${this.id}"]`)) {
      option.remove();
    }
    if (this.records) this.records.remove(); // its decisions and tasks are the item's too
    this.records = null;
    this.channel.forget(this.id);
    if (this.evictedBox) {
      this.evictedBox.textContent = reason || TEXT.evicted;
      this.evictedBox.hidden = false;
    }
    this.channel.refresh();
  }

  get unsaved() {
    return this.closed ? 0 : this.pending.size + (this.buffer.length ? 1 : 0);
  }

  /** When the oldest change still waiting for the server's acknowledgement was queued (0: none). */
  get oldestPending() {
    if (this.closed) return 0;
    for (const entry of this.pending.values()) return entry.at;
    return 0;
  }
}

class MinutesChannel {
  constructor(root, status, news) {
    this.status = status;
    this.news = news;
    this.user = { name: root.dataset.user || "", agency: root.dataset.agency || "", color: safeColor(root.dataset.color) };
    this.page = {
      moderator: root.dataset.moderator === "1",
      csrf: root.dataset.csrf || "",
      taskDone: root.dataset.taskDone || "",
    };
    this.items = new Map();
    this.online = false;
    this.ended = false;
    this.everConnected = false;
    this.connection = 0; // counts connections, so answers from an earlier one are ignored
    this.lastProblem = "";
    this.slowTimer = null;
    this.refused = false;
    this.finished = root.dataset.closed === "1"; // the minutes are closed: typing is over

    for (const host of root.querySelectorAll(".minutes-editor[data-item]")) {
      const item = new MinutesItem(this, host);
      this.items.set(item.id, item);
    }

    // WebSocket only: the server admits a connection only with the page's own Origin, which a WebSocket
    // handshake always sends and a same-origin long-polling request does not.
    this.socket = io("/minutes", { transports: ["websocket"] });
    this.socket.on("connect", () => this.connected());
    this.socket.on("disconnect", (reason) => this.disconnected(reason));
    this.socket.on("connect_error", (error) => {
      // Refused by the server (not logged in, foreign origin): socket.io does not try again.
      if (!this.socket.active) {
        this.refused = true;
        this.lastProblem = (error && error.message) || "";
      }
      this.refresh();
    });
    this.socket.on("update", (data) => this.item(data)?.remoteUpdate(data.update));
    this.socket.on("awareness", (data) => this.item(data)?.remoteAwareness(data.state));
    this.socket.on("evicted", (data) => this.item(data)?.evict(data.reason, data.title));
    this.socket.on("hint", (data) => this.item(data)?.hint(data.text));
    this.socket.on("record", (data) => this.item(data)?.record(data));
    this.socket.on("attendance", (data) => this.attendance(data));
    this.socket.on("closing", (data) => this.closing(data));

    window.addEventListener("pagehide", () => {
      for (const item of this.items.values()) item.leave();
    });
    // Leaving while typed text waits for the connection would lose it: the browser asks first. (Once the server
    // has ended the connection, or the minutes are closed, it can no longer be stored; the status line says so.)
    window.addEventListener("beforeunload", (event) => {
      if (this.unsaved() > 0 && !this.ended && !this.finished) event.preventDefault();
    });
    this.refresh();
  }

  item(data) {
    return data && this.items.get(data.item);
  }

  connected() {
    this.online = true;
    this.everConnected = true;
    this.connection += 1;
    this.refused = false;
    this.lastProblem = "";
    for (const item of this.items.values()) item.join();
    this.refresh();
  }

  /** The moderator closed the minutes (or opened them again) while this page was open. */
  closing(data) {
    if (!data || this.finished === Boolean(data.closed)) return;
    this.finished = Boolean(data.closed);
    if (this.finished) {
      for (const item of this.items.values()) item.frozen();
      this.problem(TEXT.closedNow);
    } else {
      this.problem(TEXT.reopened);
    }
  }

  disconnected(reason) {
    this.online = false;
    for (const item of this.items.values()) item.offline();
    if (reason === "io server disconnect") {
      // The server ended it (logout, deactivation, expired session): socket.io does not reconnect.
      this.ended = true;
      for (const item of this.items.values()) item.readOnly();
    }
    this.refresh();
  }

  /** Say politely what just came in; `item` is remembered, so an eviction can take the words back. */
  announce(text, item = null) {
    if (!this.news) return;
    this.news.textContent = "";
    this.news.textContent = text;
    if (item === null) delete this.news.dataset.item;
    else this.news.dataset.item = String(item);
  }

  forget(item) {
    if (this.news && this.news.dataset.item === String(item)) this.announce("");
  }

  /** Whether this page offers "Erledigt" for a task, by the rule the server renders it with. */
  mayComplete(entry) {
    if (entry.done || !this.page.csrf || !this.page.taskDone.includes("/0/")) return false;
    return this.page.moderator || String(entry.agency) === this.user.agency;
  }

  /** The conference's attendance as recorded by the moderation: each person's status, the changes announced. */
  attendance(data) {
    if (!data || !Array.isArray(data.attendance)) return;
    const changed = [];
    for (const entry of data.attendance) {
      const label = entry && ATTENDANCE[entry.status];
      if (!label || !Number.isInteger(entry.user)) continue;
      const row = document.querySelector(`[data-attendee="${entry.user}"]`);
      const cell = row && row.querySelector("[data-status]");
      if (!cell || cell.textContent === label) continue;
      cell.textContent = label;
      const name = row.querySelector("[data-name]");
      changed.push(`${name ? name.textContent : ""}: ${label}`);
    }
    if (changed.length) this.announce(`Anwesenheit – ${changed.join("; ")}`);
  }

  problem(message) {
    this.lastProblem = message || "";
    this.refresh();
  }

  saved() {
    // A late acknowledgement does not take back that the minutes are closed.
    if (this.unsaved() === 0 && !this.finished) this.lastProblem = "";
  }

  unsaved() {
    let n = 0;
    for (const item of this.items.values()) n += item.unsaved;
    return n;
  }

  refresh() {
    const unsaved = this.unsaved();
    let oldest = 0;
    for (const item of this.items.values()) {
      const at = item.oldestPending;
      if (at && (!oldest || at < oldest)) oldest = at;
    }
    const slow = oldest > 0 && Date.now() - oldest >= SLOW_MS;
    let text;
    if (this.ended) text = TEXT.ended;
    else if (this.refused) text = TEXT.refused;
    else if (!this.online) {
      text = this.everConnected ? TEXT.offline : TEXT.connecting;
      if (this.everConnected && unsaved) text += ` (${changes(unsaved)} ausstehend)`;
    } else if (slow) text = `Verbunden – ${changes(unsaved)} ${unsaved === 1 ? "wird" : "werden"} gespeichert …`;
    else text = TEXT.online;
    if (this.lastProblem) text += ` ${this.lastProblem}`;
    // The count changes with every batch while typing: an attribute, so the live region stays calm; the
    // text says it only when saving takes long.
    this.status.dataset.pending = String(unsaved);
    this.status.dataset.state = this.ended ? "ended" : this.online ? "online" : "offline";
    if (this.status.textContent !== text) this.status.textContent = text;
    if (oldest > 0 && !slow && !this.slowTimer) {
      this.slowTimer = setTimeout(
        () => {
          this.slowTimer = null;
          this.refresh();
        },
        Math.max(50, oldest + SLOW_MS - Date.now()),
      );
    }
  }
}

function start() {
  const root = document.getElementById("minutes");
  const status = document.getElementById("minutes-status");
  // Closed minutes are shown, not edited: no editor and no connection (the page says so already).
  if (!root || !status || root.dataset.closed === "1") return;
  useConstructedStylesheets(document);
  const channel = new MinutesChannel(root, status, document.getElementById("records-news"));
  sendQuietly(root, (text) => channel.problem(text));
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
