"""Build the reference index: scripts/build_index.py SOURCE [SOURCE ...] --out DIR."""

from service.cli import build_index_main

if __name__ == "__main__":
    raise SystemExit(build_index_main())
