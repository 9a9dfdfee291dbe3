#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks the Flatpak manifest without building it (no runtime can be
downloaded on the build machines): valid JSON, the app id, the GNOME
runtime, the sandbox permissions, and the modules with pinned upstream
sources.  Usage: check-manifest.py MANIFEST APP_ID"""

import json
import re
import sys


def fail(message):
    print(f"not ok: {message}")
    sys.exit(1)


def main():
    path, app_id = sys.argv[1], sys.argv[2]
    try:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"{path} is not valid JSON: {e}")

    if manifest.get("id") != app_id:
        fail(f"id is {manifest.get('id')!r}, expected {app_id!r}")
    if manifest.get("runtime") != "org.gnome.Platform" or manifest.get("sdk") != "org.gnome.Sdk":
        fail("the app needs the GNOME runtime and SDK")
    if int(manifest.get("runtime-version", "0")) < 47:
        fail("the GNOME runtime must be 47 or newer")
    if manifest.get("command") != "twinlock":
        fail("the command must be twinlock")

    args = manifest.get("finish-args", [])
    for needed in ("--socket=wayland", "--socket=fallback-x11", "--share=ipc",
                   "--socket=pulseaudio"):
        if needed not in args:
            fail(f"finish-args lack {needed}")
    # The camera comes through the camera portal; raw device access would
    # bypass the user's consent.
    for forbidden in ("--device=all", "--socket=x11", "--filesystem=host"):
        if forbidden in args:
            fail(f"finish-args must not grant {forbidden}")

    modules = {m["name"]: (i, m) for i, m in enumerate(manifest.get("modules", []))}
    for name in ("blis", "sphinxbase", "pocketsphinx", "twinlock"):
        if name not in modules:
            fail(f"module {name} is missing")
    if not modules["sphinxbase"][0] < modules["pocketsphinx"][0] < modules["twinlock"][0]:
        fail("sphinxbase must come before pocketsphinx, and both before twinlock")
    if modules["blis"][0] > modules["twinlock"][0]:
        fail("blis must come before twinlock")

    # BLIS: the x86_64 family configuration, which picks its kernels at run
    # time, never "auto", which would fix them to the build machine's CPU.
    blis = modules["blis"][1]
    configure = " ".join(c for c in blis.get("build-commands", []) if "configure" in c)
    if not re.search(r"\sx86_64\s*$", configure) or re.search(r"\sauto\b", configure):
        fail(f"blis must be configured for the x86_64 family: {configure!r}")

    for name in ("blis", "sphinxbase", "pocketsphinx"):
        sources = modules[name][1].get("sources", [])
        if not sources:
            fail(f"module {name} has no sources")
        for source in sources:
            if source.get("type") != "archive":
                fail(f"module {name} must build from an upstream release tarball")
            if not source.get("url", "").startswith("https://"):
                fail(f"module {name} must download over https")
            if not re.fullmatch(r"[0-9a-f]{64}", source.get("sha256", "")):
                fail(f"module {name} needs the tarball's sha256")
    for name in ("sphinxbase", "pocketsphinx"):
        url = modules[name][1]["sources"][0]["url"]
        if "5prealpha" not in url:
            fail(f"{name} must be the 5prealpha release (the API Twinlock codes to)")

    app = modules["twinlock"][1]
    if app.get("buildsystem") != "meson" or not app.get("run-tests"):
        fail("twinlock must build with meson and run its tests")
    if app.get("sources") != [{"type": "dir", "path": ".."}]:
        fail("twinlock must build from this checkout")

    print(f"ok: {path}: {len(modules)} modules, "
          f"{sum(len(m.get('sources', [])) for _, m in modules.values())} sources")


if __name__ == "__main__":
    main()
