"""Drawing the back: the labelled atlas map, plans with numbered steps, highlights and heat."""

from backrub.render.svg import draw_atlas, draw_plan, render_back_map

__all__ = ["draw_atlas", "draw_plan", "render_back_map"]
