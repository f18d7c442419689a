// Progressive enhancement only: every page works without this script.

function focusErrorSummary() {
  const summary = document.querySelector(".error-summary");
  if (summary) summary.focus();
}

// A form with data-confirm asks before it sends what cannot be taken back (a revocation, a cancellation).
function confirmIrreversible() {
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
}

// A person list that belongs to an agency list (data-agency-from) offers only that agency's people; the server
// checks the pair anyway, this only saves a refusal.
function peopleOfAgency() {
  for (const people of document.querySelectorAll("select[data-agency-from]")) {
    const agency = document.getElementById(people.dataset.agencyFrom);
    if (!agency) continue;
    const filter = () => {
      for (const option of people.options) {
        const other = option.dataset.agency !== undefined && option.dataset.agency !== agency.value;
        option.hidden = other;
        option.disabled = other;
      }
      if (people.selectedOptions[0]?.disabled) people.value = "";
    };
    agency.addEventListener("change", filter);
    filter();
  }
}

document.addEventListener("DOMContentLoaded", () => {
  focusErrorSummary();
  confirmIrreversible();
  peopleOfAgency();
});
