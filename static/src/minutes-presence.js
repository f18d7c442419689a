// Who is in an agenda item: the others' cursors and selections in the editor, and a readable list of names.
// Styles come from app.css and the CSSOM (element.style), never from style attributes, which the CSP refuses.

import { Annotation } from "@codemirror/state";
import { Decoration, ViewPlugin, WidgetType } from "@codemirror/view";
import * as Y from "yjs";

const COLOR = /^#[0-9a-fA-F]{6}$/;
const FALLBACK_COLOR = "#1f4e79";

/** A colour from another browser is used only if it is a plain #rrggbb value. */
export function safeColor(value) {
  return typeof value === "string" && COLOR.test(value) ? value : FALLBACK_COLOR;
}

export function personLabel(user) {
  const name = String(user.name || "Unbekannt");
  return user.agency ? `${name} (${user.agency})` : name;
}

const redraw = Annotation.define();

class RemoteCaret extends WidgetType {
  constructor(color, label) {
    super();
    this.color = color;
    this.label = label;
  }

  eq(other) {
    return other.color === this.color && other.label === this.label;
  }

  toDOM() {
    // Visual only: the name is drawn by CSS from data-label, so it is not part of the text; the presence
    // list says the same in words.
    const caret = document.createElement("span");
    caret.className = "remote-caret";
    caret.setAttribute("aria-hidden", "true");
    caret.dataset.label = this.label;
    caret.style.setProperty("--caret-color", this.color);
    return caret;
  }

  ignoreEvent() {
    return true;
  }
}

function absolute(json, ytext) {
  if (!json) return null;
  const pos = Y.createAbsolutePositionFromRelativePosition(Y.createRelativePositionFromJSON(json), ytext.doc);
  return pos && pos.type === ytext ? pos.index : null;
}

function samePosition(json, position) {
  return json != null && Y.compareRelativePositions(Y.createRelativePositionFromJSON(json), position);
}

/** Publish the local cursor (while the editor has the focus) and draw everyone else's. */
export function remoteCursors(ytext, awareness) {
  return ViewPlugin.fromClass(
    class {
      constructor(view) {
        this.view = view;
        this.onChange = ({ added, updated, removed }) => {
          const others = [...added, ...updated, ...removed].some((id) => id !== awareness.clientID);
          if (others) view.dispatch({ annotations: redraw.of(true) });
        };
        awareness.on("change", this.onChange);
        this.decorations = this.build(view.state);
      }

      update(update) {
        this.publish(update);
        this.decorations = this.build(update.state);
      }

      publish(update) {
        const local = awareness.getLocalState();
        if (local == null) return;
        if (!update.view.hasFocus) {
          if (local.cursor != null) awareness.setLocalStateField("cursor", null);
          return;
        }
        const { anchor, head } = update.state.selection.main;
        const a = Y.createRelativePositionFromTypeIndex(ytext, anchor);
        const h = Y.createRelativePositionFromTypeIndex(ytext, head);
        const cursor = local.cursor;
        if (cursor == null || !samePosition(cursor.anchor, a) || !samePosition(cursor.head, h)) {
          awareness.setLocalStateField("cursor", {
            anchor: Y.relativePositionToJSON(a),
            head: Y.relativePositionToJSON(h),
          });
        }
      }

      build(state) {
        const marks = [];
        const length = state.doc.length;
        awareness.getStates().forEach((peer, clientId) => {
          if (clientId === awareness.clientID || !peer || !peer.user || !peer.cursor) return;
          let anchor = absolute(peer.cursor.anchor, ytext);
          let head = absolute(peer.cursor.head, ytext);
          if (anchor == null || head == null) return;
          anchor = Math.min(anchor, length);
          head = Math.min(head, length);
          const color = safeColor(peer.user.color);
          const from = Math.min(anchor, head);
          const to = Math.max(anchor, head);
          if (from < to) {
            // CodeMirror applies a decoration's style through element.style (the CSSOM), which the CSP allows.
            marks.push(
              Decoration.mark({ class: "remote-selection", attributes: { style: `background-color: ${color}33` } }).range(
                from,
                to,
              ),
            );
          }
          marks.push(
            Decoration.widget({ widget: new RemoteCaret(color, personLabel(peer.user)), side: head > anchor ? -1 : 1 }).range(
              head,
            ),
          );
        });
        return Decoration.set(marks, true);
      }

      destroy() {
        awareness.off("change", this.onChange);
      }
    },
    { decorations: (plugin) => plugin.decorations },
  );
}

/** The people in the item as a list of names; rewritten only when what it says changes. */
export function renderPresence(container, awareness, itemLabel) {
  const people = [];
  awareness.getStates().forEach((state, clientId) => {
    if (state && state.user) people.push({ user: state.user, self: clientId === awareness.clientID, here: !!state.cursor });
  });
  people.sort((a, b) => (a.self === b.self ? personLabel(a.user).localeCompare(personLabel(b.user), "de") : a.self ? -1 : 1));
  const lines = people.map((p) => {
    const notes = [p.self ? "Sie" : "", p.here ? "schreibt hier" : ""].filter(Boolean).join(", ");
    return { color: safeColor(p.user.color), text: personLabel(p.user) + (notes ? ` – ${notes}` : "") };
  });
  const key = JSON.stringify(lines);
  if (container.dataset.shown === key) return;
  container.dataset.shown = key;
  if (!lines.length) {
    container.replaceChildren();
    return;
  }
  const title = document.createElement("span");
  title.className = "presence-title";
  title.textContent = "Gerade im Protokoll:";
  const list = document.createElement("ul");
  list.setAttribute("aria-label", `Gerade im Protokoll zu ${itemLabel}`);
  for (const line of lines) {
    const entry = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = "presence-swatch";
    swatch.setAttribute("aria-hidden", "true");
    swatch.style.backgroundColor = line.color;
    entry.append(swatch, line.text);
    list.append(entry);
  }
  container.replaceChildren(title, list);
}
