"""Plotting helpers for the lessons (they import matplotlib, so import them only to draw)."""
