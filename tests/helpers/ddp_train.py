"""Launched by tests under torchrun: a few DDP steps of a tiny ordered autoencoder."""

import sys

import torch
import torch.distributed as dist

from anytime_audio.core.ordered import OrderedAutoencoder
from anytime_audio.core.quantizer import VectorQuantizer
from anytime_audio.core.trainer import Trainer, TrainConfig
from anytime_audio.image.nets import ImageDecoder, ImageEncoder, ImageReconstructionLoss


def main(out_dir: str) -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)  # identical initial weights on every rank
    encoder = ImageEncoder(1, 16, 8, 1, 1)
    decoder = ImageDecoder(1, 16, 8, 1, 1)
    ae = OrderedAutoencoder(encoder, VectorQuantizer(16, 16), decoder, ImageReconstructionLoss(), (1, 8, 8))
    g = torch.Generator().manual_seed(1)
    data = torch.utils.data.TensorDataset(torch.rand(64, 1, 8, 8, generator=g) * 2 - 1, torch.zeros(64, dtype=torch.long))
    cfg = TrainConfig(steps=6, batch_size=4, lr=1e-3, log_every=2, valid_every=100, checkpoint_every=3,
                      progress=False, device="cpu", resume=False)
    trainer = Trainer(ae, data, out_dir, cfg)
    trainer.fit()
    flat = torch.cat([p.detach().flatten() for p in ae.parameters()] + [ae.quantizer.codebook.flatten()])
    gathered = [torch.zeros_like(flat) for _ in range(dist.get_world_size())]
    dist.all_gather(gathered, flat)
    if dist.get_rank() == 0:
        same = all(torch.equal(gathered[0], g_) for g_ in gathered[1:])
        print(f"WORLD={dist.get_world_size()} IDENTICAL={same} STEP={trainer.step}", flush=True)
    dist.barrier()  # no rank tears its connections down while another still uses them
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
