"""``python -m crmkit.cli``: the same as the ``crmkit`` command."""

from crmkit.cli.app import main

main()
