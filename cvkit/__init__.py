"""cvkit: research-grade computer-vision models behind one command line.

The library is importable without typer/rich; every CLI feature is a function here first.
"""

__version__ = "0.1.0"
