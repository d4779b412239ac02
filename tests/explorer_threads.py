"""A check shared by the explorers' tests: a control moved on another thread during an update.

JupyterLab 4 with ipykernel 7 delivers widget changes on more than one kernel thread, so a
control can move while an explorer draws; `Explorer` must apply it only after that update.
"""

from __future__ import annotations

import threading


def texts_with_a_control_moved_while_drawing(explorer, monkeypatch, name, value):
    """The text of each refresh when control `name` is moved to `value` on another thread
    while an update draws (JupyterLab delivers changes on more than one kernel thread)."""
    texts, movers = [], []
    draw, refresh = explorer.draw, explorer.refresh

    def draw_and_move():
        if not movers:
            control = explorer.controls[name]
            movers.append(threading.Thread(target=setattr, args=(control, "value", value)))
            movers[0].start()
            movers[0].join(timeout=0.5)  # it moves the control, or waits for this update
        draw()

    monkeypatch.setattr(explorer, "draw", draw_and_move)
    monkeypatch.setattr(explorer, "refresh", lambda: (texts.append(explorer.text()), refresh()))
    explorer.update()
    movers[0].join()
    return texts
