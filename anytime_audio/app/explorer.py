"""The budget explorer page (Gradio Blocks): Generate, Reconstruct, Results.

:func:`build_app` lays out the page over an opened
:class:`~anytime_audio.app.session.ExplorerSession` and wires each button to
a function of :mod:`anytime_audio.app.actions`; this module only converts
between those functions' dataclasses and component values. :func:`serve`
opens the experiment, builds the page and listens (on 127.0.0.1 unless told
otherwise).

Robustness: the queue runs one model call at a time (``default_concurrency_limit=1``;
the models are loaded once and a CPU has no spare cores for two), so
concurrent presses wait their turn in order; the little fraction label under
the budget slider bypasses the queue. Bad uploads and bad settings come back
as a message in the status line and leave the page usable.

API names (for ``gradio_client``): ``/generate``, ``/reconstruct`` (audio
experiments: an upload, a test-clip name or None, k), ``/reconstruct_item``
(image experiments), ``/test_clip``, ``/results``.
"""

from __future__ import annotations

import logging
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio reads it: no calls home

import gradio as gr  # noqa: E402

from anytime_audio.app import actions
from anytime_audio.app.actions import LADDER, GenerateSettings, GenerateUpdate, ReconstructView, Shown
from anytime_audio.app.session import UNCONDITIONAL, ExplorerSession, open_session

log = logging.getLogger(__name__)

QUEUE_SIZE = 32  # waiting presses beyond this are turned away with a "queue is full" message
MAX_FILE_SIZE = "600mb"  # a 30-minute stereo 44.1 kHz 16-bit WAV is ~320 MB
CSS = ".status {font-size: 0.95em}"
PICTURE_HEIGHT = 180  # px: a log-mel picture (80 mels x 2) or an image grid


def _heading(session: ExplorerSession) -> str:
    e = session.exp
    what = (f"{session.family} model, {session.sample_rate / 1000:g} kHz, {session.clip_seconds:g} s clips"
            if session.is_audio else f"image model, {e.cfg.data.image_size} px")
    priors = ", ".join(session.priors) or "none trained"
    return (f"# Budget explorer: `{e.dir}`\n{what} · L = {session.length} codes · K = {session.num_codes} · "
            f"priors: {priors}. Move the budget and hear (or see) what each number of codes buys.")


def _banner(session: ExplorerSession) -> str:
    return "\n".join(f"**Warning:** {note}" for note in session.notes)


def _shown(s: Shown | None, audio: bool):
    """Component values of one result: (audio, picture, caption) or (picture, caption)."""
    if s is None:
        return (None, None, "") if audio else (None, "")
    caption = f"**{s.title}**  \n{s.caption}"
    return (s.audio, s.picture, caption) if audio else (s.picture, caption)


def _generate_outputs(u: GenerateUpdate, audio: bool) -> list:
    status = f"**Error:** {u.status}" if u.error else u.status
    values = [status, *_shown(u.live, audio)]
    ladder = list(u.ladder) + [None] * (len(LADDER) - len(u.ladder))
    for rung in ladder:
        values += list(_shown(rung, audio))
    return values


def _reconstruct_outputs(v: ReconstructView, audio: bool) -> list:
    message = f"**Error:** {v.message}" if v.error else v.message
    values = [message, *_shown(v.original, audio), *_shown(v.at_k, audio)]
    if audio:
        values += list(_shown(v.ceiling, audio))
    else:
        values += list(_shown(v.ladder, audio))
    return values


def _result_block(label: str, audio: bool, wide: bool = False):
    """Components of one result: player (audio), picture, caption; ``wide``: player beside the picture."""
    with gr.Column(min_width=150):
        caption = gr.Markdown(f"**{label}**")
        with gr.Row() if wide else gr.Column():
            player = gr.Audio(label=label, type="numpy", interactive=False) if audio else None
            picture = gr.Image(label="log-mel" if audio else label, type="numpy", format="png", interactive=False,
                               show_label=False, buttons=[], height=PICTURE_HEIGHT)
    return ([player, picture, caption] if audio else [picture, caption])


def build_app(session: ExplorerSession) -> gr.Blocks:
    """The page over ``session``; call ``.queue()`` (done by :func:`launch`) before launching."""
    audio, length = session.is_audio, session.length
    with gr.Blocks(title=f"Budget explorer: {session.name}", analytics_enabled=False) as demo:
        gr.Markdown(_heading(session))
        if session.notes:
            gr.Markdown(_banner(session), elem_id="startup-notes")
        with gr.Tab("Generate"):
            _generate_tab(session, audio, length)
        with gr.Tab("Reconstruct"):
            _reconstruct_tab(session, audio, length)
        with gr.Tab("Results"):
            picture, figures = actions.results_view(session)
            curve = gr.Image(value=picture, label="budget_curve.png", type="numpy", format="png",
                             interactive=False)
            table = gr.Markdown(figures)
            reload = gr.Button("Reload results")
            reload.click(lambda: actions.results_view(session), None, [curve, table], api_name="results")
    return demo


def _generate_tab(session: ExplorerSession, audio: bool, length: int) -> None:
    priors = session.priors or ["transformer"]
    with gr.Row():
        prior = gr.Radio(priors, value=priors[0], label="Prior", info="transformer: one network call per code; "
                         "ardm: several codes per call")
        label = gr.Dropdown(session.label_choices() if session.priors else [UNCONDITIONAL], value=UNCONDITIONAL,
                            label="Class label")
        seed = gr.Number(0, precision=0, label="Seed", minimum=0)
        temperature = gr.Slider(0.05, 2.0, 1.0, step=0.05, label="Temperature")
        top_k = gr.Number(0, precision=0, minimum=0, label="Top-k (0 = off; transformer only)")
    with gr.Row():
        budget = gr.Slider(1, length, length, step=1, label=f"Code budget k (1..{length})", scale=3)
        fraction = gr.Markdown(actions.fraction_text(length, length), elem_id="budget-fraction")
    with gr.Row():
        steps = gr.Slider(1, length, length, step=1, label="ARDM network calls for k", scale=2)
        schedule = gr.Radio(["dp", "even"], value="dp", label="ARDM schedule",
                            info="dp: merge the steps that cost least")
        deadline = gr.Textbox("", label="Deadline (transformer)", placeholder="e.g. 150ms or 0.2s; empty: none",
                              info="with a deadline, codes stop when time runs out (the budget slider is ignored)")
    button = gr.Button("Generate", variant="primary", elem_id="generate-button", interactive=bool(session.priors))
    status = gr.Markdown("Press Generate." if session.priors else f"**Error:** {session.notes[-1]}",
                         elem_id="generate-status", elem_classes=["status"])
    live = _result_block("Result (streams as codes arrive)", audio, wide=True)
    gr.Markdown("### The ladder: the same sample at 1/8, 1/4, 1/2 and all of the codes")
    rungs = []
    with gr.Row(elem_id="ladder"):
        for _, name in LADDER:
            rungs += _result_block(f"{name} of the codes", audio)

    def on_budget(k):
        return actions.fraction_text(int(k), length)

    budget.change(on_budget, budget, fraction, queue=False, show_progress="hidden", api_visibility="private")
    budget.change(lambda k, s: gr.update(maximum=int(k), value=min(int(s), int(k))), [budget, steps], steps,
                  queue=False, show_progress="hidden", api_visibility="private")

    def run(prior_name, label_choice, seed_value, temp, topk, k, calls, sched, deadline_text):
        settings = GenerateSettings(prior_name, label_choice, int(seed_value or 0), float(temp), int(topk or 0),
                                    int(k), int(calls), sched, deadline_text or "")
        for update in actions.generate(session, settings):
            yield _generate_outputs(update, audio)

    button.click(run, [prior, label, seed, temperature, top_k, budget, steps, schedule, deadline],
                 [status, *live, *rungs], api_name="generate", show_progress="minimal")


def _reconstruct_tab(session: ExplorerSession, audio: bool, length: int) -> None:
    items = session.test_items()
    with gr.Row():
        if audio:
            source = gr.Audio(sources=["upload", "microphone"], type="filepath", label="Upload or record a clip",
                              elem_id="reconstruct-input")
        picker = gr.Dropdown(items, value=None, label="…or pick a test clip" if audio else "Pick a test image",
                             interactive=bool(items))
    k = gr.Slider(1, length, max(1, length // 4), step=1, label=f"Codes k (1..{length})")
    button = gr.Button("Reconstruct", variant="primary", elem_id="reconstruct-button")
    message = gr.Markdown("Upload, record or pick a clip, then press Reconstruct." if audio
                          else "Pick a test image.", elem_id="reconstruct-status", elem_classes=["status"])
    with gr.Row():
        outputs = _result_block("Original", audio) + _result_block("At k codes", audio)
        outputs += _result_block("Vocoder ceiling" if audio else "At 1/8, 1/4, 1/2, 1", audio)

    if audio:
        def run(path, choice, k_value):
            """The picked test clip, else the upload or recording (an upload clears the pick)."""
            if choice:
                return _reconstruct_outputs(actions.reconstruct_item(session, choice, int(k_value)), audio)
            name = os.path.basename(str(path)) if path else None
            return _reconstruct_outputs(actions.reconstruct(session, path, int(k_value), name), audio)

        inputs = [source, picker, k]
        button.click(run, inputs, [message, *outputs], api_name="reconstruct")
        k.release(run, inputs, [message, *outputs], api_visibility="private")
        for own_audio in (source.upload, source.stop_recording):
            own_audio(lambda: None, None, picker, queue=False, api_visibility="private")
        picker.input(lambda c: actions.test_clip_audio(session, c), picker, source, api_name="test_clip").then(
            run, inputs, [message, *outputs], api_visibility="private")
    else:
        def run_item(choice, k_value):
            return _reconstruct_outputs(actions.reconstruct_item(session, choice, int(k_value)), audio)

        button.click(run_item, [picker, k], [message, *outputs], api_name="reconstruct_item")
        k.release(run_item, [picker, k], [message, *outputs], api_visibility="private")
        picker.change(run_item, [picker, k], [message, *outputs], api_visibility="private")


def launch(demo: gr.Blocks, port: int | None = 7860, share: bool = False, host: str = "127.0.0.1",
           block: bool = True, quiet: bool = False):
    """Queue and launch ``demo``; returns gradio's ``(app, local_url, share_url)``."""
    demo.queue(default_concurrency_limit=1, max_size=QUEUE_SIZE)
    return demo.launch(server_name=host, server_port=port, share=share, prevent_thread_lock=not block,
                       max_file_size=MAX_FILE_SIZE, show_error=True, quiet=quiet, ssr_mode=False, css=CSS,
                       footer_links=["api"])


def serve(exp_dir, port: int = 7860, share: bool = False, device: str = "cpu", host: str = "127.0.0.1") -> None:
    """Open ``exp_dir``, build the page and serve it until interrupted."""
    session = open_session(exp_dir, device=device)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # gradio's own start-up requests, one line each
    demo = build_app(session)
    log.info("budget explorer on http://%s:%d (Ctrl-C stops it)", host, port)
    launch(demo, port=port, share=share, host=host, block=True)
