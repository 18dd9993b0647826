"""The README's config reference against the parser, both ways.

Every key the README's two reference tables name (`| key | type | meaning |` and
the strategy options) must be accepted by `hpsweep run`, and every key the parser
accepts must be in a table. The parser is asked, not read: a config with an
unknown key at a place makes it list every valid key of that place in its error
message, and each strategy and pruner it knows is asked the same way.

usage: config_keys.py HPSWEEP README.md WORKDIR
"""
import os
import re
import subprocess
import sys

HPS, README, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
UNKNOWN = "zzqqxxyy"  # far from every key, so the parser lists them all
BASE = {
    "name": "k",
    "objective": "{function: sphere}",
    "space": "{x: {type: float, low: 0, high: 1}}",
    "budget": "{max_trials: 1}",
}


def ask(**sections):
    """The parser's error for a config made of BASE with sections replaced."""
    cfg = dict(BASE, **sections)
    path = os.path.join(WORK, "keys.yaml")
    with open(path, "w") as f:
        for key, value in cfg.items():
            if value is not None:
                f.write("%s: %s\n" % (key, value))
    p = subprocess.run([HPS, "run", path, "--output", os.path.join(WORK, "never")],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2, "expected a refusal, got %d: %s" % (p.returncode, p.stderr)
    assert not os.path.exists(os.path.join(WORK, "never")), "a refused run wrote something"
    return p.stderr


def listed(err, label):
    """The comma-separated names after `label: ` in err."""
    m = re.search(re.escape(label) + r": ([^\n]*)", err)
    assert m, "no '%s' list in: %s" % (label, err)
    return [w.strip() for w in m.group(1).split(",") if w.strip()]


def accepted():
    """Every (place, key) the parser accepts, places as the README writes them."""
    keys = set()
    for k in listed(ask(**{UNKNOWN: 1}), "valid keys"):
        keys.add(k)
    for sec, value in (("objective", "{function: sphere, %s: 1}"),
                       ("objective", "{command: [x], %s: 1}"),
                       ("metric", "{name: loss, %s: 1}"),
                       ("budget", "{max_trials: 1, %s: 1}")):
        for k in listed(ask(**{sec: value % UNKNOWN}), "valid keys"):
            keys.add("%s.%s" % (sec, k))
    for t, body in (("float", "low: 0, high: 1"), ("int", "low: 0, high: 3"),
                    ("categorical", "choices: [a, b]"), ("bool", "")):
        body = (body + ", " if body else "") + "%s: 1" % UNKNOWN
        err = ask(space="{x: {type: %s, %s}}" % (t, body))
        for k in listed(err, "valid keys"):
            keys.add("space.<name>.%s" % k)
    strategies = listed(ask(strategy="{name: %s}" % UNKNOWN), "available")
    options = set()
    for s in strategies:
        for k in listed(ask(strategy="{name: %s, %s: 1}" % (s, UNKNOWN)), "options of '%s'" % s):
            if k not in ("name", "pruner"):
                options.add((s, k))
    pruners = listed(ask(strategy="{name: random, pruner: {name: %s}}" % UNKNOWN), "available")
    for pr in pruners:
        err = ask(strategy="{name: random, pruner: {name: %s, %s: 1}}" % (pr, UNKNOWN))
        for k in listed(err, "options of '%s'" % pr):
            if k != "name":
                keys.add("strategy.pruner.%s" % k)
    keys.update({"strategy.name", "strategy.pruner", "strategy.pruner.name"})
    return keys, options, strategies, pruners


def table(text, header):
    """The rows (lists of cells) of the markdown table whose header row is header."""
    lines = text.splitlines()
    i = lines.index(header)
    rows = []
    for line in lines[i + 2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split(" | ")])
    return rows


def ticked(cell):
    return re.findall(r"`([^`]+)`", cell)


def documented(text):
    keys, options = set(), set()
    for row in table(text, "| key | type | meaning |"):
        names = ticked(row[0])
        assert names, "a reference row without a key: %s" % row
        stem = names[0].rsplit(".", 1)[0] if "." in names[0] else ""
        for n in names:
            keys.add(stem + n if n.startswith(".") else n)
        if names[0] == "strategy.pruner":
            # `{name: median, a: 1, b: 2}` in the meaning: the pruner's options
            for m in re.finditer(r"\{name: \w+((?:, \w+: [^,}]+)*)\}", row[2]):
                for opt in re.findall(r"(\w+):", m.group(1)):
                    keys.add("strategy.pruner.%s" % opt)
    keys.update({"strategy.name", "strategy.pruner.name"})
    # a section is documented by its keys (`budget` by `budget.max_trials`, ...)
    keys.update({k.split(".")[0] for k in keys if "." in k})
    for row in table(text, "| strategy | option | values | meaning |"):
        for s in ticked(row[0]):
            for opt in ticked(row[1]):
                options.add((s, opt))
    return keys, options


def main():
    text = open(README, encoding="utf-8").read()
    keys, options, strategies, pruners = accepted()
    doc_keys, doc_options = documented(text)
    errors = []
    for k in sorted(keys - doc_keys):
        errors.append("the parser accepts `%s` but the README's reference does not name it" % k)
    for k in sorted(doc_keys - keys):
        errors.append("the README names `%s` but the parser refuses it" % k)
    for s, o in sorted(options - doc_options):
        errors.append("strategy %s accepts option `%s` but the README's table lacks it" % (s, o))
    for s, o in sorted(doc_options - options):
        errors.append("the README gives %s an option `%s` the parser refuses" % (s, o))
    for s in strategies:
        if not re.search(r"`%s`" % re.escape(s), text):
            errors.append("strategy %s is not in the README" % s)
    if errors:
        print("\n".join(errors))
        sys.exit(1)
    print("ok: %d config keys and %d strategy options, in the README and accepted by the parser"
          % (len(keys), len(options)))


main()
