#!/usr/bin/env python3
"""Check the kea-ner training/evaluation menus.

Validates every store JSON under train/ and eval/ (or the files given on the command line)
against /work/shared/contracts/store.schema.json, then checks the semantic rules of
/work/shared/contracts/store.md plus the conventions these menus follow:

- item skus unique; option skus unique across the whole store; group ids unique
- every group an item names exists; no group named twice on one item
- exactly one of price_cents and sizes; size names unique; default_size among the sizes
- includes name groups the item has, options in those groups, and no more than the group's max
- min <= max, and max <= number of options (the importer rejects a max above it)
- portions only light/extra/side (also in the schema)
- hours given for every day, HH:MM well formed, opening before closing
- phone E.164 and distinct across stores (also from the repo's other sample stores); timezone a known IANA zone; store ids distinct
  and equal to the file name; pos a webhook at http://127.0.0.1:18081/pos/<id> with a secret
- tax 600..1025 bps; `names` only in languages the store lists
- no two items share a name or alias; within an item's groups, no two options share a name
  or alias (that would make a caller's words ambiguous)

Usage: python3 check_menus.py [FILE ...]     exit status 1 when any check fails.
"""
import json
import re
import sys
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jsonschema

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
# Other store files that may be imported into the same database: phones and ids must not clash.
OTHER_STORES = [REPO / "tests/fixtures/stores", REPO / "dialog/tests/stores", Path("/work/shared/scenarios/stores")]
SCHEMA = Path("/work/shared/contracts/store.schema.json")
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
PORTIONS = {"light", "extra", "side"}
TIME = re.compile(r"^([01][0-9]|2[0-4]):([0-5][0-9])$")


def minutes(t):
    m = TIME.match(t)
    if not m:
        return None
    h, mi = int(m.group(1)), int(m.group(2))
    if h == 24 and mi != 0:
        return None
    return h * 60 + mi


def lang_ok(tag, languages):
    return any(tag == l or tag == l.split("-")[0] for l in languages)


def check_store(path, store, validator):
    errs = []

    def err(where, msg):
        errs.append(f"{path.name}: {where}: {msg}")

    for e in sorted(validator.iter_errors(store), key=lambda e: list(e.absolute_path)):
        err("$" + "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in e.absolute_path),
            "schema: " + e.message)
    if errs:
        return errs  # the rest assumes the shape is right

    sid = store["id"]
    if sid != path.stem:
        err("$.id", f"{sid!r} differs from the file name {path.stem!r}")
    try:
        ZoneInfo(store["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        err("$.timezone", f"unknown time zone {store['timezone']!r}")
    if not re.fullmatch(r"\+1555[0-9]{7}", store["phone"]):
        err("$.phone", f"{store['phone']!r} is not a +1555 test number")
    if not 600 <= store["tax_rate_bps"] <= 1025:
        err("$.tax_rate_bps", f"{store['tax_rate_bps']} outside 600..1025")
    languages = store.get("languages", ["en-US"])
    if languages[0] != "en-US":
        err("$.languages", "the default language should be en-US")

    f = store["fulfillment"]
    if not (f.get("pickup") or f.get("delivery")):
        err("$.fulfillment", "neither pickup nor delivery")
    if f.get("delivery") and not all(k in f for k in ("delivery_fee_cents", "delivery_minimum_cents", "delivery_minutes")):
        err("$.fulfillment", "delivery without fee, minimum and minutes")
    if f.get("pickup") and "pickup_minutes" not in f:
        err("$.fulfillment", "pickup without pickup_minutes")

    hours = store.get("hours") or {}
    for day in DAYS:
        if day not in hours:
            err(f"$.hours.{day}", "missing")
            continue
        opens, closes = (minutes(t) for t in hours[day])
        if opens is None or closes is None:
            err(f"$.hours.{day}", f"malformed {hours[day]}")
        elif opens >= 24 * 60:
            err(f"$.hours.{day}", f"opening time {hours[day][0]} is not a time of day")
        elif opens >= closes:
            err(f"$.hours.{day}", f"opens {hours[day][0]} not before closing {hours[day][1]}")

    pos = store.get("pos")
    want = f"http://127.0.0.1:18081/pos/{sid}"
    if not pos or pos.get("kind") != "webhook" or pos.get("url") != want or not pos.get("secret"):
        err("$.pos", f"expected a webhook at {want} with a secret")

    def check_names(where, obj):
        for tag in obj.get("names", {}):
            if not lang_ok(tag, languages):
                err(where + ".names", f"language {tag!r} not in the store's languages {languages}")

    menu = store["menu"]
    groups = {}
    option_skus = {}
    for gi, g in enumerate(menu.get("modifier_groups", [])):
        gw = f"$.menu.modifier_groups[{gi}]"
        if g["id"] in groups:
            err(gw + ".id", f"duplicate group id {g['id']!r}")
        groups[g["id"]] = g
        check_names(gw, g)
        if g["min"] > g["max"]:
            err(gw, f"min {g['min']} > max {g['max']}")
        if g["max"] > len(g["options"]):
            err(gw, f"max {g['max']} > number of options ({len(g['options'])})")
        words = {}
        for oi, o in enumerate(g["options"]):
            ow = f"{gw}.options[{oi}]"
            check_names(ow, o)
            if o["sku"] in option_skus:
                err(ow + ".sku", f"option sku {o['sku']!r} already used in group {option_skus[o['sku']]!r}")
            option_skus[o["sku"]] = g["id"]
            for k in o.get("portions", {}):
                if k not in PORTIONS:
                    err(ow + ".portions", f"unknown portion {k!r}")
            for w in [o["name"]] + o.get("aliases", []):
                key = w.lower()
                if key in words and words[key] != o["sku"]:
                    err(ow, f"{w!r} also names option {words[key]!r} in this group")
                words[key] = o["sku"]

    item_skus = set()
    item_words = {}
    for ii, it in enumerate(menu["items"]):
        iw = f"$.menu.items[{ii}]"
        check_names(iw, it)
        if it["sku"] in item_skus:
            err(iw + ".sku", f"duplicate item sku {it['sku']!r}")
        item_skus.add(it["sku"])
        if not it.get("category"):
            err(iw, "no category")
        for w in [it["name"]] + it.get("aliases", []):
            key = w.lower()
            if key in item_words and item_words[key] != it["sku"]:
                err(iw, f"{w!r} also names item {item_words[key]!r}")
            item_words[key] = it["sku"]
        if w_dup := {a for a in it.get("aliases", []) if a.lower() == it["name"].lower()}:
            err(iw + ".aliases", f"alias equal to the name: {sorted(w_dup)}")

        has_price, sizes = "price_cents" in it, it.get("sizes")
        if has_price == bool(sizes):
            err(iw, "needs exactly one of price_cents and sizes")
        if sizes:
            names = [s["name"].lower() for s in sizes]
            if len(set(names)) != len(names):
                err(iw + ".sizes", "duplicate size names")
            for si, s in enumerate(sizes):
                check_names(f"{iw}.sizes[{si}]", s)
        if it.get("default_size") is not None and it["default_size"] not in [s["name"] for s in sizes or []]:
            err(iw + ".default_size", f"{it['default_size']!r} is not one of the item's sizes")

        item_groups = it.get("modifier_groups", [])
        if len(set(item_groups)) != len(item_groups):
            err(iw + ".modifier_groups", "a group named twice")
        opt_words = {}
        for gid in item_groups:
            if gid not in groups:
                err(iw + ".modifier_groups", f"group {gid!r} does not exist")
                continue
            for o in groups[gid]["options"]:
                for w in [o["name"]] + o.get("aliases", []):
                    key = w.lower()
                    if key in opt_words and opt_words[key] != o["sku"]:
                        err(iw, f"option word {w!r} is ambiguous between {opt_words[key]!r} and {o['sku']!r}")
                    opt_words[key] = o["sku"]
        for gid, skus in it.get("includes", {}).items():
            where = f"{iw}.includes.{gid}"
            if gid not in item_groups:
                err(where, f"the item has no group {gid!r}")
                continue
            if gid not in groups:
                continue
            in_group = {o["sku"] for o in groups[gid]["options"]}
            for s in skus:
                if s not in in_group:
                    err(where, f"option {s!r} is not in group {gid!r}")
            if len(skus) > groups[gid]["max"]:
                err(where, f"{len(skus)} included options exceed the group's max {groups[gid]['max']}")

    unused = set(groups) - {g for it in menu["items"] for g in it.get("modifier_groups", [])}
    if unused:
        err("$.menu.modifier_groups", f"groups no item uses: {sorted(unused)}")
    return errs


def main(argv):
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    paths = [Path(a) for a in argv] or sorted(HERE.glob("train/*.json")) + sorted(HERE.glob("eval/*.json"))
    if not paths:
        print("no menus found")
        return 1
    errors, phones, ids = [], {}, {}
    for folder in OTHER_STORES:
        for other in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            try:
                o = json.loads(other.read_text())
                phones.setdefault(o.get("phone"), str(other))
                ids.setdefault(o.get("id"), str(other))
            except (OSError, json.JSONDecodeError, AttributeError):
                pass
    for path in paths:
        try:
            store = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as e:
            errors.append(f"{path.name}: cannot read: {e}")
            continue
        errs = check_store(path, store, validator)
        errors += errs
        if isinstance(store, dict):
            for key, seen in (("phone", phones), ("id", ids)):
                v = store.get(key)
                if v in seen:
                    errors.append(f"{path.name}: $.{key}: {v!r} also used by {seen[v]}")
                seen[v] = path.name
        menu = store.get("menu", {}) if isinstance(store, dict) else {}
        n_items = len(menu.get("items", []))
        n_groups = len(menu.get("modifier_groups", []))
        n_opts = sum(len(g.get("options", [])) for g in menu.get("modifier_groups", []))
        status = "ok" if not errs else f"{len(errs)} error(s)"
        print(f"{path.parent.name}/{path.name}: {n_items} items, {n_groups} groups, {n_opts} options: {status}")
    for e in errors:
        print("ERROR", e)
    print(f"{len(paths)} file(s), {len(errors)} error(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
