// Verifies a letter's history in the auditor's own browser, trusting nothing it did not recompute:
// the checkpoint's Ed25519 signature (C2SP signed note), then for every event of the letter its log entry,
// the RFC 9162 leaf hash SHA-256(0x00 || entry) and the root its inclusion proof leads to
// (node = SHA-256(0x01 || left || right)), which must equal the signed root.
"use strict";
(function () {
  const button = document.getElementById("verify");
  if (!button) return;
  const out = document.getElementById("verify-result");
  const letterId = button.dataset.letter;
  const WORDS = {
    th: {
      running: "กำลังตรวจสอบ…", pass: "ผ่านการตรวจสอบ", fail: "ไม่ผ่านการตรวจสอบ",
      signature: "ลายมือชื่อ Ed25519 ของจุดตรวจสอบถูกต้อง (กุญแจ {key})",
      checkpoint: "จุดตรวจสอบครอบคลุม {size} รายการ root {root}",
      events: "เหตุการณ์ทั้ง {n} รายการของหนังสือนี้อยู่ในบันทึกที่ลงนาม และเป็นของหนังสือนี้จริง",
      no_webcrypto: "เบราว์เซอร์นี้ตรวจ Ed25519 ด้วย WebCrypto ไม่ได้",
      bad_key: "กุญแจตรวจสอบมีรูปแบบไม่ถูกต้อง", bad_note: "จุดตรวจสอบมีรูปแบบไม่ถูกต้อง",
      bad_sig: "ลายมือชื่อของจุดตรวจสอบไม่ถูกต้อง", other_origin: "จุดตรวจสอบไม่ใช่ของบันทึกที่กุญแจนี้ลงนาม",
      not_covered: "เหตุการณ์ลำดับ {i} ยังไม่อยู่ในจุดตรวจสอบ", wrong_entry: "รายการลำดับ {i} ไม่ใช่เหตุการณ์ของหนังสือนี้",
      bad_leaf: "ค่าแฮชของรายการลำดับ {i} ไม่ตรงกับที่บันทึกไว้", bad_proof: "หลักฐานของรายการลำดับ {i} ไม่นำไปสู่ root ที่ลงนาม",
      empty: "ยังไม่มีเหตุการณ์ของหนังสือนี้", http: "อ่านข้อมูลจาก API ไม่ได้: {what} ({status})",
    },
    en: {
      running: "Verifying…", pass: "Verified", fail: "Verification failed",
      signature: "The checkpoint's Ed25519 signature is valid (key {key})",
      checkpoint: "The checkpoint covers {size} entries, root {root}",
      events: "All {n} events of this letter are in the signed log and belong to this letter",
      no_webcrypto: "This browser cannot check Ed25519 with WebCrypto",
      bad_key: "The verifier key is malformed", bad_note: "The checkpoint is malformed",
      bad_sig: "The checkpoint's signature is not valid", other_origin: "The checkpoint is not of the log this key signs",
      not_covered: "Event {i} is not covered by the checkpoint yet", wrong_entry: "Entry {i} is not an event of this letter",
      bad_leaf: "The hash of entry {i} does not match the log's", bad_proof: "The proof of entry {i} does not lead to the signed root",
      empty: "This letter has no events yet", http: "Could not read {what} from the API ({status})",
    },
  };
  const words = WORDS[button.dataset.lang] || WORDS.th;
  const say = (key, values) => Object.entries(values || {}).reduce((text, [k, v]) => text.replace("{" + k + "}", v), words[key]);

  class Failure extends Error {}
  const fail = (key, values) => { throw new Failure(say(key, values)); };

  const utf8 = new TextEncoder();
  const unb64 = (text) => Uint8Array.from(atob(text.trim()), (c) => c.charCodeAt(0));
  const b64 = (bytes) => btoa(String.fromCharCode(...bytes));
  const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
  const concat = (...parts) => {
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    parts.forEach((p) => { all.set(p, at); at += p.length; });
    return all;
  };
  const sha256 = async (bytes) => new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const leafHash = (entry) => sha256(concat(Uint8Array.of(0), entry));
  const nodeHash = (left, right) => sha256(concat(Uint8Array.of(1), left, right));

  async function api(path, what, asText) {
    const response = await fetch("/relay/audit/" + path, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.status === 401) {
      const answer = await response.json().catch(() => ({}));
      if (answer.signin) window.location.assign(answer.signin);
    }
    if (!response.ok) fail("http", { what, status: response.status });
    return asText ? response.text() : response.json();
  }

  // The verifier key "name+keyid+base64(0x01 || key)"; the key id must be the one the name and key give.
  async function parseKey(text) {
    const parts = text.trim().split("+");
    if (parts.length < 3) fail("bad_key");
    const name = parts[0];
    const raw = unb64(parts.slice(2).join("+"));
    if (raw.length !== 33 || raw[0] !== 1) fail("bad_key");
    const id = (await sha256(concat(utf8.encode(name + "\n"), Uint8Array.of(1), raw.slice(1)))).slice(0, 4);
    if (hex(id) !== parts[1]) fail("bad_key");
    return { name, id, key: raw.slice(1) };
  }

  // A signed note: the body, a blank line, then "— name base64(keyid || signature)" lines.
  async function openCheckpoint(note, key) {
    const split = note.lastIndexOf("\n\n");
    if (split < 0) fail("bad_note");
    const body = note.slice(0, split + 1);
    const lines = note.slice(split + 2).split("\n").filter(Boolean);
    const mine = lines.map((line) => line.match(/^\u2014 (\S+) (\S+)$/)).find((m) => m && m[1] === key.name);
    if (!mine) fail("bad_sig");
    const raw = unb64(mine[2]);
    if (!same(raw.slice(0, 4), key.id)) fail("bad_sig");
    let publicKey;
    try {
      publicKey = await crypto.subtle.importKey("raw", key.key, { name: "Ed25519" }, false, ["verify"]);
    } catch (error) {
      fail("no_webcrypto");
    }
    const valid = await crypto.subtle.verify({ name: "Ed25519" }, publicKey, raw.slice(4), utf8.encode(body));
    if (!valid) fail("bad_sig");
    const [origin, size, root] = body.split("\n");
    if (origin !== key.name) fail("other_origin");
    if (!/^(0|[1-9][0-9]*)$/.test(size)) fail("bad_note");
    return { size: Number(size), root: unb64(root), rootText: root };
  }

  // RFC 9162 section 2.1.3.2, in arithmetic rather than 32-bit bit operations so large logs work too.
  async function rootFromProof(index, size, leaf, proof) {
    let fn = index, sn = size - 1, result = leaf;
    for (const sibling of proof) {
      if (sn === 0) return null;
      if (fn % 2 === 1 || fn === sn) {
        result = await nodeHash(sibling, result);
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      } else {
        result = await nodeHash(result, sibling);
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    return sn === 0 ? result : null;
  }

  async function checkEvent(event, checkpoint) {
    const i = event.index;
    if (i >= checkpoint.size) fail("not_covered", { i });
    const [row] = await api(`entries?start=${i}&end=${i + 1}`, "entries");
    const entry = unb64(row.entry);
    const leaf = await leafHash(entry);
    if (!same(leaf, unb64(row.leaf_hash))) fail("bad_leaf", { i });
    const facts = JSON.parse(new TextDecoder().decode(entry));
    if (facts.letter_id !== letterId || !String(facts.type || "").startsWith(event.type + ".")) fail("wrong_entry", { i });
    const proof = await api(`proofs/inclusion?index=${i}&tree_size=${checkpoint.size}`, "proof");
    const root = await rootFromProof(i, checkpoint.size, leaf, proof.hashes.map(unb64));
    if (!root || !same(root, checkpoint.root)) fail("bad_proof", { i });
  }

  function show(passed, title, lines) {
    out.textContent = "";
    const box = document.createElement("div");
    box.className = passed ? "pass" : "fail";
    box.dataset.result = passed ? "pass" : "fail";
    const heading = document.createElement("strong");
    heading.textContent = (passed ? "✓ " : "✗ ") + title;
    const list = document.createElement("ul");
    lines.forEach((text) => { const li = document.createElement("li"); li.textContent = text; list.appendChild(li); });
    box.append(heading, list);
    out.appendChild(box);
  }

  async function verify() {
    button.disabled = true;
    out.textContent = say("running");
    try {
      if (!window.crypto || !crypto.subtle) fail("no_webcrypto");
      // The history first: the checkpoint asked for afterwards then covers every event in it.
      const history = await api(`letters/${letterId}/history`, "history");
      if (!history.events.length) fail("empty");
      const key = await parseKey(await api("public-key", "public key", true));
      const checkpoint = await openCheckpoint(await api("checkpoint", "checkpoint", true), key);
      for (const event of history.events) await checkEvent(event, checkpoint);
      show(true, say("pass"), [
        say("signature", { key: `${key.name}+${hex(key.id)}+${b64(concat(Uint8Array.of(1), key.key))}` }),
        say("checkpoint", { size: checkpoint.size, root: checkpoint.rootText }),
        say("events", { n: history.events.length }),
      ]);
    } catch (error) {
      show(false, say("fail"), [error instanceof Failure ? error.message : String(error)]);
    } finally {
      button.disabled = false;
    }
  }

  button.addEventListener("click", verify);
})();
