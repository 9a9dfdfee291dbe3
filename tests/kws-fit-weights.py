#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fits the keyword spotter's final-score weights on half of a corpus and
reports on the other half.

    twinlockctl kws eval CORPUS --dump cands.tsv
    tests/kws-fit-weights.py CORPUS cands.tsv [--phrase unlock]

The corpus (tests/make-kws-corpus.py) is split by the file's line in the
manifest: even lines are half A, odd lines half B.  For each direction
(fit A → test B, fit B → test A) a grid of weights for
    score = w_kws·kws + w_llr·LLR + w_margin·margin + w_dur·duration_s
        − w_lost·[the confusable grammar preferred another phrase]
and the threshold are chosen on the fitting half for the most detections
with at most the allowed false alarms there, then the same weights and
threshold are counted on the other half.  Candidates rejected by the gate
(gate_ok 0) never pass; as in the engine, a "lock" inside an accepted
"unlock" is dropped (unlock at its own fitted threshold).

The allowed false alarms are rates: ≤ 1/h on ordinary and ≤ 5/h on
confusable speech, i.e. with a half of the default corpus (≈ 17 min
ordinary, ≈ 8 min confusable) no false alarm at all.
"""
import argparse
import itertools
import math
import os


def load(corpus, dump):
    items = []
    with open(os.path.join(corpus, "manifest.tsv")) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            p = line.rstrip("\n").split("\t")
            items.append(dict(path=os.path.join(corpus, p[0]), klass=p[1], phrase=p[2],
                              dur=float(p[3]), ws=float(p[4]), we=float(p[5]),
                              festival=p[7].startswith("festival:"), cands=[]))
    by_path = {it["path"]: it for it in items}
    with open(dump) as f:
        head = f.readline().rstrip("\n").split("\t")
        for line in f:
            fields = line.rstrip("\n").split("\t")
            if len(fields) != len(head):
                continue    # a dump still being written
            r = dict(zip(head, fields))
            it = by_path.get(r["path"])
            if it is None:
                continue
            it["cands"].append(dict(phrase=r["phrase"], start=float(r["start"]), end=float(r["end"]),
                                    kws=float(r["kws"]), llr=float(r["llr"]),
                                    margin=float(r["margin"]), gate=r["gate_ok"] == "1",
                                    lost=r["winner"] != r["phrase"]))
    return items


def score(c, w):
    if not c["gate"] or math.isinf(c["llr"]):
        return -math.inf
    return (w[0] * c["kws"] + w[1] * c["llr"] + w[2] * c["margin"]
            + w[3] * (c["end"] - c["start"]) - w[4] * c["lost"])


def count(items, phrase, w, thr, unlock_rule):
    """detections, positives, festival hits, FA ordinary, FA confusable"""
    hit = pos = hit_f = pos_f = fa_o = fa_c = 0
    for it in items:
        accepted = []
        for c in it["cands"]:
            if c["phrase"] != phrase or score(c, w) < thr:
                continue
            if phrase == "lock" and unlock_rule is not None:
                uw, ut = unlock_rule
                if any(u["phrase"] == "unlock" and score(u, uw) >= ut and
                       u["start"] < c["end"] and c["start"] < u["end"] for u in it["cands"]):
                    continue
            accepted.append(c)
        if it["klass"] == "positive":
            h = any(it["phrase"] == phrase and c["end"] > it["ws"] - 0.1 and c["start"] < it["we"] + 0.1
                    for c in accepted)
            if it["phrase"] == phrase:
                pos += 1
                hit += h
                pos_f += it["festival"]
                hit_f += h and it["festival"]
        elif phrase not in it["phrase"].split(","):
            if it["klass"] == "ordinary":
                fa_o += len(accepted)
            else:
                fa_c += len(accepted)
    return hit, pos, hit_f, pos_f, fa_o, fa_c


def hours(items, klass):
    return sum(it["dur"] for it in items if it["klass"] == klass) / 3600


def best_threshold(items, phrase, w, max_o, max_c, unlock_rule):
    """The lowest threshold whose false alarms stay within the limits."""
    scores = sorted({score(c, w) for it in items for c in it["cands"]
                     if c["phrase"] == phrase and not math.isinf(score(c, w))}, reverse=True)
    best = (math.inf, 0)
    # false alarms only grow as the threshold falls: walk down until they exceed
    lo, hi = 0, len(scores) - 1
    ok_idx = -1
    while lo <= hi:
        mid = (lo + hi) // 2
        r = count(items, phrase, w, scores[mid], unlock_rule)
        if r[4] <= max_o and r[5] <= max_c:
            ok_idx = mid
            lo = mid + 1
        else:
            hi = mid - 1
    if ok_idx >= 0:
        thr = scores[ok_idx]
        best = (thr, count(items, phrase, w, thr, unlock_rule)[0])
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus")
    ap.add_argument("dump")
    ap.add_argument("--phrase", default="unlock")
    ap.add_argument("--unlock-weights", default="0.1,0.5,1.0,0,0",
                    help="weights for the unlock rule when fitting lock")
    ap.add_argument("--unlock-threshold", type=float, default=0.2)
    args = ap.parse_args()

    items = load(args.corpus, args.dump)
    halves = {"A": items[0::2], "B": items[1::2]}
    unlock_rule = None
    if args.phrase == "lock":
        unlock_rule = ([float(x) for x in args.unlock_weights.split(",")], args.unlock_threshold)

    grid = list(itertools.product([0.0, 0.05, 0.1, 0.2],
                                  [0.0, 0.25, 0.5, 1.0],
                                  [0.0, 0.5, 1.0, 2.0],
                                  [0.0, 1.0, 2.0],
                                  [0.0, 1.0]))
    grid = [w for w in grid if any(w[:3])]
    baseline = (0.1, 0.5, 1.0, 0.0, 0.0)
    for fit, test in (("A", "B"), ("B", "A")):
        fi, te = halves[fit], halves[test]
        lim = (math.floor(1 * hours(fi, "ordinary") + 1e-9), math.floor(5 * hours(fi, "confusable") + 1e-9))
        best = None
        for w in grid:
            thr, hits = best_threshold(fi, args.phrase, w, lim[0], lim[1], unlock_rule)
            if best is None or hits > best[2]:
                best = (w, thr, hits)
        w, thr, _ = best
        for name, ww in (("fitted", w), ("baseline weights", baseline)):
            t = thr if ww is w else best_threshold(fi, args.phrase, ww, lim[0], lim[1], unlock_rule)[0]
            for half, its in ((fit, fi), (test, te)):
                h, p, hf, pf, fo, fc = count(its, args.phrase, ww, t, unlock_rule)
                print(f"{args.phrase} fit on {fit} ({name} w={ww} thr={t:.3f}) on {half}: "
                      f"detected {h}/{p} = {100 * h / max(p, 1):.1f}% (Festival {100 * hf / max(pf, 1):.1f}%), "
                      f"FA {fo} ordinary = {fo / hours(its, 'ordinary'):.1f}/h, "
                      f"{fc} confusable = {fc / hours(its, 'confusable'):.1f}/h")


if __name__ == "__main__":
    main()
