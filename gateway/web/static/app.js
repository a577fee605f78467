// Small enhancements over pages that work without script: actions done in place, the print button.
"use strict";
document.documentElement.classList.add("js");

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

// ลงรับ / คืนเรื่อง / ปฏิเสธ / ส่งต่อ without leaving the page: the row shows the new state (and the receive
// number) at once, and the live region says it to screen readers.
async function actInPlace(event) {
  const form = event.target.closest("form[data-inplace]");
  if (!form) return;
  event.preventDefault();
  const box = form.closest(".actions");
  const result = box.querySelector(".action-result");
  const buttons = box.querySelectorAll("button");
  buttons.forEach((b) => { b.disabled = true; });
  try {
    const response = await fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json", "X-CSRF-Token": csrfToken() },
      credentials: "same-origin",
    });
    const answer = await response.json().catch(() => ({}));
    if (response.status === 401 && answer.signin) { window.location.assign(answer.signin); return; }
    if (!response.ok) throw new Error(answer.message || response.statusText);
    showDone(box, answer);
  } catch (error) {
    result.classList.add("failed");
    result.textContent = error.message;
    buttons.forEach((b) => { b.disabled = false; });
  }
}

function showDone(box, answer) {
  const result = box.querySelector(".action-result");
  result.classList.remove("failed");
  result.textContent = answer.message;
  box.querySelectorAll("form, details").forEach((node) => node.remove());
  const row = box.closest("tr") || box.closest("section");
  const cell = row && row.querySelector(".status-cell");
  if (cell) {
    cell.textContent = "";
    const status = document.createElement("span");
    status.className = "status status-" + answer.status;
    status.textContent = answer.status_label;
    cell.appendChild(status);
  }
  const unread = document.getElementById("unread-count");
  if (row && row.classList.contains("unread") && unread) {
    unread.textContent = Math.max(0, Number(unread.textContent) - 1);
  }
  if (row) row.classList.remove("unread");
}

document.addEventListener("submit", actInPlace);
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
