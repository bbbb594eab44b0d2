"""Typer command-line app of cvkit: argument parsing and rendering only, no model code."""
