// Progressive touches only: every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // "Select all shown" on the Failures page: ticks every failure's checkbox.
  const all = document.getElementById("select-all");
  const label = document.getElementById("select-all-label");
  if (all && label) {
    label.hidden = false;
    all.addEventListener("change", () => {
      for (const box of document.querySelectorAll('input[type="checkbox"][name="id"]')) {
        box.checked = all.checked;
      }
    });
  }
});
