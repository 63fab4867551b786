"""Allow ``python -m chatimg``."""

from chatimg.cli import main

main()
