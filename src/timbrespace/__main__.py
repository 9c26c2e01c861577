"""``python -m timbrespace``: the ``timbrespace`` command without its console script."""

from timbrespace.cli import main

if __name__ == "__main__":
    main()
