"""Build hook: generate the cardak.v1 gRPC stubs before packages are collected.

Everything else about the project lives in pyproject.toml.
"""

import runpy
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithStubs(build_py):
    def run(self) -> None:
        # Into the source tree, so editable installs see the stubs too.
        protogen = runpy.run_path(str(Path(__file__).parent / "cardak" / "protogen.py"))
        protogen["generate"]()
        super().run()


setup(cmdclass={"build_py": BuildWithStubs})
