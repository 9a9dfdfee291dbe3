#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Builds the keyword-spotting corpus that `twinlockctl kws eval` measures.

    tests/make-kws-corpus.py [OUTDIR] [--seed N] [--scale F] [--jobs N]
                             [--texts eval|train|train2|random|held|initial]
                             [--unlock N] [--lock N]
                             [--ordinary-words N] [--confusable-scale F]
                             [--festival-share F] [--flite-share F]
                             [--no-librivox] [--spread]

OUTDIR (default /tmp/kws-corpus) receives 16 kHz mono 16-bit WAVs and
manifest.tsv, one line per file:

    path  class  phrase  duration_s  word_start_s  word_end_s  condition  voice  text

class is `positive` (exactly one spoken keyphrase, named in phrase),
`ordinary` (speech without any keyphrase or confusable word) or
`confusable` (speech full of words that sound like the keyphrases; phrase
then lists keyphrases that are legitimately spoken in it, e.g. "lock" in
"and lock the door", or "-").  word_start/end_s is the spoken extent of the
synthesised text inside the file; for a positive, that of the keyphrase:
all of it for the bare keyphrase, and where a carrier phrase opens or
closes with the keyphrase ("please unlock", "unlock the door"), as long as
the keyphrase spoken alone by the same voice, from the end or the start.
(Before, a carrier's positive had the whole text's extent, so `kws train`
labelled windows of "please" alone as "unlock".)

Speech comes from espeak-ng with many voices, variants, rates and pitches,
and (half of the files) from Festival's American voices with sox tempo and
pitch changes (training corpora may also take a share from Flite's voices,
--flite-share, with the same changes);
noise (pink, brown or white, or LibriVox babble) is mixed by sox at 20 and
10 dB SNR; "clean" files carry only a -70 dBFS noise floor, as any real
microphone does.  Ordinary speech is read from the licence texts in
/usr/share/common-licenses (plain English prose that every Debian system
has); the LibriVox clips of Debian's pocketsphinx-testdata are added as they
are.  Nothing here is committed: the corpus is rebuilt from this script,
byte for byte from the same seed and options (sox runs in its repeatable
mode, -R, and each file cuts its noise from one track per kind).

`--texts train` builds a corpus to train and calibrate on, disjoint in text
from the default (evaluation) one: other carrier phrases, other confusable
sentences and templates (the confusable words are the same), other licence
texts; with `--no-librivox` it leaves out the LibriVox clips, which the
evaluation corpus contains (they still serve as babble noise).  Use another
seed and OUTDIR too, so that voices, rates, pitches and noise differ.
`--texts train2` is a second training text set: the carrier phrases of
`train` and more of its own, more confusable sentences and templates of its
own, and the same licence texts as `train` read from a shuffled start.
`--spread` widens the voices for training: Festival tempo 78-125 % and
pitch (a sox shift of the whole spectrum, i.e. also the formants) within
+-350 cents, espeak-ng rates 100-230 and pitches 0-99 followed by a sox
shift within +-250 cents; noise at 30, 20, 15, 10 or 5 dB SNR besides clean.
`--texts held` is a selection set, never to train on: carrier phrases,
confusable templates and sentences and licence texts of its own (Apache
2.0, BSD), disjoint from the evaluation and the training sets, with
the confusable word opening a sentence as often as inside one, so that
networks and thresholds can be chosen on confusable speech the training
corpora never spoke.
`--texts random` is a third training set with random contexts instead of a
fixed list of carriers, templates and sentences, so that a network learns
the words rather than their contexts.  Its vocabulary is every word of the
training licence texts (never the GPL-3 nor any sentence of the evaluation
set) that matches no keyphrase or confusable word.  Positives: the
keyphrase with 0-6 random words either side, each side spoken as a
separate utterance and joined with pauses of 0-0.3 s (the keyphrase piece
sometimes takes its nearest word on one side with it), so that
word_start/end_s is the extent of the keyphrase piece, not of the whole
text; when the piece holds a neighbouring word, the extent is cut to the
length of the keyphrase spoken alone by the same voice, from the piece's
end (word before) or start (word after); "lock" positives
are half the time "and lock", "on lock" or "a lock" (one keyphrase,
"lock").  Confusable files: one or two words or phrases of
CONFUSABLE_WORDS and of RANDOM_CLOSE ("unlocked", "in luck", "unlike",
"a log" ...) among random words with random punctuation, each phrase in
about the same number of files (--confusable-scale: files per phrase / 8).
Ordinary files: random word sequences and training licence sentences, half
of the words each.
`--texts initial` is a training set where the keyphrase or confusable word
opens the utterance and a pause follows, as in the selection set's false
alarms ("On lock, the bike ..."), a construction the other training sets
hardly have.  Each positive or confusable file is the word alone, the word
after a short word ("Hey, unlock"), the word opening a sentence spoken as
one (for positives the extent is then cut to the keyphrase spoken alone),
or the word and the rest of the sentence spoken apart and joined with a
pause of 0-0.3 s.  The rest of the sentence comes from lists of its own;
the confusable words are CONFUSABLE_WORDS and INITIAL_CLOSE ("unlocked",
"unblock", "padlock" ...), each in about the same number of files
(--confusable-scale: files per phrase / 8); ordinary speech is the training
licence texts read from a shuffled start.
"""

import argparse
import array
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import wave
from concurrent.futures import ThreadPoolExecutor

RATE = 16000
LIBRIVOX = "/usr/share/pocketsphinx/test/data/librivox"
LICENSES = "/usr/share/common-licenses"
LICENSE_FILES = ["GPL-3", "Apache-2.0", "MPL-2.0", "GFDL-1.3", "LGPL-2.1",
                 "Artistic", "CC0-1.0", "GPL-2", "MPL-1.1"]

VOICES = ["en-us", "en", "en-gb-x-rp", "en-gb-scotland", "en-029",
          "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-us-nyc"]
VARIANTS = ["", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3",
            "f4", "f5", "klatt", "klatt2", "klatt4", "croak", "Andy", "Annie",
            "belinda", "john", "linda", "max", "steph", "david", "aunty"]

# Festival's diphone and HTS voices (Debian festvox-kallpc16k,
# festvox-kdlpc16k, festvox-us-slt-hts): American English that PocketSphinx's
# en-us model was trained for, where espeak-ng's formant voices are far from
# it.  Both are used; `kws eval` reports them apart.
FESTIVAL = {
    "festival:kal": "voice_kal_diphone",
    "festival:ked": "voice_ked_diphone",
    "festival:slt": "voice_cmu_us_slt_arctic_hts",
}
HAVE_FESTIVAL = shutil.which("text2wave") is not None

# Flite's own voices (Debian flite): three speakers Festival's packages do
# not have, or not in this synthesis (awb Scottish male, rms American male,
# slt American female as a statistical voice instead of HTS).  Used only
# with --flite-share, for training: the evaluation corpus has none.
FLITE = ["flite:awb", "flite:rms", "flite:slt"]

UNLOCK = ["unlock", "unlock", "unlock", "please unlock", "unlock it",
          "unlock the screen", "okay, unlock", "computer, unlock",
          "unlock please"]
LOCK = ["lock", "lock", "lock", "lock it", "please lock", "lock the screen",
        "okay, lock"]

# Training texts (--texts train): none of them is in the lists above.
UNLOCK_TRAIN = ["unlock", "unlock", "unlock", "unlock now", "hey, unlock",
                "unlock the door", "could you unlock", "unlock for me",
                "right, unlock", "unlock the laptop"]
LOCK_TRAIN = ["lock", "lock", "lock", "lock now", "lock the door",
              "hey, lock", "lock for me", "right, lock"]
# Only with --texts train2, added to the train lists.
UNLOCK_TRAIN2 = ["unlock", "unlock", "unlock it now", "just unlock",
                 "unlock, thanks", "alright, unlock", "unlock my computer",
                 "now unlock"]
LOCK_TRAIN2 = ["lock", "lock", "just lock", "lock it now", "lock, thanks",
               "alright, lock", "lock my computer", "now lock"]
# Only with --texts held: a selection set of its own.
UNLOCK_HELD = ["unlock", "unlock", "unlock", "unlock it please", "so, unlock",
               "unlock the front door", "would you unlock", "unlock right now",
               "well, unlock", "go ahead and unlock"]
LOCK_HELD = ["lock", "lock", "lock", "lock it please", "so, lock",
             "lock the front door", "well, lock", "go ahead and lock"]
LICENSE_FILES_HELD = ["Apache-2.0", "BSD"]
LICENSE_FILES_TRAIN = ["MPL-2.0", "GFDL-1.3", "LGPL-2.1", "Artistic",
                       "CC0-1.0", "MPL-1.1"]

# Sentences built around words that sound like "unlock" / "lock".  The
# second field lists the keyphrases legitimately spoken in the sentence.
CONFUSABLE_WORDS = [
    ("and lock", "lock"), ("on lock", "lock"), ("a lock", "lock"),
    ("in luck", ""), ("unload", ""), ("clock", ""), ("a lot", ""),
    ("block", ""), ("look", ""), ("luck", ""), ("o'clock", ""),
    ("unless", ""), ("unlike", ""), ("online", ""), ("hello", ""),
    ("allow", ""), ("alarm", ""), ("knock", ""), ("flock", ""),
    ("unlucky", ""), ("a log", ""), ("in love", ""), ("unpack", ""),
    ("undo", ""), ("long", ""), ("unknown", ""), ("anklet", ""),
]
CONFUSABLE_TEMPLATES = [
    "I think we should {w} before we leave.",
    "She said {w}, and then she walked away.",
    "The word was {w}, if I remember it correctly.",
    "We were talking about {w} all afternoon.",
    "Did you hear him say {w} just now?",
    "There is {w} written on the note by the door.",
    "Maybe {w} is what he meant.",
    "{w}, that is what the sign said.",
    "They argued for an hour, {w} or not.",
    "It was {w} from the very start.",
]
CONFUSABLE_SENTENCES = [
    "Please unload the truck and lock the gate.",
    "We were in luck, the shop was still open.",
    "The clock on the wall stopped at nine o'clock.",
    "There is a lot of work left to do.",
    "Turn left at the next block.",
    "Take a look at this, it is unlike anything else.",
    "Unless you hurry you will miss the train.",
    "He keeps his bike on lock in the shed.",
    "She bought a lock for the new locker.",
    "A flock of birds flew over the old log cabin.",
    "Knock twice and wait for an answer.",
    "The alarm went off at six in the morning.",
    "Hello, is anybody home?",
    "They unload the van and lock the doors every night.",
    "Good luck with the exam tomorrow.",
    "It is an unknown number, do not answer it.",
    "Unpack the boxes and put the books on the shelf.",
    "The online shop will allow returns for thirty days.",
    "It has been a long day and I am unlucky.",
    "I will look for the key in a lot of places.",
]
CONFUSABLE_TEMPLATES_TRAIN = [
    "You should {w} when you get the chance.",
    "I heard {w} on the radio this morning.",
    "Write {w} at the top of the page.",
    "He kept saying {w} over and over.",
    "The answer is {w}, not the other thing.",
    "Tell her {w} when she calls back.",
    "{w} is the last word in the song.",
    "Nobody expected {w} to come up.",
    "My brother said {w} on the phone.",
    "Just {w}, and we can go home.",
]
CONFUSABLE_SENTENCES_TRAIN = [
    "Unload the car and lock the bikes to the rail.",
    "We had no luck finding a parking spot.",
    "The old clock in the hall chimes every hour.",
    "We still have a lot of boxes to carry.",
    "The shop is around the block from here.",
    "Look at the sky, it might rain later.",
    "Unlike last year, the summer was dry.",
    "The gate has a lock and a heavy chain.",
    "Someone will knock on the window at noon.",
    "A flock of sheep crossed the road.",
    "Set the alarm for seven o'clock.",
    "Hello there, can I help you?",
    "In luck again, he found a free seat.",
    "That is an unknown address.",
    "Please undo the last change and save.",
    "They will unpack the tent and light a fire.",
    "Allow me to carry the bags.",
    "He logged in online late at night.",
    "It was a long and unlucky trip.",
    "Unless it snows, we leave at eight.",
]

CONFUSABLE_TEMPLATES_HELD = [
    "{w}, or so the letter claimed.",
    "{w} was the only word I caught.",
    "{w}, she wrote, and signed her name.",
    "{w}, he shouted across the yard.",
    "The last thing on the list was {w}.",
    "I keep mixing up {w} with something else.",
    "Could you spell {w} for me?",
    "Her parrot learned to say {w}.",
    "We argued about {w} until midnight.",
    "Underline {w} twice in red.",
    "Nobody in the room said {w}.",
    "{w} again, that is the third time today.",
]
CONFUSABLE_SENTENCES_HELD = [
    "Unlike the others, this one floats.",
    "Unlike you, I slept well.",
    "On lock, the bike stays put all night.",
    "A lock this old needs oil.",
    "And lock it when you go.",
    "Unload the boxes, then rest a while.",
    "Unlikely, but not impossible.",
    "The clock tower rang at noon.",
    "A lot of people came to the fair.",
    "We were so lucky with the weather.",
    "Unless he calls, we go at five.",
    "Block the door with that chair.",
    "Look, the kettle is boiling.",
    "A flock of starlings turned above the field.",
    "Knock knock, who is there?",
    "The alarm was set too early.",
    "Hello again, it has been a while.",
    "Undo the knot and try once more.",
    "It is an unknown song to me.",
    "Unpack your bag before dinner.",
]

CONFUSABLE_TEMPLATES_TRAIN2 = [
    "Somebody wrote {w} on the back of the card.",
    "I only caught the word {w} and nothing else.",
    "If you say {w} again I will leave.",
    "The teacher asked what {w} means.",
    "We laughed when he said {w} so loudly.",
    "Her reply was {w}, short and clear.",
    "Is it {w} or something else entirely?",
    "Put {w} in the search box and wait.",
]
CONFUSABLE_SENTENCES_TRAIN2 = [
    "We will unload everything and lock up later.",
    "What luck, the bus came right away.",
    "The clock says it is a quarter past ten.",
    "I have a lot on my mind this week.",
    "Walk two blocks and turn right at the bank.",
    "Look here, the paint is still wet.",
    "Unlike his sister, he hates the cold.",
    "Put a lock on the shed and keep the key.",
    "Did you knock or ring the bell?",
    "A flock of geese landed on the lake.",
    "The alarm clock rang twice this morning.",
    "Hello, I am calling about the flat.",
    "You are in luck, there is one left.",
    "The caller was unknown to all of us.",
    "You can undo it with the menu.",
    "Let us unpack after dinner.",
    "They do not allow dogs in the park.",
    "The log burned slowly in the stove.",
    "Unless he calls, we will start without him.",
    "It was an unlucky guess after all.",
    "Turn the key and the lock will open.",
    "An owl called in the dark woods.",
    "Uncle Luke lives on a long lane.",
    "And look at all these letters.",
    "Only a lock of hair was left.",
    "The unloading took all afternoon.",
    "In the lab we keep a log of every run.",
    "On Lock Street the shops close early.",
    "Under the clock there is a small desk.",
]

# Only with --texts random: phrases close to the keyphrases, besides
# CONFUSABLE_WORDS, each spoken among random words; the second field lists
# the keyphrase legitimately spoken in it, as in CONFUSABLE_WORDS.
RANDOM_CLOSE = [
    ("unlocked", ""), ("unlocking", ""), ("lockout", ""), ("clock", ""),
    ("block", ""), ("a lock", "lock"), ("and lock", "lock"),
    ("on lock", "lock"), ("in luck", ""), ("unlike", ""), ("unload", ""),
    ("unless", ""), ("undo", ""), ("a log", ""), ("and look", ""),
    ("in lock", "lock"), ("unlit", ""), ("a loch", ""), ("unplug", ""),
    ("in log", ""), ("online", ""), ("the lock", "lock"), ("no luck", ""),
]
RANDOM_LOCK_PIECES = ["and lock", "on lock", "a lock"]
RANDOM_PUNCT = [",", ",", ".", ";", "?", " -", "!"]


# Only with --texts initial: a keyphrase or confusable word opening the
# utterance, then a pause, the construction that the other training sets
# lack and the selection set's false alarms share ("On lock, ...").
UNLOCK_INITIAL_REST = ["then wait a moment.", "and leave it open.", "I said.",
                       "right away.", "if you can.", "thank you.",
                       "and do it quickly."]
LOCK_INITIAL_REST = ["then leave.", "and keep it shut.", "I said.",
                     "right away.", "if you can.", "thank you."]
# (no "please" nor "okay": the evaluation set has "unlock please" and
# "okay, unlock")
INITIAL_LEFT = ["Right then.", "Now,", "Alright.", "Hey,", "Yes."]
INITIAL_CLOSE = [
    ("unlocked", ""), ("unlikely", ""), ("unblock", ""), ("unlatch", ""),
    ("unplug", ""), ("no luck", ""), ("and look", ""), ("hemlock", ""),
    ("padlock", ""), ("unlit", ""), ("the lock", "lock"), ("in lock", "lock"),
    ("unlocking", ""), ("a loch", ""),
]
INITIAL_REST = [
    "then nothing more.", "that was all he said.",
    "she repeated, a little louder.", "and the room went quiet.",
    "I wrote it down at once.", "or something close to it.",
    "the voice on the tape said.", "he whispered, and left.",
    "they called from the hallway.", "just like that.", "we heard it twice.",
    "the man on the radio said.", "and then a long pause.",
    "if I heard it right.", "the child kept repeating.",
    "written in chalk on the wall.", "that is the message.",
    "nothing else, just that.", "my neighbour said with a grin.",
    "it said on the screen.", "then the call dropped.", "and everyone laughed.",
    "so the story goes.", "as the guide put it.",
]


def run(cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def read_wav(path):
    with wave.open(path, "rb") as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1
        a = array.array("h")
        a.frombytes(w.readframes(w.getnframes()))
        return a, w.getframerate()


def write_wav(path, samples):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.tobytes())


def rms(samples):
    if not samples:
        return 0.0
    return math.sqrt(sum(x * x for x in samples) / len(samples))


def extent(samples):
    """First and last 10 ms frame louder than 1/30 of the loudest one."""
    frames = [rms(samples[i:i + 160]) for i in range(0, len(samples), 160)]
    if not frames or max(frames) == 0:
        return 0, 0
    thr = max(frames) / 30.0
    loud = [i for i, f in enumerate(frames) if f > thr]
    return loud[0] * 160, (loud[-1] + 1) * 160


def say(text, voice, rate, pitch, tmp):
    """espeak-ng or Festival → 16 kHz mono, trimmed to the spoken extent.
    For Festival, rate is a tempo factor in percent and pitch a shift in
    cents, both applied by sox."""
    raw = os.path.join(tmp, "raw.wav")
    out = os.path.join(tmp, "16k.wav")
    # a synthesiser that writes nothing must fail here, not leave the
    # previous piece's audio to be read again
    for path in (raw, out):
        if os.path.exists(path):
            os.remove(path)
    if voice.startswith(("festival:", "flite:")):
        txt = os.path.join(tmp, "text.txt")
        with open(txt, "w") as f:
            f.write(text + "\n")
        if voice.startswith("flite:"):
            run(["flite", "-voice", voice[len("flite:"):], "-f", txt, "-o", raw])
        else:
            run(["text2wave", "-eval", "(%s)" % FESTIVAL[voice], "-o", raw, txt])
        run(["sox", "-R", raw, "-r", str(RATE), "-c", "1", "-b", "16", out,
             "tempo", "%.2f" % (rate / 100.0), "pitch", str(pitch)])
    else:
        # pitch is an espeak-ng pitch, or "P+C": that, then a sox shift of C cents
        p = re.match(r"(\d+)([+-]\d+)?$", str(pitch))
        run(["espeak-ng", "-v", voice, "-s", str(rate), "-p", p.group(1),
             "-w", raw, "--", text])
        shift = ["pitch", str(int(p.group(2)))] if p.group(2) else []
        run(["sox", "-R", raw, "-r", str(RATE), "-c", "1", "-b", "16", out] + shift)
    samples, _ = read_wav(out)
    a, b = extent(samples)
    return samples[a:b]


def keyphrase_extent(text, phrase, n, alone):
    """The samples [k0, k1) of the keyphrase in a positive spoken as one
    (n samples, trimmed): all of them for the keyphrase alone, else, where
    the text opens or closes with it ("unlock the door", "please
    unlock"), as long as the keyphrase spoken alone by the same voice
    (alone() gives that length) from the start or the end.  A keyphrase
    inside the text keeps the whole extent."""
    # words as kws eval finds them: letters and digits (apostrophes inside)
    words = re.findall(r"[^\W_]+(?:'[^\W_]+)*", text.lower())
    key = phrase.split()
    if len(words) <= len(key):
        return 0, n
    d = min(n, alone())
    if words[-len(key):] == key:
        return n - d, n
    if words[:len(key)] == key:
        return 0, d
    return 0, n


# Seconds of each synthetic noise that a corpus cuts its pieces from.
NOISE_S = 120


def noise_tracks(tmp):
    """One track of each synthetic noise, made by sox in its repeatable mode
    (-R): the same samples on every run, so that a corpus is rebuilt
    byte for byte from its seed."""
    tracks = {}
    for kind in ("pink", "brown", "white"):
        path = os.path.join(tmp, kind + ".wav")
        run(["sox", "-R", "-n", "-r", str(RATE), "-c", "1", "-b", "16", path,
             "synth", str(NOISE_S), kind + "noise", "vol", "0.3"])
        tracks[kind], _ = read_wav(path)
    return tracks


def noise(kind, n, rnd, tracks):
    """n samples of a noise from a random place in its track (the LibriVox
    babble or a synthetic one), wrapping round at its end."""
    track = tracks[kind]
    start = rnd.randrange(0, max(1, len(track) - n))
    out = track[start:start + n]
    while len(out) < n:
        out.extend(track[:n - len(out)])
    return out


def mix(speech, pre, post, condition, tmp, rnd, tracks):
    """Pads speech with pauses and adds noise at the condition's SNR; the
    SNR is measured against the speech's own RMS.  sox does the mixing."""
    n = pre + len(speech) + post
    body = array.array("h", [0] * pre) + speech + array.array("h", [0] * post)
    s_rms = rms(speech) or 1.0
    if condition == "clean":
        # a -70 dBFS floor regardless of the speech level
        kind, target = "pink", 32768 * 10 ** (-70 / 20)
    else:
        kind = rnd.choice(["pink", "brown", "white", "babble"] if tracks["babble"]
                          else ["pink", "brown", "white"])
        snr = float(condition.rstrip("dB"))
        target = s_rms / 10 ** (snr / 20)
    nz = noise(kind, n, rnd, tracks)
    gain = target / (rms(nz) or 1.0)
    a = os.path.join(tmp, "a.wav")
    b = os.path.join(tmp, "b.wav")
    out = os.path.join(tmp, "mix.wav")
    write_wav(a, body)
    write_wav(b, nz)
    # -m sums the inputs; the gains keep the mix below clipping.
    peak = max(1, max(abs(x) for x in body))
    scale = min(1.0, 30000.0 / (peak + 3 * target))
    run(["sox", "-R", "-m", "-v", "%.6f" % scale, a, "-v", "%.6f" % (gain * scale), b,
         "-b", "16", out])
    mixed, _ = read_wav(out)
    return mixed[:n]


def voice_pick(rnd, shares, spread=False):
    """shares: (Festival's, Flite's) share of the files.  Without Flite the
    draws are those of the corpora built before it was added."""
    festival_share, flite_share = shares
    synth = None
    if flite_share > 0:
        u = rnd.random()
        if HAVE_FESTIVAL and u < festival_share:
            synth = sorted(FESTIVAL)
        elif festival_share <= u < festival_share + flite_share:
            synth = FLITE
    elif HAVE_FESTIVAL and rnd.random() < festival_share:
        synth = sorted(FESTIVAL)
    if synth is not None:
        if spread:
            return (rnd.choice(synth), rnd.randint(78, 125),
                    rnd.randint(-350, 350))
        return (rnd.choice(synth), rnd.randint(88, 115),
                rnd.randint(-150, 150))
    v = rnd.choice(VOICES)
    var = rnd.choice(VARIANTS)
    if spread:
        # the espeak-ng pitch, then a sox shift of the whole spectrum
        return (v + ("+" + var if var else ""), rnd.randint(100, 230),
                "%d%+d" % (rnd.randint(0, 99), rnd.randint(-250, 250)))
    return v + ("+" + var if var else ""), rnd.randint(120, 200), rnd.randint(25, 75)


def license_texts(files):
    """The text of each licence file that this system has."""
    for name in files:
        path = os.path.join(LICENSES, name)
        if os.path.exists(path):
            yield open(path, encoding="utf-8", errors="replace").read()


def license_chunks(files, words_wanted):
    bad = re.compile(r"lock|luck|clock|unload|a lot|unl|knock|flock|block",
                     re.IGNORECASE)
    sentences = []
    for text in license_texts(files):
        text = re.sub(r"\s+", " ", text)
        for s in re.split(r"(?<=[.;:])\s+", text):
            s = re.sub(r"[^A-Za-z0-9,.;:'()\- ]", " ", s).strip()
            if len(s.split()) >= 4 and not bad.search(s):
                sentences.append(s)
    chunks, cur, total = [], [], 0
    for s in sentences:
        cur.append(s)
        if sum(len(x.split()) for x in cur) >= 35:
            chunks.append(" ".join(cur))
            total += sum(len(x.split()) for x in cur)
            cur = []
        if total >= words_wanted:
            break
    return chunks


def random_vocabulary(files):
    """Words of the training licence texts that sound like no keyphrase nor
    confusable word: (every occurrence, each distinct word once)."""
    bad = re.compile(r"lock|luck|clock|unload|unl|knock|flock|block|log|look|"
                     r"long|^lot$|^lots$|allow|alarm|hello|online|unknown|undo|"
                     r"unpack|love|ankle|^un", re.IGNORECASE)
    tokens = []
    for text in license_texts(files):
        for w in re.findall(r"[A-Za-z]+(?:'[a-z]+)?", text):
            if len(w) >= 2 or w.lower() in ("a", "i"):
                if not bad.search(w):
                    tokens.append(w.lower())
    return tokens, sorted(set(tokens))


def random_words(rnd, vocab, n, punct=0.12):
    """n random words, half by their frequency in the texts, half uniformly
    over the distinct words, with random punctuation between them."""
    tokens, types = vocab
    out = []
    for i in range(n):
        w = rnd.choice(tokens) if rnd.random() < 0.5 else rnd.choice(types)
        if i + 1 < n and rnd.random() < punct:
            w += rnd.choice(RANDOM_PUNCT)
        out.append(w)
    return " ".join(out)


def shuffled_training_chunks(rnd):
    """Every chunk of the training licence texts, in an order drawn by rnd."""
    chunks = license_chunks(LICENSE_FILES_TRAIN, 10 ** 9)
    if not chunks:
        sys.exit("make-kws-corpus: no sentences in the training licence texts of %s"
                 % LICENSES)
    rnd.shuffle(chunks)
    return chunks


def random_jobs(rnd, args, n_unlock, n_lock, n_words, conf_scale, conds, fs, sp):
    """The jobs of --texts random.  A job's text is "LEFT|KEY|RIGHT" where
    the three pieces are spoken apart (positives), or plain text."""
    nc = len(conds)
    vocab = random_vocabulary(LICENSE_FILES_TRAIN)
    if not vocab[0]:
        sys.exit("make-kws-corpus: --texts random needs the training licence texts "
                 "in %s (Debian's base-files)" % LICENSES)
    jobs = []

    def positive(key):
        left = random_words(rnd, vocab, rnd.randint(0, 6))
        right = random_words(rnd, vocab, rnd.randint(0, 6))
        # the keyphrase piece may take its nearest word with it (one side
        # only); the keyphrase is then marked "[...]" in the piece, so that
        # its extent can be told from the word's
        bare = key
        if left and rnd.random() < 0.4:
            lw = left.split(" ")
            left, key = " ".join(lw[:-1]), lw[-1].rstrip(",.;?!-") + " " + key
        if right and rnd.random() < 0.25 and key == bare:
            rw = right.split(" ")
            right, key = " ".join(rw[1:]).lstrip(" -"), key + " " + rw[0].rstrip(",.;?!-")
        if rnd.random() < 0.3:
            key = key[0].upper() + key[1:]
        if len(key) != len(bare):
            i = len(key) - len(bare) if key.lower().endswith(bare.lower()) else 0
            key = key[:i] + "[" + key[i:i + len(bare)] + "]" + key[i + len(bare):]
        if left and rnd.random() < 0.5:
            left += rnd.choice(RANDOM_PUNCT)
        return "|".join((left, key, right))

    for i in range(n_unlock):
        jobs.append(("positive/unlock-%04d.wav" % i, "positive", "unlock",
                     positive("unlock"))
                    + voice_pick(rnd, fs, sp) + (conds[i % nc], rnd.random()))
    for i in range(n_lock):
        key = rnd.choice(RANDOM_LOCK_PIECES) if rnd.random() < 0.5 else "lock"
        jobs.append(("positive/lock-%04d.wav" % i, "positive", "lock", positive(key))
                    + voice_pick(rnd, fs, sp) + (conds[i % nc], rnd.random()))

    # ordinary: random words and licence sentences, about half of the words each
    chunks = shuffled_training_chunks(rnd)
    texts, total = [], 0
    while total < n_words:
        if rnd.random() < 0.5:
            text = random_words(rnd, vocab, rnd.randint(10, 40))
        else:
            text = chunks[len(texts) % len(chunks)]
        text = text[0].upper() + text[1:] + "."
        texts.append(text)
        total += len(text.split())
    for i, text in enumerate(texts):
        jobs.append(("ordinary/text-%04d.wav" % i, "ordinary", "-", text)
                    + voice_pick(rnd, fs, sp) + (conds[i % nc], rnd.random()))

    # confusable: every phrase about equally often, one or two per file
    phrases = sorted(set(CONFUSABLE_WORDS + RANDOM_CLOSE))
    n_conf = int(len(phrases) * 8 * conf_scale)
    for i in range(n_conf):
        ws = [phrases[i % len(phrases)]]
        if rnd.random() < 0.3:
            ws.append(rnd.choice(phrases))
        parts = [random_words(rnd, vocab, rnd.randint(0, 6))]
        for w, _ in ws:
            parts += [w, random_words(rnd, vocab, rnd.randint(0, 6))]
        text = " ".join(p for p in parts if p)
        text = text[0].upper() + text[1:]
        allowed = "lock" if any(a for _, a in ws) else "-"
        jobs.append(("confusable/conf-%04d.wav" % i, "confusable", allowed, text)
                    + voice_pick(rnd, fs, sp) + (conds[i % nc], rnd.random()))
    return jobs


def initial_jobs(rnd, n_unlock, n_lock, n_words, conf_scale, conds, fs, sp):
    """The jobs of --texts initial.  Positives: the keyphrase alone, or
    opening an utterance followed by a pause, either spoken as one sentence
    ("[Unlock], then wait." whose extent is cut to the keyphrase spoken
    alone) or spoken apart and joined with a pause ("|Unlock,|then wait."),
    sometimes after a short word ("Hey,|unlock|").  Confusable files: each
    word or phrase of CONFUSABLE_WORDS and INITIAL_CLOSE the same way:
    alone, opening a sentence, or opening it after a pause."""
    nc = len(conds)
    jobs = []

    def cap(w):
        return w[0].upper() + w[1:]

    def opening(word, rests, bracket):
        u = rnd.random()
        if u < 0.25:
            return "|%s|" % rnd.choice([word, cap(word) + ".", cap(word) + "!"])
        if u < 0.35:
            left = rnd.choice(INITIAL_LEFT)
            return "%s|%s|" % (left, (cap(word) if left.endswith(".") else word)
                               + rnd.choice([".", ""]))
        punct = rnd.choice([",", ",", ".", "!", " -"])
        rest = rnd.choice(rests)
        rest = cap(rest) if punct in ".!" else rest
        if u < 0.65:
            head = "[%s]" % cap(word) if bracket else cap(word)
            return "|%s%s %s|" % (head, punct, rest)
        return "|%s%s|%s" % (cap(word), punct, rest)

    for i in range(n_unlock):
        jobs.append(("positive/unlock-%04d.wav" % i, "positive", "unlock",
                     opening("unlock", UNLOCK_INITIAL_REST, True))
                    + voice_pick(rnd, fs, sp) + (conds[i % nc], rnd.random()))
    for i in range(n_lock):
        jobs.append(("positive/lock-%04d.wav" % i, "positive", "lock",
                     opening("lock", LOCK_INITIAL_REST, True))
                    + voice_pick(rnd, fs, sp) + (conds[i % nc], rnd.random()))

    chunks = shuffled_training_chunks(rnd)
    total, i = 0, 0
    while total < n_words and i < len(chunks):
        jobs.append(("ordinary/text-%04d.wav" % i, "ordinary", "-", chunks[i])
                    + voice_pick(rnd, fs, sp) + (conds[i % nc], rnd.random()))
        total += len(chunks[i].split())
        i += 1

    phrases = CONFUSABLE_WORDS + [p for p in INITIAL_CLOSE if p not in CONFUSABLE_WORDS]
    n_conf = int(len(phrases) * 8 * conf_scale)
    for i in range(n_conf):
        w, allowed = phrases[i % len(phrases)]
        text = opening(w, INITIAL_REST, False)
        jobs.append(("confusable/conf-%04d.wav" % i, "confusable", allowed or "-", text)
                    + voice_pick(rnd, fs, sp) + (conds[i % nc], rnd.random()))
    return jobs


# --fix-extents leaves an extent alone that is within this many samples
# (20 ms) of the keyphrase spoken alone: the manifest's times are rounded
# to 1 ms, and a keyphrase extent of the new rule is that length already.
FIX_TOLERANCE = RATE // 50


def fix_extents(outdir, n_jobs):
    """--fix-extents: rewrites OUTDIR/manifest.tsv (the first run keeps the
    old one as manifest.tsv.orig) with each carrier positive's extent
    narrowed to the keyphrase (keyphrase_extent), from the voice, rate and
    pitch in its voice column; every other line stays as it was.  Meant
    for corpora of the eval, train, train2 and held texts: those of the
    random and initial texts have the keyphrase's extent already."""
    path = os.path.join(outdir, "manifest.tsv")
    if not os.path.exists(path):
        sys.exit("make-kws-corpus: %s is missing: is %s a corpus?" % (path, outdir))
    with open(path) as f:
        lines = f.read().split("\n")

    def fix(line):
        f = line.split("\t")
        if line.startswith("#") or len(f) < 9 or f[1] != "positive":
            return line
        parts = f[7].rsplit("/", 2)
        if len(parts) != 3 or not parts[1].startswith("s") or not parts[2].startswith("p") \
                or not parts[1][1:].isdigit():
            sys.exit("make-kws-corpus: %s: no VOICE/sRATE/pPITCH in “%s”: not a corpus "
                     "of this script" % (f[0], f[7]))
        voice, rate, pitch = parts
        ws, we = float(f[4]), float(f[5])
        n = int(round((we - ws) * RATE))
        with tempfile.TemporaryDirectory() as tmp:
            k0, k1 = keyphrase_extent(f[8], f[2], n, lambda: len(
                say(f[2], voice, int(rate[1:]), pitch[1:], tmp)))
        if n - (k1 - k0) <= FIX_TOLERANCE:
            return line
        f[4], f[5] = "%.3f" % (ws + k0 / RATE), "%.3f" % (ws + k1 / RATE)
        return "\t".join(f)

    with ThreadPoolExecutor(max_workers=max(1, n_jobs)) as pool:
        fixed = list(pool.map(fix, lines))
    if not os.path.exists(path + ".orig"):
        shutil.copy(path, path + ".orig")
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(fixed))
    os.replace(path + ".tmp", path)
    changed = sum(a != b for a, b in zip(lines, fixed))
    print("%s: %d of %d positives given the keyphrase's extent" % (
        path, changed, sum(1 for l in lines if "\tpositive\t" in l)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir", nargs="?", default="/tmp/kws-corpus")
    ap.add_argument("--seed", type=int, default=20261128)
    ap.add_argument("--scale", type=float, default=1.0,
                    help="multiply the number of files (0.1 for a quick look)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--texts", choices=["eval", "train", "train2", "random", "held",
                                        "initial"],
                    default="eval",
                    help="train, train2: carrier phrases, confusable sentences and "
                    "licence texts disjoint from the default corpus; random: "
                    "keyphrases and confusable words among random words; held: "
                    "a selection set with texts of its own; initial: keyphrases "
                    "and confusable words opening an utterance, then a pause")
    ap.add_argument("--spread", action="store_true",
                    help="wider tempo, pitch and SNR ranges (for training)")
    ap.add_argument("--fix-extents", action="store_true",
                    help="build nothing: give the positives of the corpus in OUTDIR, "
                    "made by an earlier version of this script, the keyphrase's "
                    "own extent (see the header); the audio is not touched")
    ap.add_argument("--unlock", type=int, help="positives of \"unlock\" (300 × scale)")
    ap.add_argument("--lock", type=int, help="positives of \"lock\" (120 × scale)")
    ap.add_argument("--ordinary-words", type=int,
                    help="words of ordinary speech (5200 × scale)")
    ap.add_argument("--confusable-scale", type=float,
                    help="confusable files per sentence (2 × scale)")
    ap.add_argument("--festival-share", type=float, default=0.5,
                    help="share of files spoken by Festival (if installed)")
    ap.add_argument("--flite-share", type=float, default=0.0,
                    help="share of files spoken by Flite's voices (for training; "
                    "default none)")
    ap.add_argument("--no-librivox", action="store_true",
                    help="leave the LibriVox clips out of the corpus")
    args = ap.parse_args()
    if args.fix_extents:
        fix_extents(args.outdir, args.jobs)
        return
    train = args.texts in ("train", "train2")
    train2 = args.texts == "train2"
    held = args.texts == "held"

    for tool in ("espeak-ng", "sox") + (("flite",) if args.flite_share > 0 else ()):
        if shutil.which(tool) is None:
            sys.exit("make-kws-corpus: %s is missing (apt-get install %s)" % (tool, tool))
    if not (0 <= args.festival_share <= 1 and 0 <= args.flite_share <= 1 and
            args.festival_share + args.flite_share <= 1):
        sys.exit("make-kws-corpus: --festival-share and --flite-share must be in "
                 "[0, 1] and add up to at most 1")

    rnd = random.Random(args.seed)
    out = args.outdir
    os.makedirs(out, exist_ok=True)
    for sub in ("positive", "ordinary", "confusable", "librivox"):
        os.makedirs(os.path.join(out, sub), exist_ok=True)

    babble = array.array("h")
    if os.path.isdir(LIBRIVOX):
        for f in sorted(os.listdir(LIBRIVOX)):
            if f.endswith(".wav"):
                s, r = read_wav(os.path.join(LIBRIVOX, f))
                if r == RATE:
                    babble.extend(s)
    with tempfile.TemporaryDirectory() as tmp:
        tracks = noise_tracks(tmp)
    tracks["babble"] = babble

    jobs = []  # (relpath, class, phrase, text, voice, rate, pitch, condition, seed)
    conds = ["clean", "20dB", "10dB"]
    if args.spread:
        conds = ["clean", "30dB", "20dB", "15dB", "10dB", "5dB"]
    nc = len(conds)
    n_unlock = args.unlock if args.unlock is not None else int(300 * args.scale)
    n_lock = args.lock if args.lock is not None else int(120 * args.scale)
    n_words = (args.ordinary_words if args.ordinary_words is not None
               else int(5200 * args.scale))
    conf_scale = (args.confusable_scale if args.confusable_scale is not None
                  else 2 * args.scale)
    fs = (args.festival_share, args.flite_share)
    sp = args.spread
    if args.texts == "random":
        jobs = random_jobs(rnd, args, n_unlock, n_lock, n_words, conf_scale,
                           conds, fs, sp)
    elif args.texts == "initial":
        jobs = initial_jobs(rnd, n_unlock, n_lock, n_words, conf_scale, conds, fs, sp)
    else:
        unlock_texts = UNLOCK_TRAIN + (UNLOCK_TRAIN2 if train2 else []) if train else UNLOCK
        lock_texts = LOCK_TRAIN + (LOCK_TRAIN2 if train2 else []) if train else LOCK
        if held:
            unlock_texts, lock_texts = UNLOCK_HELD, LOCK_HELD
        for i in range(n_unlock):
            text = rnd.choice(unlock_texts)
            jobs.append(("positive/unlock-%04d.wav" % i, "positive", "unlock", text)
                        + voice_pick(rnd, fs, sp) + (conds[i % nc], rnd.random()))
        for i in range(n_lock):
            text = rnd.choice(lock_texts)
            jobs.append(("positive/lock-%04d.wav" % i, "positive", "lock", text)
                        + voice_pick(rnd, fs, sp) + (conds[i % nc], rnd.random()))
        files = LICENSE_FILES_TRAIN if train else LICENSE_FILES
        if held:
            files = LICENSE_FILES_HELD
        if train2:
            chunks = license_chunks(files, 10 ** 9)
            rnd.shuffle(chunks)
            total, picked = 0, []
            for c in chunks:
                if total >= n_words:
                    break
                picked.append(c)
                total += len(c.split())
        else:
            picked = license_chunks(files, n_words)
        for i, text in enumerate(picked):
            jobs.append(("ordinary/text-%04d.wav" % i, "ordinary", "-", text)
                        + voice_pick(rnd, fs, sp) + (conds[i % nc], rnd.random()))
        conf = list(CONFUSABLE_SENTENCES_TRAIN if train else CONFUSABLE_SENTENCES)
        templates = CONFUSABLE_TEMPLATES_TRAIN if train else CONFUSABLE_TEMPLATES
        if train2:
            conf += CONFUSABLE_SENTENCES_TRAIN2
            templates = templates + CONFUSABLE_TEMPLATES_TRAIN2
        if held:
            conf = list(CONFUSABLE_SENTENCES_HELD)
            templates = CONFUSABLE_TEMPLATES_HELD
        for w, _ in CONFUSABLE_WORDS:
            for t in rnd.sample(templates, 6 if train2 or held else 4):
                conf.append(t.format(w=w).capitalize() if t.startswith("{") else t.format(w=w))
        n_conf = int(len(conf) * conf_scale)
        for i in range(n_conf):
            text = conf[i % len(conf)]
            allowed = "lock" if re.search(r"\block\b", text, re.IGNORECASE) else "-"
            jobs.append(("confusable/conf-%04d.wav" % i, "confusable", allowed, text)
                        + voice_pick(rnd, fs, sp) + (conds[i % nc], rnd.random()))

    def build(job):
        rel, cls, phrase, text, voice, rate, pitch, cond, seed = job
        r = random.Random(seed)
        with tempfile.TemporaryDirectory() as tmp:
            if "|" in text:
                # LEFT|KEY|RIGHT (--texts random): spoken apart and joined
                # with pauses; the extent is the KEY piece's
                left, key, right = text.split("|")
                speech = array.array("h")
                k0 = k1 = 0
                for j, piece in enumerate((left, None, key, None, right)):
                    if piece is None:
                        speech.extend([0] * int(RATE * r.uniform(0.0, 0.3)))
                        continue
                    k0 = len(speech) if j == 2 else k0
                    if piece:
                        speech.extend(say(piece.replace("[", "").replace("]", ""),
                                          voice, rate, pitch, tmp))
                    k1 = len(speech) if j == 2 else k1
                m = re.fullmatch(r"(.*)\[(.*)\](.*)", key)
                if m:
                    # a neighbouring word in the piece: the keyphrase's extent
                    # is as long as the keyphrase spoken alone, from the
                    # piece's end (or start, with the word after it)
                    d = len(say(m.group(2), voice, rate, pitch, tmp))
                    if m.group(1):
                        k0 = max(k0, k1 - d)
                    else:
                        k1 = min(k1, k0 + d)
                    key = key.replace("[", "").replace("]", "")
                text = " ".join(p for p in (left, key, right) if p)
            else:
                speech = say(text, voice, rate, pitch, tmp)
                k0, k1 = 0, len(speech)
                if cls == "positive":
                    k0, k1 = keyphrase_extent(text, phrase, len(speech),
                                              lambda: len(say(phrase, voice, rate, pitch, tmp)))
            pre = int(RATE * r.uniform(0.3, 1.0))
            post = int(RATE * r.uniform(0.5, 1.0))
            mixed = mix(speech, pre, post, cond, tmp, r, tracks)
            write_wav(os.path.join(out, rel), mixed)
        return "\t".join([rel, cls, phrase, "%.3f" % (len(mixed) / RATE),
                          "%.3f" % ((pre + k0) / RATE), "%.3f" % ((pre + k1) / RATE),
                          cond, voice + "/s%d/p%s" % (rate, pitch), text])

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        lines = list(pool.map(build, jobs))

    if os.path.isdir(LIBRIVOX) and not args.no_librivox:
        for f in sorted(os.listdir(LIBRIVOX)):
            if f.endswith(".wav"):
                rel = "librivox/" + f
                shutil.copy(os.path.join(LIBRIVOX, f), os.path.join(out, rel))
                s, _ = read_wav(os.path.join(out, rel))
                lines.append("\t".join([rel, "ordinary", "-", "%.3f" % (len(s) / RATE),
                                        "0", "%.3f" % (len(s) / RATE), "recorded",
                                        "librivox", "LibriVox: Sense and Sensibility"]))

    with open(os.path.join(out, "manifest.tsv"), "w") as m:
        m.write("# path\tclass\tphrase\tduration_s\tword_start_s\tword_end_s\t"
                "condition\tvoice\ttext\n")
        for line in lines:
            m.write(line + "\n")
    total = {}
    for line in lines:
        f = line.split("\t")
        total[f[1]] = total.get(f[1], 0.0) + float(f[3])
    for k, v in sorted(total.items()):
        print("%-10s %6.1f min" % (k, v / 60))


if __name__ == "__main__":
    main()
