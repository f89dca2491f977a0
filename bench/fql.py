"""FQL micro-benchmark: parses and compiles a realistic destination filter condition, then
evaluates it on a mix of Segment messages and prints evaluations per second (no Django, no
database)::

    python bench/fql.py [--seconds 2] [--expression "type = 'track' and ..."]

Also times ``delivery.filters.apply`` with that condition and a drop-properties action.
"""

import argparse
import sys
import time
from pathlib import Path

# Import the repository's packages, not bench/delivery.py (this folder comes first on the path).
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from connections.fql import parse  # noqa: E402
from delivery.filters import FilterSpec, apply  # noqa: E402
from delivery.fql import compile  # noqa: E402

EXPRESSION = (
    "type = 'track' and event in ['Order Completed', 'Checkout Started', 'Product Viewed']"
    " and properties.total >= 20 and !match(context.traits.email, '*@example.com')"
    " and (lowercase(properties.currency) = 'eur' or length(properties.products) > 1)"
)


def messages() -> list[dict]:
    base = {
        "type": "track",
        "event": "Order Completed",
        "messageId": "ajs-next-1",
        "userId": "user-42",
        "anonymousId": "anon-7",
        "timestamp": "2024-05-01T10:00:00.000Z",
        "context": {
            "ip": "203.0.113.9",
            "library": {"name": "analytics.js", "version": "1.0"},
            "page": {"path": "/checkout", "url": "https://shop.example.org/checkout"},
            "traits": {"email": "ada@example.org"},
        },
        "properties": {
            "order_id": "50314b8e",
            "total": 27.5,
            "currency": "EUR",
            "products": [
                {"product_id": "p1", "price": 19.0, "category": "Games"},
                {"product_id": "p2", "price": 8.5, "category": "Books"},
            ],
        },
    }
    page = {"type": "page", "name": "Home", "messageId": "p-1", "properties": {"path": "/"}}
    internal = {**base, "context": {**base["context"], "traits": {"email": "qa@example.com"}}}
    cheap = {**base, "properties": {**base["properties"], "total": 5}}
    return [base, page, internal, cheap]


def rate(function, batch: list, seconds: float) -> float:
    count, start = 0, time.perf_counter()
    deadline = start + seconds
    while (now := time.perf_counter()) < deadline:
        for message in batch:
            function(message)
        count += len(batch)
    return count / (now - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--expression", default=EXPRESSION)
    args = parser.parse_args()

    batch = messages() * 25
    parses = rate(lambda _: parse(args.expression), [None] * 10, args.seconds / 4)
    condition = compile(parse(args.expression))
    print(f"expression: {args.expression}")
    print(f"matches per message: {[condition(m) for m in messages()]}")
    print(f"parse: {parses:,.0f} parses/s")
    print(f"evaluate: {rate(condition, batch, args.seconds):,.0f} evaluations/s")
    spec = FilterSpec(
        "bench",
        condition,
        [{"type": "DROP_PROPERTIES", "fields": {"context": ["ip"], "properties": ["order_id"]}}],
    )
    applied = rate(lambda m: apply([spec], m), batch, args.seconds)
    print(f"apply (condition + drop properties): {applied:,.0f} messages/s")


if __name__ == "__main__":
    main()
