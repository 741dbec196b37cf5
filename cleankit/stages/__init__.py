"""The built-in stages, one module (or small package) each. Importing this package
registers them (:func:`cleankit.core.stage.register_stage`); the order below is only the
import order — each stage's position in the pipeline is its own ``order``."""

from cleankit.stages import (  # noqa: F401
    boilerplate,
    hygiene,
    markup,
    mojibake,
    paragraphs,
    punctuation,
    reflow,
    repeats,
    script,
)
