"""``python -m vidmenagerie`` runs the ``vidm`` command line."""

from .entry import main

main()
