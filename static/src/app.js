// Progressive enhancement only: every page works without this script.

function focusErrorSummary() {
  const summary = document.querySelector(".error-summary");
  if (summary) summary.focus();
}

function confirmRevocation() {
  for (const form of document.querySelectorAll("form.revoke")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm("Einwilligung jetzt widerrufen? Der Widerruf gilt sofort.")) event.preventDefault();
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  focusErrorSummary();
  confirmRevocation();
});
