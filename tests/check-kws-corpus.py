#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks tests/make-kws-corpus.py: the same seed and options give the same
corpus byte for byte, whatever the number of jobs, and `twinlockctl kws
eval` reads what it writes; a positive's extent is the keyphrase's.  Then tests/make-kws-recorded.py on a few
prompts: their classes and spoken keyphrases come from the transcripts,
and kws eval reads that corpus too.

    check-kws-corpus.py MAKE_KWS_CORPUS TWINLOCKCTL
"""
import filecmp
import importlib.util
import json
import os
import subprocess
import sys
import tempfile

make, ctl = sys.argv[1], sys.argv[2]

# a small corpus of the evaluation texts, and a training one with the
# spread voices, Festival and Flite
VARIANTS = [
    ["--scale", "0.01"],
    ["--texts", "initial", "--spread", "--seed", "5", "--festival-share", "0.4",
     "--flite-share", "0.3", "--no-librivox", "--scale", "0.01"],
]


def build(out, options, jobs):
    subprocess.run([sys.executable, make, out, "--jobs", str(jobs)] + options,
                   check=True, stdout=subprocess.DEVNULL)


def same_tree(a, b):
    """The relative paths of every file that differs or exists in one only."""
    bad = []
    for top, _, files in os.walk(a):
        for f in files:
            rel = os.path.relpath(os.path.join(top, f), a)
            other = os.path.join(b, rel)
            if not os.path.exists(other) or not filecmp.cmp(os.path.join(a, rel), other,
                                                            shallow=False):
                bad.append(rel)
    for top, _, files in os.walk(b):
        for f in files:
            rel = os.path.relpath(os.path.join(top, f), b)
            if not os.path.exists(os.path.join(a, rel)):
                bad.append(rel)
    return bad


failed = False
with tempfile.TemporaryDirectory() as tmp:
    for k, options in enumerate(VARIANTS):
        one, two = os.path.join(tmp, "one%d" % k), os.path.join(tmp, "two%d" % k)
        build(one, options, 1)
        build(two, options, 2)
        bad = same_tree(one, two)
        with open(os.path.join(one, "manifest.tsv")) as f:
            lines = [line for line in f if not line.startswith("#")]
        n_pos = sum(line.split("\t")[1] == "positive" for line in lines)
        if k == 0:
            n_pos0 = n_pos
            # carriers ("please unlock") give the keyphrase alone its extent
            short = [line for line in lines if line.split("\t")[1] == "positive" and
                     line.split("\t")[8].rstrip("\n").lower() != line.split("\t")[2] and
                     len(line.split("\t")[8].split()) > 1]
            print("  %d positives with a carrier phrase" % len(short))
            failed |= not short
        print("%s: %d files, %d positives; %d differ between two builds"
              % (" ".join(options), len(lines), n_pos, len(bad)))
        if bad or n_pos == 0:
            print("  differ: %s" % ", ".join(bad[:10]))
            failed = True
            continue
        r = subprocess.run([ctl, "kws", "eval", one, "--json"], check=True,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        report = json.loads(r.stdout)
        print("  kws eval: %d files, %.1f s of audio" % (report["files"], report["audio_s"]))
        if report["files"] != len(lines):
            print("  kws eval read %d files of %d" % (report["files"], len(lines)))
            failed = True
    # a positive's extent is the keyphrase's, not its carrier's: the rule,
    # then --fix-extents on a corpus that has them already changes nothing
    spec = importlib.util.spec_from_file_location("make_kws_corpus", make)
    corpus = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(corpus)
    cases = [("unlock", "unlock", (0, 100)), ("Unlock!", "unlock", (0, 100)),
             ("please unlock", "unlock", (60, 100)), ("computer, unlock.", "unlock", (60, 100)),
             ("Unlock the screen", "unlock", (0, 40)), ("lock it", "lock", (0, 40)),
             ("could you unlock it", "unlock", (0, 100)), ("unlock", "lock", (0, 100))]
    for text, phrase, want in cases:
        got = corpus.keyphrase_extent(text, phrase, 100, lambda: 40)
        if got != want:
            print("keyphrase_extent(%r, %r): %s, expected %s" % (text, phrase, got, want))
            failed = True
    one = os.path.join(tmp, "one0")
    r = subprocess.run([sys.executable, make, one, "--fix-extents"], check=True,
                       stdout=subprocess.PIPE, text=True)
    print(r.stdout.strip())
    if not r.stdout.strip().endswith(": 0 of %d positives given the keyphrase's extent"
                                     % n_pos0) or \
            not filecmp.cmp(os.path.join(one, "manifest.tsv"),
                            os.path.join(one, "manifest.tsv.orig"), shallow=False):
        print("  --fix-extents changed a corpus built with the keyphrases' extents")
        failed = True
    # --fix-extents on lines of the old kind: the carrier's whole extent
    # becomes the keyphrase's, measured by the same synthesis
    old = os.path.join(tmp, "old")
    os.makedirs(old)

    def length(text):
        return len(corpus.say(text, "en-us", 150, "50", tmp)) / corpus.RATE
    rows = [("unlock", "please unlock", 0.5), ("lock", "lock it", 0.3), ("unlock", "unlock", 0.4)]
    with open(os.path.join(old, "manifest.tsv"), "w") as f:
        f.write("# path\tclass\tphrase\tduration_s\tword_start_s\tword_end_s\tcondition\tvoice\ttext\n")
        for k, (phrase, text, ws) in enumerate(rows):
            f.write("positive/p%d.wav\tpositive\t%s\t3.000\t%.3f\t%.3f\tclean\ten-us/s150/p50\t%s\n"
                    % (k, phrase, ws, ws + length(text), text))
    want = [(0.5 + length("please unlock") - length("unlock"), 0.5 + length("please unlock")),
            (0.3, 0.3 + length("lock")), (0.4, 0.4 + length("unlock"))]
    for run in (1, 2):
        r = subprocess.run([sys.executable, make, old, "--fix-extents"], check=True,
                           stdout=subprocess.PIPE, text=True)
        print(r.stdout.strip())
        with open(os.path.join(old, "manifest.tsv")) as f:
            got = [tuple(float(x) for x in line.split("\t")[4:6])
                   for line in f if not line.startswith("#")]
        if not r.stdout.strip().endswith(": %d of 3 positives given the keyphrase's extent"
                                         % (2 if run == 1 else 0)) \
                or any(abs(g - w) > 0.0015 for gs, ws in zip(got, want) for g, w in zip(gs, ws)):
            print("  run %d: extents %s, expected %s" % (run, got, want))
            failed = True
    with open(os.path.join(old, "manifest.tsv.orig")) as f:
        first = [line.split("\t")[4] for line in f if not line.startswith("#")]
    if first != ["0.500", "0.300", "0.400"]:
        print("  manifest.tsv.orig is not the manifest before the first run: %s" % first)
        failed = True
    # the recorded corpus: a prompt without keyphrases or confusable words,
    # one that says "unlocked", and the menus that say "lock or unlock"
    recorded = os.path.join(tmp, "recorded")
    subprocess.run([sys.executable, os.path.join(os.path.dirname(make), "make-kws-recorded.py"),
                    recorded, "--only", "activated", "--only", "conf-unlockednow",
                    "--only", "conf-adminmenu*"], check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(recorded, "manifest.tsv")) as f:
        got = {line.split("\t")[7]: tuple(line.split("\t")[1:3])
               for line in f if not line.startswith("#")}
    want = {"asterisk:allison/activated": ("ordinary", "-"),
            "asterisk:allison/conf-unlockednow": ("confusable", "-"),
            "asterisk:allison/conf-adminmenu": ("confusable", "lock,unlock"),
            "asterisk:allison/conf-adminmenu-18": ("confusable", "lock,unlock")}
    for voice, classes in want.items():
        print("%s: %s" % (voice, got.get(voice)))
        if got.get(voice) != classes:
            print("  expected %s" % (classes,))
            failed = True
    r = subprocess.run([ctl, "kws", "eval", recorded, "--json"], check=True,
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    if json.loads(r.stdout)["files"] != len(got):
        print("kws eval did not read every recorded file")
        failed = True
sys.exit(1 if failed else 0)
