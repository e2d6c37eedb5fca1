"""Run the stages of a recipe in order, resumably.

:func:`build_context` builds the parts every stage uses once from the recipe (run directory, store,
labeller, potential backend, engines, executor; each may be injected instead); the stages in
:mod:`deepearth.pipeline.stages` are functions over that context; :func:`run_recipe` runs them.
"""

from deepearth.pipeline.context import RunContext, build_context
from deepearth.pipeline.run import run_recipe

__all__ = ["RunContext", "build_context", "run_recipe"]
