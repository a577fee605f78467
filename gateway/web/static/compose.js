// Attachments by drag and drop, uploaded through the API while the clerk writes, with real progress; the
// size and type are checked before anything is sent, and the API's refusal is shown if it still refuses.
"use strict";
(function () {
  const form = document.getElementById("compose");
  if (!form) return;
  const input = document.getElementById("files");
  const zone = document.getElementById("dropzone");
  const list = document.getElementById("uploads");
  const message = document.getElementById("upload-message");
  const send = document.getElementById("send");
  const maxBytes = Number(form.dataset.maxBytes);
  const accepted = form.dataset.accept.split(",");
  const says = (key, name) => (form.dataset[key] || "").replace("{name}", name || "");
  let uploading = 0;

  function refusal(file) {
    const dot = file.name.lastIndexOf(".");
    const extension = dot >= 0 ? file.name.slice(dot).toLowerCase() : "";
    if (!accepted.includes(extension)) return says("msgBadType", file.name);
    if (file.size > maxBytes) return says("msgTooLarge", file.name);
    return "";
  }

  function row(file) {
    const item = document.createElement("li");
    const name = document.createElement("span");
    name.className = "file-name";
    name.textContent = file.name;
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", says("msgUploading") + " " + file.name);
    item.append(name, bar);
    list.appendChild(item);
    return { item, bar };
  }

  function finished(item, bar, stored) {
    bar.remove();
    const done = document.createElement("span");
    done.className = "done";
    done.textContent = says("msgUploaded");
    const id = hidden("attachment_ids", stored.id);
    const name = hidden("attachment_names", stored.filename);
    item.append(done, id, name, removeButton(item));
  }

  function failed(item, bar, text) {
    bar.remove();
    const why = document.createElement("span");
    why.className = "failed";
    why.textContent = text;
    item.append(why, removeButton(item));
    message.textContent = text;
  }

  function hidden(name, value) {
    const field = document.createElement("input");
    field.type = "hidden";
    field.name = name;
    field.value = value;
    return field;
  }

  function removeButton(item) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "link remove";
    button.textContent = says("msgRemove");
    return button;
  }

  function upload(file) {
    const refused = refusal(file);
    if (refused) { message.textContent = refused; return; }
    const { item, bar } = row(file);
    const body = new FormData();
    body.append("file", file, file.name);
    const request = new XMLHttpRequest();
    request.open("POST", "/relay/attachments");
    request.setRequestHeader("X-CSRF-Token", document.querySelector('meta[name="csrf-token"]').content);
    request.setRequestHeader("Accept", "application/json");
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) bar.value = Math.round((100 * event.loaded) / event.total);
    });
    uploading += 1;
    request.addEventListener("loadend", () => {
      uploading -= 1;
      let answer = {};
      try { answer = JSON.parse(request.responseText); } catch (ignored) { answer = {}; }
      if (request.status === 201) finished(item, bar, answer);
      else if (request.status === 401 && answer.signin) window.location.assign(answer.signin);
      else failed(item, bar, answer.detail || answer.message || request.statusText || "upload failed");
    });
    request.send(body);
  }

  function take(files) {
    message.textContent = "";
    Array.from(files).forEach(upload);
    input.value = ""; // uploaded already: the form itself must not post the files again
  }

  input.addEventListener("change", () => take(input.files));
  zone.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); input.click(); }
  });
  zone.tabIndex = 0;
  zone.setAttribute("role", "button");
  ["dragenter", "dragover"].forEach((type) => zone.addEventListener(type, (event) => {
    event.preventDefault();
    zone.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((type) => zone.addEventListener(type, () => zone.classList.remove("over")));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    take(event.dataTransfer.files);
  });
  list.addEventListener("click", (event) => {
    const button = event.target.closest("button.remove");
    if (button) button.closest("li").remove();
  });

  // One letter per form: the button is held after the first press; the Idempotency-Key covers the rest.
  form.addEventListener("submit", (event) => {
    if (uploading > 0) {
      event.preventDefault();
      message.textContent = says("msgWait");
      return;
    }
    if (form.dataset.sent) { event.preventDefault(); return; }
    form.dataset.sent = "1";
    send.disabled = true;
    send.textContent = says("msgSending");
  });

  const summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
