"""Summarises py-spy's collapsed stacks (``--format raw``): the share of samples in which each
function is on the stack (inclusive) and at its top (self), busiest first.

    python bench/stacks.py worker.txt [--match deliveries] [--top 40]
"""

import argparse
from collections import Counter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path")
    parser.add_argument("--match", default="", help="only stacks through a frame containing this")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    inclusive, own, total = Counter(), Counter(), 0
    with open(args.path) as lines:
        for line in lines:
            stack, _, count = line.rstrip().rpartition(" ")
            frames = stack.split(";")
            if args.match and not any(args.match in frame for frame in frames):
                continue
            n = int(count)
            total += n
            for frame in set(frames):
                inclusive[frame] += n
            own[frames[-1]] += n
    print(f"{total:,} samples")
    for frame, n in inclusive.most_common(args.top):
        print(f"{n / total:6.1%} incl {own[frame] / total:6.1%} self  {frame}")


if __name__ == "__main__":
    main()
