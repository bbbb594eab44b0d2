"""Synth-STA (spec section 5): procedurally generated 64x64 videos at 4 fps with 2-3 coloured shapes doing
scripted events (move, grow, shrink, appear, disappear, change colour) and template sentences. With several
colours per video, colour alone rarely tells sentences apart, so the verb (the moment) must be found. Training uses
only the (video, sentence) pairing; the event times are kept for evaluation."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .cheap import cheap_features

RATE = 4.0
SIZE = 64
COLOURS = {"red": (40, 40, 220), "green": (50, 190, 50), "blue": (220, 90, 30), "yellow": (30, 220, 230)}
SHAPES = ("circle", "square", "triangle")
MOVES = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}
TEMPLATES = {
    "move": ["the {c} {s} moves {d}", "a {c} {s} slides {d}", "the {c} {s} travels {d}"],
    "grow": ["the {c} {s} grows", "the {c} {s} gets bigger", "a {c} {s} expands"],
    "shrink": ["the {c} {s} shrinks", "the {c} {s} gets smaller", "a {c} {s} becomes tiny"],
    "appear": ["a {c} {s} appears", "a {c} {s} fades in", "a {c} {s} shows up"],
    "vanish": ["the {c} {s} disappears", "the {c} {s} fades away", "a {c} {s} vanishes"],
    "recolour": ["the {c} {s} turns {c2}", "the {c} {s} changes colour to {c2}", "a {c} {s} becomes {c2}"],
}


@dataclass
class Event:
    """One scripted change of one shape, with its sentence and [start, end) in seconds."""

    kind: str
    start: float
    end: float
    sentence: str
    arg: str = ""


@dataclass
class SynthVideo:
    """Features at RATE per second, duration in seconds, and the events (each a possible query)."""

    features: np.ndarray
    duration: float
    events: list[Event]


def _sentence(rng: np.random.Generator, kind: str, colour: str, shape: str, arg: str) -> str:
    t = TEMPLATES[kind][rng.integers(len(TEMPLATES[kind]))]
    return t.format(c=colour, s=shape, d=arg, c2=arg)


def _script(rng: np.random.Generator, duration: float, colour: str, used: set[str]) -> tuple[dict, list[Event]]:
    """A shape's initial state and 1-2 non-overlapping events."""
    shape = SHAPES[rng.integers(len(SHAPES))]
    st = {"x": rng.uniform(18, 46), "y": rng.uniform(18, 46), "r": rng.uniform(6, 9), "colour": colour,
          "shape": shape, "alpha": 1.0}
    n_ev = int(rng.integers(1, 3))
    events: list[Event] = []
    t = 0.0
    for i in range(n_ev):
        d = rng.uniform(5.0, 11.0)
        room = duration - t - d - (n_ev - 1 - i) * 6.0
        if room < 0:
            break
        s = t + rng.uniform(0, room)
        kinds = ["move", "grow", "shrink", "recolour"] + (["appear"] if i == 0 else []) + \
            (["vanish"] if i == n_ev - 1 else [])
        kind = kinds[rng.integers(len(kinds))]
        arg = ""
        if kind == "move":
            arg = list(MOVES)[rng.integers(4)]
        elif kind == "recolour":
            arg = [c for c in COLOURS if c not in used and c != colour][0] if len(used) < 4 else \
                [c for c in COLOURS if c != colour][rng.integers(3)]
        if kind == "appear":
            st["alpha"] = 0.0
        events.append(Event(kind, s, s + d, _sentence(rng, kind, colour, shape, arg), arg))
        t = s + d + 1.0
    return st, events


def _state_at(st: dict, events: list[Event], t: float) -> dict:
    cur = dict(st)
    for ev in events:
        u = float(np.clip((t - ev.start) / (ev.end - ev.start), 0, 1))
        if u <= 0:
            break
        if ev.kind == "move":
            dx, dy = MOVES[ev.arg]
            cur["x"] += dx * 24 * u
            cur["y"] += dy * 24 * u
        elif ev.kind == "grow":
            cur["r"] *= 1 + 0.9 * u
        elif ev.kind == "shrink":
            cur["r"] *= 1 - 0.55 * u
        elif ev.kind == "appear":
            cur["alpha"] = u
        elif ev.kind == "vanish":
            cur["alpha"] = 1 - u
        elif ev.kind == "recolour":
            a, b = np.array(COLOURS[cur["colour"]], float), np.array(COLOURS[ev.arg], float)
            cur["bgr"] = tuple((1 - u) * a + u * b)
            if u >= 1:
                cur["colour"] = ev.arg
    return cur


def _draw(img: np.ndarray, s: dict) -> None:
    if s["alpha"] <= 0.02:
        return
    colour = s.get("bgr", COLOURS[s["colour"]])
    layer = img.copy()
    x, y, r = int(round(s["x"])), int(round(s["y"])), max(int(round(s["r"])), 2)
    if s["shape"] == "circle":
        cv2.circle(layer, (x, y), r, colour, -1, cv2.LINE_AA)
    elif s["shape"] == "square":
        cv2.rectangle(layer, (x - r, y - r), (x + r, y + r), colour, -1)
    else:
        pts = np.array([[x, y - r], [x - r, y + r], [x + r, y + r]], np.int32)
        cv2.fillPoly(layer, [pts], colour, cv2.LINE_AA)
    cv2.addWeighted(layer, s["alpha"], img, 1 - s["alpha"], 0, dst=img)


def render(rng: np.random.Generator, duration: float) -> tuple[np.ndarray, list[Event]]:
    """Frames (T, 64, 64, 3) BGR at RATE per second and all events of the video."""
    colours = list(COLOURS)
    rng.shuffle(colours)
    n_shapes = int(rng.integers(2, 4))
    used = set(colours[:n_shapes])
    scripts = [_script(rng, duration, c, used) for c in colours[:n_shapes]]
    bg = np.clip(rng.normal(110, 6, (SIZE, SIZE, 3)), 0, 255).astype(np.uint8)
    n = int(duration * RATE)
    frames = np.empty((n, SIZE, SIZE, 3), np.uint8)
    for i in range(n):
        img = bg.copy()
        for st, evs in scripts:
            _draw(img, _state_at(st, evs, i / RATE))
        frames[i] = img
    return frames, [e for _, evs in scripts for e in evs]


def make_split(n: int, seed: int, min_len: float = 20.0, max_len: float = 40.0) -> list[SynthVideo]:
    """n videos with cheap features; the same seed gives the same split (train and test use distinct seeds)."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        dur = float(rng.uniform(min_len, max_len))
        frames, events = render(rng, dur)
        if not events:
            continue
        out.append(SynthVideo(cheap_features(frames, RATE), len(frames) / RATE, events))
    return out
