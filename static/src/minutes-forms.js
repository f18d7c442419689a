// The forms on the minutes page – a decision, a task, "Erledigt" – are sent in the background (data-quiet).
// Following a form to another page would close every editor on this one, and with them whatever typed text was
// not stored yet. The stored entry reaches this page like everyone else's, over the item's room; the form only
// says whether it was stored. Without this script the forms post and come back, as everywhere else.

const FAILED =
  "Nicht gespeichert: keine Verbindung zum Server. Ihre Eingabe steht weiterhin im Formular; " +
  "bitte speichern Sie erneut, sobald die Verbindung wieder steht.";

const UNCLEAR =
  "Die Antwort des Servers war unklar. Ihre Eingabe steht weiterhin im Formular; bitte prüfen Sie unter " +
  "„Ergebnisse und Genehmigung“, ob der Eintrag gespeichert ist.";

/** What the server said, in the form's status line, or (a form without one) through `report`. */
function say(form, text, failed, report) {
  const line = form.querySelector("[data-form-status]");
  if (!line) {
    if (failed) report(text);
    return;
  }
  line.classList.toggle("error", failed);
  line.textContent = "";
  line.textContent = text;
}

async function send(form, submitter, report) {
  form.dataset.sending = "1";
  say(form, "", false, report);
  try {
    const response = await fetch(form.action, {
      method: "POST",
      body: new FormData(form, submitter),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    // Only the server's own JSON answer says what happened; anything else (a login page behind a proxy, say) does
    // not, and the input stays where it is.
    const isJson = (response.headers.get("Content-Type") || "").startsWith("application/json");
    const answer = isJson && !response.redirected ? await response.json().catch(() => null) : null;
    if (!answer) {
      say(form, UNCLEAR, true, report);
      return;
    }
    if (response.ok) {
      form.reset();
      // a list of people that follows a list of agencies follows it again after the reset
      for (const select of form.querySelectorAll("select")) select.dispatchEvent(new Event("change"));
      say(form, answer.message || "Gespeichert.", false, report);
      return;
    }
    const why = Object.values(answer.errors || {}).join(" ");
    say(form, `${answer.error || "Nicht gespeichert."} ${why}`.trim(), true, report);
  } catch {
    say(form, FAILED, true, report);
  } finally {
    delete form.dataset.sending;
  }
}

/** Send every data-quiet form inside `root` in the background; `report(text)` shows a refusal of a form that has
 * no status line of its own ("Erledigt"). */
export function sendQuietly(root, report) {
  root.addEventListener("submit", (event) => {
    const form = event.target;
    if (event.defaultPrevented || !(form instanceof HTMLFormElement) || !form.matches("[data-quiet]")) return;
    event.preventDefault();
    if (!form.dataset.sending) send(form, event.submitter, report);
  });
}
