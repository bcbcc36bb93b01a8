"""What the report tests share: reading a run folder's layers.csv and summary.json as they are
(standard library only; not a test itself, ctest runs tests/scripts/test_*.py)."""
import csv
import json
import os


def read_layers_csv(folder):
    with open(os.path.join(folder, "layers.csv"), newline="") as f:
        return list(csv.DictReader(f))


def read_summary(folder):
    with open(os.path.join(folder, "summary.json")) as f:
        return json.load(f)


def feed_file(parser, path):
    """Feeds an HTML file (UTF-8) to `parser` and returns the parser."""
    with open(path, encoding="utf-8") as f:
        parser.feed(f.read())
    return parser
