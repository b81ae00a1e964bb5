"""``python -m argosy``: the ``argosy`` command line, including the task entrypoint."""

from argosy.cli import main

if __name__ == "__main__":
    main()
