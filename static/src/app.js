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

document.addEventListener("DOMContentLoaded", () => {
  focusErrorSummary();
  confirmIrreversible();
});
