"""Installs the skrr package with libskrr.so inside it: the library SwiftPM built in the
repository (`swift build -c release --product skrr`), built here first when it is missing."""
import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent.parent


class BuildWithLibrary(build_py):
    def run(self):
        super().run()
        library = ROOT / ".build" / "release" / "libskrr.so"
        if not library.is_file():
            subprocess.run(["swift", "build", "-c", "release", "--product", "skrr"], cwd=ROOT, check=True)
        shutil.copy2(library, Path(self.build_lib) / "skrr" / "libskrr.so")


setup(cmdclass={"build_py": BuildWithLibrary})
