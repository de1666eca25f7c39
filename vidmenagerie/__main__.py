"""``python -m vidmenagerie`` runs the ``vidm`` command line."""

from .cli import main

main()
