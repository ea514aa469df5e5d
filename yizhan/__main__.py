"""``python -m yizhan ...``: the same as the ``yizhan`` console script."""
from .cli import main

if __name__ == "__main__":
    main(prog_name="yizhan")
