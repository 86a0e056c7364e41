"""The engine-agnostic backend test suite (a package so its helpers import relatively)."""
