// The recipient picker: type-ahead over the whole directory (any fragment of a Thai or English name or of a
// letter code), the unit tree to browse, and recipient groups, with the chosen ones as removable chips.
// The directory is downloaded once (/directory.json) and filtered here; only the suggestions shown and the
// tree levels opened are ever in the page. Without this script the page offers a text box instead, read by
// the server (gateway/web/directory.py).
"use strict";
(function () {
  const pickers = document.querySelectorAll("[data-picker]");
  if (!pickers.length) return;
  let loading = null;

  // Both sides compare the same way: NFC, lower case, no spaces ("กค 0402" = "กค0402").
  function fold(text) {
    return (text || "").normalize("NFC").replace(/\u0e4d([\u0e48-\u0e4b]?)\u0e32/g, "$1\u0e33").toLowerCase().replace(/\s+/g, "");
  }

  function load() {
    if (!loading) {
      loading = fetch("/directory.json", { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then((response) => {
          if (response.status === 401) {
            return response.json().then((answer) => { window.location.assign(answer.signin || "/signin"); throw new Error("signin"); });
          }
          if (!response.ok) throw new Error(response.statusText);
          return response.json();
        })
        .then(index);
      loading.catch(() => { loading = null; });
    }
    return loading;
  }

  function index(data) {
    const at = {};
    data.fields.forEach((name, n) => { at[name] = n; });
    const units = data.units.map((row, n) => ({
      row: n,
      id: row[at.id],
      key: row[at.key],
      name: row[at.name],
      nameEn: row[at.name_en] || "",
      code: row[at.code],
      kind: row[at.kind],
      parent: row[at.parent],
      children: [],
    }));
    units.forEach((unit) => {
      unit.folded = [fold(unit.code), fold(unit.name), fold(unit.nameEn)];
      if (unit.parent >= 0) units[unit.parent].children.push(unit.row);
    });
    const byId = new Map(units.map((unit) => [unit.id, unit]));
    const groups = data.groups.map((row) => ({ id: row[0], name: row[1], folded: fold(row[1]) }));
    return { units, byId, groups, roots: units.filter((u) => u.parent < 0), blocked: new Set(data.not_recipients) };
  }

  function rank(folded, wanted) {
    if (folded.includes(wanted)) return 0;
    if (folded.some((text) => text.startsWith(wanted))) return 1;
    if (folded.some((text) => text.includes(wanted))) return 2;
    return -1;
  }

  function el(tag, attributes, text) {
    const node = document.createElement(tag);
    Object.entries(attributes || {}).forEach(([name, value]) => node.setAttribute(name, value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function Picker(root, number) {
    const says = (key, values) => {
      let text = root.dataset[key] || "";
      Object.entries(values || {}).forEach(([name, value]) => { text = text.split("{" + name + "}").join(value); });
      return text;
    };
    const field = root.dataset.field;
    const groupField = root.dataset.groupField || "";
    const exclude = root.dataset.exclude || "";
    const shown = Number(root.dataset.shown || 20);
    // One unit of any kind (a person's unit): a new choice replaces the old one.
    const single = root.dataset.single !== undefined;
    const base = "picker-" + number;
    const chips = root.querySelector(".chips");
    const fallback = root.querySelector(".picker-fallback");
    let directory = null;
    let options = [];
    let active = -1;

    // The widgets: a combobox with its listbox, a live region, and the tree behind a disclosure button.
    const box = el("div", { class: "picker-box" });
    const label = el("label", { for: base + "-input" }, says("msgLabel"));
    const input = el("input", {
      id: base + "-input", type: "text", role: "combobox", "aria-expanded": "false", "aria-autocomplete": "list",
      "aria-controls": base + "-list", "aria-describedby": base + "-help", autocomplete: "off", spellcheck: "false",
      class: "picker-input",
    });
    const help = el("p", { id: base + "-help", class: "meta" }, says("msgHelp"));
    const list = el("ul", { id: base + "-list", role: "listbox", class: "suggestions", hidden: "", "aria-label": says("msgLabel") });
    const more = el("p", { class: "suggestion-count", id: base + "-count", "aria-live": "polite" });
    const live = el("p", { class: "visually-hidden", role: "status", "aria-live": "polite" });
    const browse = el("button", { type: "button", class: "link browse", "aria-expanded": "false", "aria-controls": base + "-tree" }, says("msgBrowse"));
    const tree = el("ul", { id: base + "-tree", role: "tree", class: "tree", hidden: "", "aria-label": says("msgTree"), "aria-multiselectable": single ? "false" : "true" });
    box.append(label, input, help, list, more, browse, tree, live);
    root.insertBefore(box, chips.nextSibling);

    // What the server drew (a refused form's choices) becomes chips; the text box is for browsers without script.
    chips.querySelectorAll("input[type=checkbox]").forEach((check) => {
      if (check.checked) chip(check.name, check.value, check.dataset.label || check.parentNode.textContent.trim(), check.dataset.key || "");
      check.closest("li").remove();
    });
    if (fallback) {
      fallback.querySelectorAll("input[type=checkbox]:checked").forEach((check) => {
        chip(check.name, check.value, check.dataset.label || check.parentNode.textContent.trim(), check.dataset.key || "");
      });
      fallback.hidden = true;
      fallback.querySelectorAll("input, textarea").forEach((node) => { node.disabled = true; });
    }
    if (root.dataset.prefetch !== undefined) load().catch(() => {});

    function chosen(name, value) {
      return Array.from(chips.querySelectorAll("input[type=hidden]")).some((hidden) => hidden.name === name && hidden.value === value);
    }

    function chip(name, value, text, key) {
      if (chosen(name, value)) return false;
      if (single && name === field) chips.querySelectorAll("li.chip").forEach((other) => other.remove());
      const item = el("li", { class: "chip" + (name === groupField ? " group" : ""), "data-value": value });
      if (key) item.dataset.key = key;
      const words = el("span", { class: "chip-label" }, text);
      const hidden = el("input", { type: "hidden", name: name, value: value });
      const remove = el("button", { type: "button", class: "chip-remove", "aria-label": says("msgRemove", { name: text }) }, "×");
      remove.addEventListener("click", () => {
        item.remove();
        live.textContent = says("msgRemoved", { name: text });
        markTree();
        input.focus();
      });
      item.append(words, hidden, remove);
      chips.appendChild(item);
      return true;
    }

    function choose(option) {
      const added = chip(option.field, option.id, option.text, option.key || "");
      live.textContent = says(added ? "msgAdded" : "msgAlready", { name: option.text });
      input.value = "";
      close();
      markTree();
      input.focus();
    }

    function selectable(unit) {
      return unit.id !== exclude && (single || !directory.blocked.has(unit.kind));
    }

    function where(unit) {
      const names = [];
      let parent = unit.parent;
      while (parent >= 0 && names.length < 2) {
        names.push(directory.units[parent].name);
        parent = directory.units[parent].parent;
      }
      return names.join(" › ");
    }

    function suggest() {
      const wanted = fold(input.value);
      if (!wanted) { close(); return; }
      const groups = groupField ? directory.groups.filter((g) => g.folded.includes(wanted)) : [];
      const found = [];
      directory.units.forEach((unit) => {
        if (!selectable(unit)) return;
        const r = rank(unit.folded, wanted);
        if (r >= 0) found.push([r, unit.row]);
      });
      found.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      options = groups.map((g) => ({ field: groupField, id: g.id, text: g.name, detail: says("msgGroup") }))
        .concat(found.slice(0, shown).map(([, row]) => {
          const unit = directory.units[row];
          return { field: field, id: unit.id, key: unit.key, text: unit.name, code: unit.code, detail: where(unit), en: unit.nameEn };
        }));
      draw(found.length);
    }

    function draw(total) {
      list.textContent = "";
      options.forEach((option, n) => {
        const item = el("li", { id: base + "-opt-" + n, role: "option", "aria-selected": "false", class: "suggestion" });
        if (option.key) item.dataset.key = option.key;
        item.append(el("span", { class: "suggestion-name" }, option.text));
        if (option.code) item.append(" ", el("small", { class: "code" }, option.code));
        if (option.detail) item.append(el("span", { class: "suggestion-where" }, option.detail));
        item.addEventListener("mousedown", (event) => { event.preventDefault(); choose(option); });
        list.appendChild(item);
      });
      const rest = Math.max(0, total - shown);
      more.textContent = options.length === 0 ? says("msgNone")
        : rest > 0 ? says("msgMore", { shown: String(Math.min(total, shown)), total: String(total) })
        : says("msgCount", { n: String(options.length) });
      list.hidden = options.length === 0;
      input.setAttribute("aria-expanded", options.length ? "true" : "false");
      move(options.length ? 0 : -1);
    }

    function move(to) {
      const items = list.querySelectorAll("[role=option]");
      if (active >= 0 && items[active]) items[active].setAttribute("aria-selected", "false");
      active = to;
      if (active >= 0 && items[active]) {
        items[active].setAttribute("aria-selected", "true");
        input.setAttribute("aria-activedescendant", items[active].id);
        items[active].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function close() {
      options = [];
      list.textContent = "";
      list.hidden = true;
      more.textContent = "";
      input.setAttribute("aria-expanded", "false");
      move(-1);
    }

    function ready(then) {
      if (directory) { then(); return; }
      more.textContent = says("msgLoading");
      load().then((found) => { directory = found; more.textContent = ""; then(); }, () => {
        more.textContent = says("msgFailed");
        // Without the directory the text box the server reads is the way left to name recipients.
        if (fallback) {
          fallback.hidden = false;
          fallback.querySelectorAll("input, textarea").forEach((node) => { node.disabled = false; });
        }
      });
    }

    input.addEventListener("focus", () => ready(() => {}));
    input.addEventListener("input", () => ready(suggest));
    input.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown" && options.length) { event.preventDefault(); move((active + 1) % options.length); }
      else if (event.key === "ArrowUp" && options.length) { event.preventDefault(); move((active - 1 + options.length) % options.length); }
      else if (event.key === "Enter") {
        // Enter in the box chooses the suggestion; it never sends the letter half-addressed.
        event.preventDefault();
        if (active >= 0 && options[active]) choose(options[active]);
      } else if (event.key === "Escape") { close(); }
      else if (event.key === "Backspace" && !input.value) {
        const last = chips.querySelector("li.chip:last-child .chip-remove");
        if (last) last.click();
      }
    });
    input.addEventListener("blur", () => { window.setTimeout(close, 150); });

    // The tree: only the levels opened are drawn, so 8,000 units never sit in the page at once.
    browse.addEventListener("click", () => {
      const open = browse.getAttribute("aria-expanded") !== "true";
      browse.setAttribute("aria-expanded", open ? "true" : "false");
      tree.hidden = !open;
      if (open) ready(() => {
        if (!tree.childElementCount) {
          directory.roots.forEach((unit) => tree.appendChild(treeItem(unit, 1)));
          if (groupField && directory.groups.length) tree.prepend(groupBranch());
          const first = tree.querySelector("[role=treeitem]");
          if (first) first.tabIndex = 0;
        }
        markTree();
      });
    });

    function groupBranch() {
      const item = el("li", { role: "treeitem", "aria-expanded": "false", "aria-level": "1", tabindex: "-1", id: base + "-groups" });
      const words = el("span", { class: "tree-label", id: base + "-groups-label" }, says("msgGroups"));
      item.setAttribute("aria-labelledby", words.id);
      item.append(el("span", { class: "twisty", "aria-hidden": "true" }), words);
      item.groupRows = directory.groups;
      return item;
    }

    function treeItem(unit, level) {
      const item = el("li", { role: "treeitem", "aria-level": String(level), tabindex: "-1", id: base + "-u" + unit.row, "data-key": unit.key });
      item.unit = unit;
      const words = el("span", { class: "tree-label", id: base + "-u" + unit.row + "-label" }, unit.name + " ");
      words.append(el("small", { class: "code" }, unit.code));
      item.setAttribute("aria-labelledby", words.id);
      if (unit.children.length) item.setAttribute("aria-expanded", "false");
      if (selectable(unit)) item.setAttribute("aria-selected", "false");
      else item.setAttribute("aria-disabled", "true");
      item.append(el("span", { class: "twisty", "aria-hidden": "true" }), words);
      return item;
    }

    function groupItem(group) {
      const item = el("li", { role: "treeitem", "aria-level": "2", tabindex: "-1", "aria-selected": "false", id: base + "-g-" + group.id });
      item.group = group;
      const words = el("span", { class: "tree-label", id: item.id + "-label" }, group.name);
      item.setAttribute("aria-labelledby", words.id);
      item.append(el("span", { class: "twisty", "aria-hidden": "true" }), words);
      return item;
    }

    function expand(item, open) {
      if (!item.hasAttribute("aria-expanded")) return;
      item.setAttribute("aria-expanded", open ? "true" : "false");
      let branch = item.querySelector(":scope > [role=group]");
      if (open && !branch) {
        branch = el("ul", { role: "group" });
        if (item.groupRows) item.groupRows.forEach((group) => branch.appendChild(groupItem(group)));
        else item.unit.children.forEach((row) => branch.appendChild(treeItem(directory.units[row], Number(item.getAttribute("aria-level")) + 1)));
        item.appendChild(branch);
        markTree();
      }
      if (branch) branch.hidden = !open;
    }

    function toggleChoice(item) {
      if (item.group) { choose({ field: groupField, id: item.group.id, text: item.group.name }); focusItem(item); return; }
      if (!item.unit || !selectable(item.unit)) { expand(item, item.getAttribute("aria-expanded") !== "true"); return; }
      const unit = item.unit;
      if (chosen(field, unit.id)) {
        const existing = Array.from(chips.children).find((li) => li.dataset.value === unit.id);
        if (existing) existing.remove();
        live.textContent = says("msgRemoved", { name: unit.name });
      } else {
        chip(field, unit.id, unit.name, unit.key);
        live.textContent = says("msgAdded", { name: unit.name });
      }
      markTree();
    }

    function markTree() {
      tree.querySelectorAll("[role=treeitem][aria-selected]").forEach((item) => {
        const id = item.unit ? item.unit.id : item.group ? item.group.id : "";
        const name = item.group ? groupField : field;
        item.setAttribute("aria-selected", chosen(name, id) ? "true" : "false");
      });
    }

    function visibleItems() {
      return Array.from(tree.querySelectorAll("[role=treeitem]")).filter((item) => !item.closest("[hidden]"));
    }

    function focusItem(item) {
      tree.querySelectorAll("[role=treeitem][tabindex='0']").forEach((other) => { other.tabIndex = -1; });
      item.tabIndex = 0;
      item.focus();
    }

    tree.addEventListener("click", (event) => {
      const item = event.target.closest("[role=treeitem]");
      if (!item) return;
      if (event.target.closest(".twisty")) expand(item, item.getAttribute("aria-expanded") !== "true");
      else toggleChoice(item);
      focusItem(item);
    });
    tree.addEventListener("keydown", (event) => {
      const item = event.target.closest("[role=treeitem]");
      if (!item) return;
      const items = visibleItems();
      const at = items.indexOf(item);
      const expanded = item.getAttribute("aria-expanded");
      const parent = item.parentElement.closest("[role=treeitem]");
      let handled = true;
      if (event.key === "ArrowDown" && at < items.length - 1) focusItem(items[at + 1]);
      else if (event.key === "ArrowUp" && at > 0) focusItem(items[at - 1]);
      else if (event.key === "Home") focusItem(items[0]);
      else if (event.key === "End") focusItem(items[items.length - 1]);
      else if (event.key === "ArrowRight" && expanded === "false") expand(item, true);
      else if (event.key === "ArrowRight" && expanded === "true") focusItem(items[at + 1]);
      else if (event.key === "ArrowLeft" && expanded === "true") expand(item, false);
      else if (event.key === "ArrowLeft" && parent) focusItem(parent);
      else if (event.key === "Enter" || event.key === " ") toggleChoice(item);
      else handled = false;
      if (handled) event.preventDefault();
    });
  }

  pickers.forEach((root, n) => Picker(root, n + 1));
})();
