"""The budget explorer: a local web page to hear and see what each code budget buys.

``anytime-audio explore exp_dir=... [port=7860] [share=false]`` serves it
(:func:`anytime_audio.app.explorer.serve`). The page lives in five modules:

* :mod:`~anytime_audio.app.session`: the opened experiment, checked at start-up;
* :mod:`~anytime_audio.app.actions`: what the buttons do, as plain functions
  (tests and ``tools/bench_explorer.py`` call them directly);
* :mod:`~anytime_audio.app.media`: players, spectrograms, grids, uploads;
* :mod:`~anytime_audio.app.browser`: the page in headless system Chromium (tests, screenshot);
* :mod:`~anytime_audio.app.explorer`: the Gradio Blocks (the only module that
  imports gradio, an optional extra: ``pip install -e '.[demo]'``).
"""

from anytime_audio.app.session import ExplorerError, ExplorerSession, open_session

__all__ = ["ExplorerError", "ExplorerSession", "open_session"]
