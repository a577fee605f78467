"""The directory as the recipient picker sees it: a compact list the browser filters itself (static/picker.js),
and the same search on the server for a browser without the script, where recipients are typed by name or
letter code, one a line."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from shared import thai

# Units of these kinds head the tree but receive no letters themselves: a ministry's mail goes to its OPS.
NOT_RECIPIENTS = ("ministry",)
FIELDS = ("id", "key", "name", "name_en", "code", "kind", "parent")
SHOWN = 20  # suggestions shown at once; the rest are counted, not drawn
_SEPARATORS = re.compile(r"[\n;,]+")


def fold(text: str) -> str:
    """The form both sides compare: NFC, สระอำ composed, lower case, spaces squeezed out (codes are typed
    both as "กค 0402" and "กค0402"). Thai has no spaces between words, so a fragment matches anywhere."""
    return re.sub(r"\s+", "", thai.clean(text or "")).casefold()


def compact(orgs: list[dict], groups: list[dict]) -> dict:
    """What the picker downloads once: rows of FIELDS with the parent as a row number (a UUID per row would
    be a fifth of the payload), in tree order so that a search's ties come out in the order of the tree."""
    ordered = tree_order(orgs)
    row_of = {org["id"]: n for n, org in enumerate(ordered)}
    units = [
        [
            org["id"],
            org["key"],
            org["name"],
            org.get("name_en") or "",
            org["code"],
            org["kind"],
            row_of.get(org.get("parent_id"), -1),
        ]
        for org in ordered
    ]
    return {
        "fields": list(FIELDS),
        "not_recipients": list(NOT_RECIPIENTS),
        "units": units,
        "groups": [[g["id"], g["name"]] for g in groups],
    }


def tree_order(orgs: list[dict]) -> list[dict]:
    """Parents before children, siblings by letter code; units whose parent is unknown count as roots."""
    known = {org["id"] for org in orgs}
    children: dict[str | None, list[dict]] = {}
    for org in orgs:
        parent = org.get("parent_id") if org.get("parent_id") in known else None
        children.setdefault(parent, []).append(org)
    ordered: list[dict] = []
    stack = sorted(children.get(None, []), key=_sibling_order, reverse=True)
    seen: set[str] = set()
    while stack:
        org = stack.pop()
        if org["id"] in seen:  # a cycle in the data must not hang the page
            continue
        seen.add(org["id"])
        ordered.append(org)
        stack.extend(sorted(children.get(org["id"], []), key=_sibling_order, reverse=True))
    return ordered + [org for org in orgs if org["id"] not in seen]


def _sibling_order(org: dict) -> tuple[str, str]:
    return (org["code"], org["name"])


def recipients(orgs: list[dict], me: dict) -> list[dict]:
    return [o for o in orgs if o["id"] != me["org_id"] and o["kind"] not in NOT_RECIPIENTS]


def search(orgs: list[dict], text: str, limit: int = SHOWN) -> tuple[list[dict], int]:
    """The units whose Thai name, English name or letter code contains the fragment, best first (the code
    itself, then names starting with it), at most `limit` of them, and how many matched in all."""
    wanted = fold(text)
    if not wanted:
        return [], 0
    ranked = []
    for position, org in enumerate(orgs):
        rank = _rank(org, wanted)
        if rank is not None:
            ranked.append((rank, position, org))
    ranked.sort(key=lambda item: item[:2])
    return [org for _, _, org in ranked[:limit]], len(ranked)


def _rank(org: dict, wanted: str) -> int | None:
    code, name, english = fold(org["code"]), fold(org["name"]), fold(org.get("name_en") or "")
    if wanted in (code, name, english):
        return 0
    if name.startswith(wanted) or english.startswith(wanted) or code.startswith(wanted):
        return 1
    if wanted in name or wanted in english or wanted in code:
        return 2
    return None


@dataclass
class Resolved:
    """Recipients typed as text: what was recognised, the lines left over, why, and the units to choose from."""

    org_ids: list[str] = field(default_factory=list)
    group_ids: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    candidates: list[dict] = field(default_factory=list)


def resolve(text: str, orgs: list[dict], groups: list[dict] | None = None) -> Resolved:
    """Each line (or comma-separated item) names one group or unit: by its exact name or code, or by a
    fragment that only one unit contains. A fragment several units share is left for the clerk to choose."""
    found = Resolved()
    for item in (part.strip() for part in _SEPARATORS.split(thai.clean(text or ""))):
        if item:
            _resolve_one(item, orgs, groups or [], found)
    return found


def _resolve_one(item: str, orgs: list[dict], groups: list[dict], found: Resolved) -> None:
    wanted = fold(item)
    group = next((g for g in groups if fold(g["name"]) == wanted), None)
    if group:
        found.group_ids.append(group["id"])
        return
    exact = [o for o in orgs if wanted in (fold(o["code"]), fold(o["name"]), fold(o.get("name_en") or ""))]
    matches, total = (exact, len(exact)) if exact else search(orgs, item)
    if total == 1:
        found.org_ids.append(matches[0]["id"])
        return
    found.left.append(item)
    if total == 0:
        found.problems.append(f"ไม่พบหน่วยงาน “{item}” (no unit matches)")
        return
    found.problems.append(f"“{item}” ตรงกับ {total} หน่วยงาน กรุณาเลือกจากรายการ ({total} units match)")
    found.candidates.extend(o for o in matches[:SHOWN] if o not in found.candidates)
