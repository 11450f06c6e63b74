"""mcref: a verified matrix-calculus reference, generated from rules stored as data.

Pipeline, one module per stage: load -> validate -> parse -> verify -> catalogue -> render -> write.
"""

__version__ = "0.1.0"
# Bumped whenever a change to the engine could change a verdict: it is part of the cache key.
ENGINE_VERSION = "0.6.1"
