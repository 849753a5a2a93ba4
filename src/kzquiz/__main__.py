"""Allow `python -m kzquiz`."""

from kzquiz.cli import main

main()
