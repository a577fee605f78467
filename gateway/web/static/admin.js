// The administrator's pages: copying a one-time sign-in link. Without this script the link is in a read-only
// box to select and copy by hand.
"use strict";
document.querySelectorAll("[data-copy]").forEach((button) => {
  const box = document.getElementById(button.dataset.copy);
  const result = button.closest("section").querySelector(".copy-result");
  if (!box || !navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(box.value);
      result.textContent = button.dataset.copied;
    } catch (error) {
      box.select();
      result.textContent = error.message;
    }
  });
});
