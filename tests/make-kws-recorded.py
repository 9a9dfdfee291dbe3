#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Builds a corpus of recorded speech for `twinlockctl kws eval`: false
alarms on a human voice instead of a synthesiser's, and the few prompts
that say the keyphrases in a sentence.

    tests/make-kws-recorded.py [OUTDIR] [--seed N] [--prompts DIR]
                               [--transcripts FILE] [--only GLOB]…

The speech is the English prompt set of the Asterisk PBX (Debian package
asterisk-core-sounds-en-g722: 16 kHz G.722, recorded by Allison Smith,
CC-BY-SA-3.0, see the package's copyright file), decoded by ffmpeg
(Debian package ffmpeg), with the transcripts of asterisk-core-sounds-en
(core-sounds-en.txt.gz).  Each prompt becomes one file as
tests/make-kws-corpus.py makes its "clean" files: a pause of 0.3-1.0 s
before it and 0.5-1.0 s after it, and a -70 dBFS pink noise floor.  By its
transcript a prompt is `confusable` when it holds one of the corpus
script's confusable words or a word with "lock" in it ("unlocked",
"o'clock"), else `ordinary`; the phrase column names the keyphrases it
speaks as words (the conference menus' "2 to lock or unlock the
conference"), so that a detection of those is no false alarm, and `kws
eval --dump` shows whether they were heard.  Prompts without a
transcript are left out.
OUTDIR (default /tmp/kws-recorded) receives the WAVs and manifest.tsv in
the format of tests/make-kws-corpus.py.  Nothing here is committed.
"""
import argparse
import array
import fnmatch
import gzip
import importlib.util
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

PROMPTS = "/usr/share/asterisk/sounds/en_US_f_Allison"
TRANSCRIPTS = "/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz"


def load_corpus_module():
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location(
        "make_kws_corpus", os.path.join(here, "make-kws-corpus.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_transcripts(path):
    """{prompt name: text} from lines "name: text" (";" opens a comment)."""
    texts = {}
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith(";") or ":" not in line:
                continue
            name, text = line.split(":", 1)
            texts[name.strip()] = " ".join(text.split())
    return texts


def classify(text, confusable_words):
    """(class, spoken keyphrases) of a transcript."""
    words = " " + re.sub(r"[^a-z' ]+", " ", text.lower()) + " "
    spoken = [k for k in ("lock", "unlock") if " %s " % k in words]
    close = "lock" in words or any(" %s " % w in words for w in confusable_words)
    return ("confusable" if close or spoken else "ordinary"), ",".join(spoken) or "-"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir", nargs="?", default="/tmp/kws-recorded")
    ap.add_argument("--seed", type=int, default=71)
    ap.add_argument("--prompts", default=PROMPTS,
                    help="folder of the G.722 prompts (default: %(default)s)")
    ap.add_argument("--transcripts", default=TRANSCRIPTS,
                    help="their transcripts (default: %(default)s)")
    ap.add_argument("--only", action="append", default=[], metavar="GLOB",
                    help="only the prompts whose name matches GLOB (repeatable; default: all)")
    args = ap.parse_args()

    if not os.path.isdir(args.prompts):
        sys.exit("no prompts in %s: install Debian's asterisk-core-sounds-en-g722" % args.prompts)
    if not os.path.isfile(args.transcripts):
        sys.exit("no transcripts at %s: install Debian's asterisk-core-sounds-en" % args.transcripts)
    if shutil.which("ffmpeg") is None:
        sys.exit("ffmpeg is missing: install Debian's ffmpeg")
    corpus = load_corpus_module()
    rate = corpus.RATE
    texts = read_transcripts(args.transcripts)
    confusable_words = [w for w, _ in corpus.CONFUSABLE_WORDS]
    prompts = sorted(os.path.relpath(os.path.join(top, f), args.prompts)
                     for top, _, files in os.walk(args.prompts)
                     for f in files if f.endswith(".g722"))
    # silence/N: N seconds of nothing, for the PBX to pause with
    prompts = [p for p in prompts if not p.startswith("silence/")]
    if args.only:
        prompts = [p for p in prompts
                   if any(fnmatch.fnmatchcase(p[:-len(".g722")], g) for g in args.only)]
    untold = [p for p in prompts if p[:-len(".g722")] not in texts]
    prompts = [p for p in prompts if p[:-len(".g722")] in texts]
    if not prompts:
        sys.exit("no prompt in %s has a transcript and matches --only" % args.prompts)

    rnd = random.Random(args.seed)
    os.makedirs(os.path.join(args.outdir, "ordinary"), exist_ok=True)
    os.makedirs(os.path.join(args.outdir, "confusable"), exist_ok=True)
    lines = ["# path\tclass\tphrase\tduration_s\tword_start_s\tword_end_s\tcondition\tvoice\ttext"]
    minutes = {"ordinary": 0.0, "confusable": 0.0}
    with tempfile.TemporaryDirectory() as tmp:
        tracks = corpus.noise_tracks(tmp)
        tracks["babble"] = array.array("h")
        for i, rel in enumerate(prompts):
            name = rel[:-len(".g722")]
            decoded = os.path.join(tmp, "decoded.wav")
            done = subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "g722", "-i",
                                   os.path.join(args.prompts, rel), "-ar", str(rate), "-ac", "1",
                                   "-sample_fmt", "s16", decoded],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if done.returncode != 0:
                sys.exit("%s: ffmpeg could not decode it: %s" % (rel, done.stderr.strip()))
            speech, r = corpus.read_wav(decoded)
            if r != rate or len(speech) < rate // 10:
                sys.exit("%s: decodes to %d samples at %d Hz, not 0.1 s or more at %d Hz"
                         % (rel, len(speech), r, rate))
            cls, spoken = classify(texts[name], confusable_words)
            pre = int(rate * rnd.uniform(0.3, 1.0))
            post = int(rate * rnd.uniform(0.5, 1.0))
            mixed = corpus.mix(speech, pre, post, "clean", tmp, rnd, tracks)
            out = "%s/rec-%04d.wav" % (cls, i)
            corpus.write_wav(os.path.join(args.outdir, out), mixed)
            minutes[cls] += len(mixed) / rate / 60
            lines.append("\t".join([out, cls, spoken, "%.3f" % (len(mixed) / rate),
                                    "%.3f" % (pre / rate), "%.3f" % ((pre + len(speech)) / rate),
                                    "recorded", "asterisk:allison/" + name, texts[name]]))
    with open(os.path.join(args.outdir, "manifest.tsv"), "w") as f:
        f.write("\n".join(lines) + "\n")
    for cls, m in minutes.items():
        print("%-12s %5.1f min" % (cls, m))
    if untold:
        print("left out (no transcript): %s" % " ".join(untold))


if __name__ == "__main__":
    main()
