"""``minha-central intents``: what the bot understands of each line on standard input."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "intents",
        help="classify phrases read one per line on standard input (prints <intent>\\t<phrase>)",
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="after each line, the confidence and the rules that fired (on standard error)",
    )


def run(args: argparse.Namespace, source: TextIO | None = None, out: TextIO | None = None) -> int:
    from bot.intents.classifier import classify

    source = source or sys.stdin
    out = out or sys.stdout
    for line in source:
        phrase = line.rstrip("\r\n")
        if not phrase.strip():
            continue
        result = classify(phrase)
        print(f"{result.intent}\t{phrase}", file=out, flush=True)
        if args.explain:
            print(result.explain(), file=sys.stderr)
    return 0
