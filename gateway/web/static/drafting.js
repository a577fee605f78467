// The drafting form: the preview of the official layout follows what is typed (after a pause), and the
// reviewers are a list that grows, shrinks and is put in order with buttons. Without this script the form
// still saves, the preview is refreshed with its button, and spare reviewer boxes are drawn by the server.
"use strict";
(function () {
  const form = document.getElementById("compose");
  if (!form || !form.dataset.preview) return;
  const says = (key, n) => (form.dataset[key] || "").split("{n}").join(n === undefined ? "" : String(n));

  // ---- the live preview ----------------------------------------------------------------------------------
  // The page's CSP lets frames show this site only, so the PDF is not made into a blob: the form itself is
  // posted to /drafts/preview into a fresh frame, which replaces the old one once it has loaded (a new frame
  // each time also keeps the previews out of the browser's Back history).
  const frames = document.getElementById("preview-frames");
  const status = document.getElementById("preview-status");
  const button = document.getElementById("preview-button");
  const PAUSE = 900;
  let timer = null;
  let count = 0;

  function refresh() {
    clearTimeout(timer);
    timer = null;
    count += 1;
    const name = "preview-" + count;
    const fresh = document.createElement("iframe");
    fresh.name = name;
    fresh.className = "preview-frame loading";
    fresh.title = document.getElementById("preview-heading").textContent;
    frames.appendChild(fresh);
    status.textContent = says("msgUpdating");
    fresh.addEventListener("load", () => {
      if (fresh.name !== "preview-" + count) { fresh.remove(); return; } // a later preview is on its way
      frames.querySelectorAll("iframe").forEach((old) => { if (old !== fresh) old.remove(); });
      fresh.classList.remove("loading");
      fresh.id = "preview-frame";
      status.textContent = says("msgUpdated");
    });
    const saved = { action: form.getAttribute("action"), target: form.getAttribute("target") };
    form.setAttribute("action", form.dataset.preview);
    form.setAttribute("target", name);
    form.submit(); // no submit event: the save guard of compose.js is not involved
    form.setAttribute("action", saved.action);
    if (saved.target === null) form.removeAttribute("target"); else form.setAttribute("target", saved.target);
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(refresh, PAUSE);
  }

  // What is typed into the picker's search box is a search, not a part of the letter.
  const typed = (event) => event.target.type !== "file" && !event.target.closest(".picker-box");
  form.addEventListener("input", (event) => { if (typed(event)) later(); });
  form.addEventListener("change", (event) => { if (typed(event)) later(); });
  // Chips of the recipient picker and uploaded files are added to the page, not typed.
  const watch = new MutationObserver(later);
  form.querySelectorAll(".chips, #uploads").forEach((node) => watch.observe(node, { childList: true }));
  button.addEventListener("click", (event) => { event.preventDefault(); refresh(); });
  // A saved draft's frame starts with its saved version, which is what the form holds; a new one needs a first look.
  if (!document.getElementById("preview-frame").getAttribute("src")) refresh();

  // ---- reviewers in order ----------------------------------------------------------------------------
  const list = document.getElementById("reviewer-list");
  if (!list) return;
  const max = Number(list.dataset.max || 10);
  const live = document.createElement("p");
  live.className = "visually-hidden";
  live.setAttribute("role", "status");
  live.setAttribute("aria-live", "polite");
  list.after(live);
  const add = document.createElement("button");
  add.type = "button";
  add.className = "small";
  add.id = "add-reviewer";
  add.textContent = says("msgAddReviewer");
  live.after(add);

  function rows() { return Array.from(list.querySelectorAll(".reviewer-row")); }

  function tool(text, action) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "link small";
    b.dataset.action = action;
    b.textContent = text;
    return b;
  }

  // Every row says its place: its label, its buttons' names (for a screen reader) and its input's id.
  function renumber() {
    const all = rows();
    all.forEach((row, index) => {
      const n = index + 1;
      const input = row.querySelector("input");
      const label = row.querySelector("label");
      input.id = "reviewer-" + n;
      label.htmlFor = input.id;
      label.textContent = says("msgReviewer", n);
      let tools = row.querySelector(".row-tools");
      if (!tools) {
        tools = document.createElement("span");
        tools.className = "row-tools";
        tools.append(tool("↑", "up"), tool("↓", "down"), tool("✕", "remove"));
        row.appendChild(tools);
      }
      const [up, down, remove] = tools.querySelectorAll("button");
      up.setAttribute("aria-label", says("msgUp", n));
      down.setAttribute("aria-label", says("msgDown", n));
      remove.setAttribute("aria-label", says("msgRemoveReviewer", n));
      up.disabled = index === 0;
      down.disabled = index === all.length - 1;
    });
    add.disabled = all.length >= max;
  }

  function newRow() {
    const row = document.createElement("li");
    row.className = "reviewer-row";
    const label = document.createElement("label");
    const input = document.createElement("input");
    input.name = "reviewer";
    input.setAttribute("list", "people");
    input.autocomplete = "off";
    input.maxLength = 300;
    input.className = "person-input";
    row.append(label, input);
    return row;
  }

  // Spare empty boxes are for a browser without the script; here one box is added at a time.
  rows().slice(1).forEach((row) => { if (!row.querySelector("input").value.trim()) row.remove(); });
  renumber();

  add.addEventListener("click", () => {
    const row = newRow();
    list.appendChild(row);
    renumber();
    row.querySelector("input").focus();
  });

  list.addEventListener("click", (event) => {
    const b = event.target.closest("button[data-action]");
    if (!b) return;
    const row = b.closest(".reviewer-row");
    if (b.dataset.action === "remove") {
      const next = row.nextElementSibling || row.previousElementSibling;
      if (rows().length === 1) { row.querySelector("input").value = ""; later(); return; }
      row.remove();
      renumber();
      (next ? next.querySelector("input") : add).focus();
    } else if (b.dataset.action === "up" && row.previousElementSibling) {
      list.insertBefore(row, row.previousElementSibling);
      renumber();
      b.disabled ? row.querySelector("input").focus() : b.focus();
    } else if (b.dataset.action === "down" && row.nextElementSibling) {
      list.insertBefore(row.nextElementSibling, row);
      renumber();
      b.disabled ? row.querySelector("input").focus() : b.focus();
    } else {
      return;
    }
    live.textContent = row.isConnected ? says("msgMoved", rows().indexOf(row) + 1) : "";
    later();
  });
})();
