"""Allow ``python -m riskmap``."""

from riskmap.cli import app

if __name__ == "__main__":
    app()
