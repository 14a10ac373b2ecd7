#!/usr/bin/env python
"""Benchmark the budget explorer: time from pressing Generate to the first audible result and to the ladder.

Usage:
    .venv/bin/python tools/bench_explorer.py --exp-dir recipes/tts_digits/exp/mel_fast/ordered
        [--repeats 5] [--threads 1] [--budget L] [--prior transformer] [--write BENCHMARKS.md]
        [--screenshot docs/explorer.png]

What is measured
----------------
The page is launched on 127.0.0.1 (a free port) over ``--exp-dir`` and pressed
through ``gradio_client`` the way the browser presses it: the request joins the
queue, the server runs :func:`anytime_audio.app.actions.generate` and streams
each update back as a server-sent event. Timed from ``submit`` to

* **first audible**: the first update that carries a playable clip (the stream's
  first decode: ``k / 8`` codes with the causal prior, the chosen budget with
  the ARDM);
* **full ladder**: the last update (the ladder 1/8, 1/4, 1/2, 1 with its costs).

Files are not downloaded (``download_files=False``): the browser fetches a clip
from the same machine after the event, which adds little. The same two times
are also taken calling ``actions.generate`` directly, without the server, so
the table separates the model's time from the page's. The first press of a
fresh server is reported on its own (``cold``: first-call set-up of the vocoder
and allocator); the warm numbers are the median and minimum of ``--repeats``
further presses with different seeds. Budget: the whole sequence (``k = L``)
unless ``--budget`` is given.

``--screenshot PATH`` then presses Generate once more in headless system
Chromium (:mod:`anytime_audio.app.browser`) and saves the whole page as a small
PNG: the README's picture.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # bench_common, also when imported by tests

import torch  # noqa: E402
from bench_common import command_line, load_average, machine_info, markdown_table, update_markdown_section  # noqa: E402

from anytime_audio.app import actions  # noqa: E402
from anytime_audio.app.session import open_session  # noqa: E402

SECTION = "bench_explorer"


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--exp-dir", required=True, help="a trained experiment folder")
    p.add_argument("--repeats", type=int, default=5, help="warm presses after the cold one (default 5)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1; 0 keeps torch's)")
    p.add_argument("--budget", type=int, default=None, help="code budget k (default: all L codes)")
    p.add_argument("--prior", default="transformer", choices=("transformer", "ardm"))
    p.add_argument("--write", default=None, help="rewrite this tool's section of this markdown file")
    p.add_argument("--screenshot", default=None, help="save the page after a Generate press as this PNG")
    p.add_argument("--note", default="", help="a sentence about the experiment, added to the section")
    return p.parse_args(argv)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def press_direct(session, settings) -> tuple[float, float]:
    """(seconds to the first update with a clip, seconds to the last update), calling the action directly."""
    start, first, last = time.perf_counter(), None, None
    for update in actions.generate(session, settings):
        if update.error:
            raise SystemExit(f"generate failed: {update.status}")
        now = time.perf_counter() - start
        if first is None and update.live is not None:
            first = now
        last = now
    return first, last


def press_client(client, settings) -> tuple[float, float]:
    """The same through the served page: ``submit`` and the streamed outputs as they arrive."""
    start, first, last, final = time.perf_counter(), None, None, None
    job = client.submit(settings.prior, settings.label, settings.seed, settings.temperature, settings.top_k,
                        settings.budget, settings.steps or settings.budget, settings.schedule, settings.deadline,
                        api_name="/generate")
    for output in job:
        now = time.perf_counter() - start
        if first is None and output[1] is not None:  # output[1]: the live player
            first = now
        last, final = now, output
    if final is None or str(final[0]).startswith("**Error"):
        raise SystemExit(f"generate through the page failed: {final and final[0]}")
    return first, last


def screenshot(url: str, path: str) -> None:
    import tempfile

    from anytime_audio.app.browser import headless_chromium, press_generate, save_page_png

    with tempfile.TemporaryDirectory() as profile:
        driver = headless_chromium(profile, width=1400, height=1200)
        try:
            press_generate(driver, url)
            time.sleep(1.0)  # let the players draw their waveforms
            saved = save_page_png(driver, path)
        finally:
            driver.quit()
    print(f"saved {saved} ({saved.stat().st_size // 1024} KB)")


def summary(values: list[float]) -> str:
    return f"{1000 * statistics.median(values):.0f} ms (min {1000 * min(values):.0f})"


def run(args) -> dict:
    from gradio_client import Client

    from anytime_audio.app.explorer import build_app, launch

    if args.threads:
        torch.set_num_threads(args.threads)
    info = machine_info("cpu")
    started = time.perf_counter()
    session = open_session(args.exp_dir, device="cpu")
    prior = args.prior
    k = args.budget or session.length
    make = lambda seed: actions.GenerateSettings(prior=prior, seed=seed, budget=k, steps=k,  # noqa: E731
                                                 schedule="even" if prior == "ardm" else "dp")
    demo = build_app(session)
    _, url, _ = launch(demo, port=_free_port(), block=False, quiet=True)
    try:
        client = Client(url, verbose=False, download_files=False)
        cold = press_client(client, make(0))
        served = [press_client(client, make(seed)) for seed in range(1, args.repeats + 1)]
        if args.screenshot:
            screenshot(url, args.screenshot)
    finally:
        demo.close()
    direct = [press_direct(session, make(seed)) for seed in range(1, args.repeats + 1)]
    return {"info": info, "session": session, "k": k, "cold": cold, "served": served, "direct": direct,
            "runtime": time.perf_counter() - started}


def render(r: dict, command: str, args) -> str:
    s = r["session"]
    machine = dict(r["info"])
    machine["load average (1, 5, 15 min) at end"] = load_average()
    machine["benchmark runtime"] = f"{r['runtime']:.0f} s"
    vocoder = s.exp.cfg.model.get("vocoder", "griffin_lim") if s.family == "mel" else "none"
    machine["experiment"] = (f"`{Path(args.exp_dir).name}`: {s.family} model, L = {s.length}, K = {s.num_codes}, "
                             f"{s.clip_seconds:g} s clips, vocoder {vocoder}; {args.prior} prior; budget k = {r['k']}"
                             + (f". {args.note}" if args.note else ""))
    rows = [
        ("page (gradio_client), cold: first press", f"{1000 * r['cold'][0]:.0f} ms", f"{1000 * r['cold'][1]:.0f} ms"),
        (f"page (gradio_client), warm: median of {len(r['served'])}", summary([a for a, _ in r["served"]]),
         summary([b for _, b in r["served"]])),
        (f"actions.generate directly: median of {len(r['direct'])}", summary([a for a, _ in r["direct"]]),
         summary([b for _, b in r["direct"]])),
    ]
    lines = ["## Budget explorer: time to first audible result (`tools/bench_explorer.py`)", "",
             f"Command: `{command}`", "",
             markdown_table(["", ""], list(machine.items())), "",
             "From pressing Generate (a `submit` to the served page on localhost) to the first streamed update "
             "that carries a playable clip, and to the last update, which holds the ladder at 1/8, 1/4, 1/2 and 1 "
             "with each rung's cost. The stream decodes every k/8 codes (decoder + vocoder); the ladder is then "
             "sampled again with the same seed in one pass and decoded at each rung. Other processes may share "
             "the machine (see the load average).", "",
             markdown_table(["", "first audible", "full ladder"], rows)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    r = run(args)
    for name, (first, last) in [("cold", r["cold"]), *((f"warm {i}", v) for i, v in enumerate(r["served"], 1)),
                                *((f"direct {i}", v) for i, v in enumerate(r["direct"], 1))]:
        print(f"{name:>9}: first audible {1000 * first:7.0f} ms   full ladder {1000 * last:7.0f} ms", flush=True)
    if args.write:
        update_markdown_section(args.write, SECTION, render(r, command_line(__file__, argv), args))
        print(f"wrote the {SECTION} section of {args.write}")
    return r


if __name__ == "__main__":
    main()
