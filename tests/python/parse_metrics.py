"""Parses a /metrics page with prometheus_client's parsers.

Usage: parse_metrics.py text|openmetrics FILE

The Prometheus text page goes through the text parser, the OpenMetrics page
through the OpenMetrics parser (which refuses clashing names and a missing
`# EOF`). Every family must be declared once: the text parser names a
counter's family without `_total`, so a gauge `X` beside a counter `X_total`
would come out as two families named `X`. Prints `ok N` with the number of
families.
"""

import sys
from collections import Counter

from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as parse_openmetrics,
)
from prometheus_client.parser import text_string_to_metric_families as parse_text


def main() -> None:
    kind, path = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        page = f.read()
    parse = parse_openmetrics if kind == "openmetrics" else parse_text
    families = list(parse(page))
    names = Counter(f.name for f in families)
    twice = sorted(n for n, c in names.items() if c > 1)
    if twice:
        sys.exit(f"families declared more than once: {twice}")
    samples = sum(len(f.samples) for f in families)
    if samples == 0:
        sys.exit("no samples")
    print(f"ok {len(families)}")


if __name__ == "__main__":
    main()
