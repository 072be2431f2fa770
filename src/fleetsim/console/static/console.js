// fleetsim console: small progressive enhancements; every page works without them.
"use strict";

// Refresh a fragment from its data-poll URL every data-every ms, until it says it is done.
document.querySelectorAll("[data-poll]").forEach((element) => {
  const every = Number(element.dataset.every || 1500);
  const refresh = async () => {
    if (element.querySelector("[data-finished]")) return;
    try {
      const response = await fetch(element.dataset.poll, { credentials: "same-origin" });
      // Redirected: signed out (the sign-in page is not a fragment); stop here.
      if (response.redirected) return;
      if (response.ok) element.innerHTML = await response.text();
    } catch (error) {
      // The server restarting: try again on the next tick.
    }
    window.setTimeout(refresh, every);
  };
  window.setTimeout(refresh, every);
});

// "Select all" checkboxes for bulk actions.
document.querySelectorAll("[data-select-all]").forEach((box) => {
  box.addEventListener("change", () => {
    document.querySelectorAll(`input[name="${box.dataset.selectAll}"]`).forEach((c) => {
      c.checked = box.checked;
    });
  });
});

// Forms that ask before doing something that cannot be undone.
document.querySelectorAll("form[data-confirm]").forEach((form) => {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
});

// Selects that submit their form when changed (the operator's account switch).
document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
  select.addEventListener("change", () => select.form.submit());
});
