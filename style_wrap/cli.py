"""The ``style-wrap`` command line: each subcommand is a thin call into the package's modules.

Example:
    >>> from style_wrap.cli import build_parser
    >>> build_parser().parse_args(["domains", "--size", "32"]).size
    32
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from style_wrap.errors import StyleWrapError

__all__ = ["build_parser", "main"]


def _cmd_domains(args: argparse.Namespace) -> None:
    from style_wrap.domains.gallery import DEFAULT_ROWS, domain_grid
    from style_wrap.io import write_image

    write_image(args.out, domain_grid(DEFAULT_ROWS, poses=args.poses, size=args.size))
    names = ", ".join(d if s is None else f"{d} (seed {s})" for d, s in DEFAULT_ROWS)
    print(f"wrote {args.out}: rows {names}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="style-wrap",
        description="Translate pixel observations between visual domains (CycleGAN wrappers).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("domains", help="draw the cheetah domains side by side into a PNG")
    p.add_argument("--out", default="domains.png", help="image file to write (default %(default)s)")
    p.add_argument("--size", type=int, default=128, help="pixels per frame (default %(default)s)")
    p.add_argument("--poses", type=int, default=4, help="poses per row (default %(default)s)")
    p.set_defaults(func=_cmd_domains)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``style-wrap``; package errors print one line and exit with status 2."""
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except StyleWrapError as err:
        print(f"style-wrap {args.command}: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
