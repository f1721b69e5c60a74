"""Build hook: the wheel carries templates, static files and migrations inside ``portal``."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

# The checkout keeps them at the top level (as the design's layout says); an installed portal
# finds them next to its code (portal.ASSETS looks there first).
ASSETS = ("templates", "static", "migrations")
ROOT = Path(__file__).resolve().parent


class BuildWithAssets(build_py):
    """Copy the asset folders into the built ``portal`` package."""

    def run(self):
        super().run()
        for name in ASSETS:
            target = Path(self.build_lib) / "portal" / name
            shutil.copytree(
                ROOT / name,
                target,
                dirs_exist_ok=True,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            )


setup(cmdclass={"build_py": BuildWithAssets})
