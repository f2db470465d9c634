"""Typer commands: thin front ends that build core objects and hand off."""
