"""anytime_audio: ordered VQ-VAE codes and priors whose sampling cost is chosen per call.

``core`` is modality-agnostic (quantizer, ordered autoencoder, priors, sampler,
trainer); ``audio`` and ``image`` plug encoders, decoders and datasets into it;
``eval`` scores quality against budget; ``cli`` is the ``anytime-audio`` script.
"""

__version__ = "0.1.0"
