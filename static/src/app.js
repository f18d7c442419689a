// Progressive enhancement only: every page works without this script.

function focusErrorSummary() {
  const summary = document.querySelector(".error-summary");
  if (summary) summary.focus();
}

// A form, the button that sends it, or a chosen option of its lists with data-confirm asks before it sends what
// cannot be taken back (a revocation, a cancellation, removing an agenda item, closing a backlog item for good).
function confirmIrreversible() {
  document.addEventListener("submit", (event) => {
    const chosen = [...event.target.querySelectorAll("option:checked")].find((o) => o.dataset.confirm !== undefined);
    const question = event.submitter?.dataset.confirm ?? event.target.dataset.confirm ?? chosen?.dataset.confirm;
    if (question !== undefined && !window.confirm(question)) event.preventDefault();
  });
}

// A person list that belongs to an agency list (data-agency-from) offers only that agency's people; the server
// checks the pair anyway, this only saves a refusal.
function peopleOfAgency() {
  for (const people of document.querySelectorAll("select[data-agency-from]")) {
    const agency = document.getElementById(people.dataset.agencyFrom);
    if (!agency) continue;
    // A form that came back refused keeps the person that was chosen, even of another agency, so the message
    // about the pair can be read against it; from the next change of agency on, the list follows the agency.
    const kept = people.value;
    const filter = (keep) => {
      for (const option of people.options) {
        const other = option.dataset.agency !== undefined && option.dataset.agency !== agency.value;
        const shown = !other || (keep && kept !== "" && option.value === kept);
        option.hidden = !shown;
        option.disabled = !shown;
      }
      if (people.selectedOptions[0]?.disabled) people.value = "";
    };
    agency.addEventListener("change", () => filter(false));
    filter(true);
  }
}

// After saving, a form sends the browser back to its own section (…#vermerke); the confirmation, printed at the
// top of the page, would be out of sight there. It moves next to that section instead.
function fragmentId() {
  try {
    return decodeURIComponent(window.location.hash.slice(1));
  } catch {
    return ""; // a malformed #fragment names nothing
  }
}

function flashNearTarget() {
  const id = fragmentId();
  const target = id ? document.getElementById(id) : null;
  const flashes = [...document.querySelectorAll("main > .flash")];
  if (!target || !flashes.length || target.closest(".site-header")) return;
  // Right under the section's heading, where the browser's jump to the section shows it.
  const heading = /^H[1-6]$/.test(target.tagName) ? target : target.querySelector("h2, h3");
  if (heading) heading.after(...flashes);
  else target.before(...flashes);
}

// After moving an agenda item with its "nach oben"/"nach unten" button, the focus is on that button again (or on
// the other one, where the item reached the top or the bottom).
function focusMovedItem() {
  const direction = new URLSearchParams(window.location.search).get("fokus");
  const id = fragmentId();
  const item = id ? document.getElementById(id) : null;
  if (!item || !direction) return;
  // at the top (or the bottom) now, the item has only the other button
  const button =
    item.querySelector(`button[data-move="${CSS.escape(direction)}"]`) || item.querySelector("button[data-move]");
  if (button) button.focus();
}
// After saving, the page goes back to the section the form was in; the keyboard focus goes there too (to its
// heading, focusable from script only), instead of to the top of the page, and an item's form for decisions and
// tasks is open again for the next entry.
function focusSavedSection() {
  if (new URLSearchParams(window.location.search).has("fokus") || document.querySelector(".error-summary")) return;
  const id = fragmentId();
  const target = id ? document.getElementById(id) : null;
  if (!target || !document.querySelector("main .flash") || target.closest(".site-header")) return;
  const isHeading = /^H[1-6]$/.test(target.tagName);
  const section = isHeading ? target.closest("section") || target : target;
  const heading = isHeading ? target : target.querySelector("h2, h3");
  const recordForms = section.querySelector("details.record-forms");
  if (recordForms) recordForms.open = true;
  if (heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
}

// Only once the browser has gone to the page's #fragment, which would take the focus back to the page.
window.addEventListener("load", () =>
  setTimeout(() => {
    focusMovedItem();
    focusSavedSection();
  }, 0),
);

document.addEventListener("DOMContentLoaded", () => {
  confirmIrreversible(); // first what guards and helps input, then what only arranges the page
  peopleOfAgency();
  flashNearTarget();
  focusErrorSummary();
});
