#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
The layering rule, read off the built libraries: every symbol a library
leaves undefined (nm -u) must be defined by itself, by a library below
it, or by a system library it is allowed to call.  A call that reaches
up a layer (formats into enroll, enroll into the CLI, vauth into ctap,
ctap into graph) or a foreign library called from the wrong layer
(libfido2 outside ctap, libcurl outside graph) fails the test.

usage: check_layers.py [--nm NM] [--rules FILE] NAME=LIB.a ...
"""

import json
import subprocess
import sys

# who may use whom (transitively closed below); the CLI is on top
RULES = {
    "provcommon": [],
    "provctap": ["provcommon"],
    "provgraph": ["provcommon"],
    "vauthlib": ["provcommon"],
    "provmds": ["provcommon"],
    "provformats": ["provcommon"],
    "provqueue": ["provcommon"],
    "provwebauthn": ["provmds", "provctap", "provcommon"],
    "provenroll": ["provwebauthn", "provformats", "provmds", "provqueue",
                   "provctap", "provgraph", "provcommon"],
    "provcli": ["provenroll", "provwebauthn", "provformats", "provmds",
                "provqueue", "provctap", "provgraph", "provcommon"],
}

# foreign libraries that belong to one layer, by symbol prefix
FOREIGN = {
    "fido_": ["provctap"],
    "es256_": ["provctap"],
    "hid_": ["provctap"],
    "curl_": ["provgraph"],
    "sqlite3_": ["provenroll"],
    "PQ": ["provqueue"],
    "cairo_": ["provformats"],
    "Fc": ["provformats"],          # fontconfig, under cairo's text
}


# a name prefix belongs to one module: (library, object file prefix)
PREFIXES = {
    "ctap_": ("provctap", ""),
    "graph_": ("provgraph", ""),
    "vauth_": ("vauthlib", ""),
    "mds_": ("provmds", ""),
    "webauthn_": ("provwebauthn", ""),
    "csvin_": ("provformats", "csvin"),
    "report_": ("provformats", "report"),
    "deeplink_": ("provformats", "deeplink"),
    "mailer_": ("provformats", "mailer"),
    "journal_": ("provenroll", "journal"),
    "progress_": ("provenroll", "progress"),
    "enroll_": ("provenroll", ""),
    "cli_": ("provcli", ""),
    "queue_": ("provqueue", ""),
}


def object_name(obj):
    """'lib.a[journal.c.o]' -> 'journal.c.o'"""
    if "[" in obj:
        return obj[obj.index("[") + 1:].rstrip("]")
    return obj


def symbols(nm, path, undefined):
    args = [nm, "-g", "-P"] + (["-u"] if undefined else ["--defined-only"])
    out = subprocess.run(args + [path], check=True, capture_output=True,
                         text=True).stdout
    syms = {}
    obj = path
    for line in out.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.endswith(":") and " " not in line:
            obj = line[:-1]          # "lib.a[obj.o]:"
            continue
        name = line.split()[0]
        syms.setdefault(name, set()).add(obj)
    return syms


def main(argv):
    nm = "nm"
    rules = RULES
    libs = {}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--nm":
            nm = argv[i + 1]
            i += 2
            continue
        if a == "--rules":
            with open(argv[i + 1]) as f:
                rules = json.load(f)
            i += 2
            continue
        name, _, path = a.partition("=")
        libs[name] = path
        i += 1
    unknown = [n for n in libs if n not in rules]
    if unknown:
        print("no layering rule for: " + ", ".join(unknown))
        return 2

    owner = {}
    for name, path in libs.items():
        for sym in symbols(nm, path, False):
            owner.setdefault(sym, set()).add(name)

    bad = []
    for name, path in sorted(libs.items()):
        for sym, objs in sorted(symbols(nm, path, False).items()):
            for prefix, (lib, objpfx) in PREFIXES.items():
                if not sym.startswith(prefix) or lib not in libs:
                    continue
                for o in sorted(objs):
                    if name != lib or \
                            not object_name(o).startswith(objpfx):
                        bad.append("%s (%s) defines %s: the %s* names "
                                   "belong to %s%s" % (
                                       name, o, sym, prefix, lib,
                                       " (%s*.c)" % objpfx if objpfx
                                       else ""))
    for name, path in sorted(libs.items()):
        allowed = set(rules[name]) | {name}
        for sym, objs in sorted(symbols(nm, path, True).items()):
            where = ", ".join(sorted(objs))
            defs = owner.get(sym, set())
            for prefix, layers in FOREIGN.items():
                if not defs and sym.startswith(prefix) and \
                        name not in layers:
                    bad.append("%s (%s) calls %s, which only %s may "
                               "call" % (name, where, sym,
                                         " or ".join(layers)))
            if not defs or defs & allowed:
                continue
            bad.append("%s (%s) uses %s from %s: a layer may use only "
                       "%s" % (name, where, sym, ", ".join(sorted(defs)),
                               ", ".join(sorted(allowed - {name}))
                               or "itself"))
    for b in bad:
        print("layering: " + b)
    if bad:
        print("layering: %d violation(s); see DESIGN.md, 'Layout'"
              % len(bad))
        return 1
    print("layering: %d libraries, no symbol reaches up a layer"
          % len(libs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
