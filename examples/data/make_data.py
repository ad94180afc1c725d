#!/usr/bin/env python3
"""Writes the tiny data files of the README's worked example (deterministic; no randomness):

  parity.jsonl  "Is 47 odd or even?" -> "odd"                 (0..199; a skill the shipped model lacks)
  sign.jsonl    "Is -12 positive or negative?" -> "negative"  (-99..99 without 0; another one)
  facts.jsonl   "Capital of France?" -> "Paris"                (what tiny-qwen2 was pretrained on: watch it)

Lines carry no "split": SkillTune puts one line in five (by a hash of its content) in the eval split.
Run:  python3 examples/data/make_data.py
"""

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))

FACTS = [
    ("Capital of France?", "Paris"), ("Capital of Italy?", "Rome"), ("Capital of Spain?", "Madrid"),
    ("Capital of Japan?", "Tokyo"), ("Capital of Egypt?", "Cairo"), ("Capital of Peru?", "Lima"),
    ("Capital of Kenya?", "Nairobi"), ("Capital of Norway?", "Oslo"), ("Capital of Greece?", "Athens"),
    ("Capital of Cuba?", "Havana"), ("Capital of Chile?", "Santiago"), ("Capital of Canada?", "Ottawa"),
    ("Capital of Poland?", "Warsaw"), ("Capital of Austria?", "Vienna"), ("Capital of Ireland?", "Dublin"),
    ("Capital of Portugal?", "Lisbon"), ("Color of the sky?", "blue"), ("Color of grass?", "green"),
    ("Color of snow?", "white"), ("Color of coal?", "black"), ("Color of a banana?", "yellow"),
    ("Color of blood?", "red"), ("Color of an orange?", "orange"), ("Color of a lemon?", "yellow"),
    ("Opposite of hot?", "cold"), ("Opposite of up?", "down"), ("Opposite of big?", "small"),
    ("Opposite of fast?", "slow"), ("Opposite of old?", "young"), ("Opposite of day?", "night"),
    ("Opposite of left?", "right"), ("Opposite of open?", "closed"), ("Opposite of wet?", "dry"),
    ("Opposite of early?", "late"), ("Sound of a dog?", "woof"), ("Sound of a cat?", "meow"),
    ("Sound of a cow?", "moo"), ("Sound of a duck?", "quack"), ("Sound of a sheep?", "baa"),
    ("Sound of a snake?", "hiss"), ("Legs of a spider?", "eight"), ("Legs of a dog?", "four"),
    ("Legs of a bird?", "two"), ("Legs of an ant?", "six"), ("Days in a week?", "seven"),
    ("Months in a year?", "twelve"), ("Hours in a day?", "twenty-four"), ("Sides of a triangle?", "three"),
]


def parity():
    return [{"prompt": f"Is {n} odd or even?", "answer": "odd" if n % 2 else "even"} for n in range(200)]


def sign():
    return [{"prompt": f"Is {n} positive or negative?", "answer": "negative" if n < 0 else "positive"}
            for n in range(-99, 100) if n != 0]


def facts():
    return [{"prompt": p, "answer": a} for p, a in FACTS]


def write(name, rows):
    with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    write("parity.jsonl", parity())
    write("sign.jsonl", sign())
    write("facts.jsonl", facts())
