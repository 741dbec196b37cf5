"""The compiled inner loops (``cleankit._speedups``, issue 12); everything else is in pyproject.toml.

The extension is optional: without a C compiler the build goes on without it and cleankit
runs its pure-Python loops (``cleankit/speedups.py``), which give the same results."""

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """Builds the extension when it can; a failed compile is reported and skipped, not fatal."""

    # run() fails before any extension when no compiler is found, build_extension() when the
    # compile itself fails: both leave the pure-Python loops.
    def run(self) -> None:
        try:
            super().run()
        except Exception as error:
            self.warn(f"cleankit._speedups not built ({error}); the pure-Python loops will run")

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as error:
            self.warn(f"cleankit._speedups not built ({error}); the pure-Python loops will run")


setup(
    ext_modules=[Extension("cleankit._speedups", ["cleankit/_speedups.c"])],
    cmdclass={"build_ext": OptionalBuildExt},
)
