import torch

from anytime_audio.core.quantizer import VectorQuantizer


def test_nearest_code_assignment_picks_closest_vector():
    vq = VectorQuantizer(num_codes=4, code_dim=2)
    vq.codebook.copy_(torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]]))
    vq.initialized.fill_(True)
    vq.eval()
    z = torch.tensor([[[9.0, 1.0], [1.0, 8.0], [0.2, -0.1]]])  # [B=1, L=3, S=2]
    out = vq(z)
    assert out.codes.tolist() == [[1, 2, 0]]
    assert torch.allclose(out.quantized, vq.codebook[out.codes])


def test_channel_mode_gives_one_code_per_channel_and_spatial_one_per_position():
    z = torch.randn(2, 5, 7)
    ch = VectorQuantizer(16, 7, mode="channel").train()
    sp = VectorQuantizer(16, 5, mode="spatial").train()
    assert ch(z).codes.shape == (2, 5)
    assert sp(z).codes.shape == (2, 7)
    assert ch(z).quantized.shape == z.shape and sp(z).quantized.shape == z.shape


def test_ema_update_moves_codeword_towards_assigned_mean():
    vq = VectorQuantizer(num_codes=2, code_dim=1, decay=0.5, revive_threshold=0.0)
    vq.codebook.copy_(torch.tensor([[0.0], [100.0]]))
    vq.ema_sum.copy_(vq.codebook)
    vq.ema_count.fill_(1.0)
    vq.initialized.fill_(True)
    vq.train()
    z = torch.full((4, 1, 1), 2.0)  # all assigned to code 0, mean 2
    before = vq.codebook[0].item()
    vq(z)
    after = vq.codebook[0].item()
    assert before < after < 2.0
    assert abs(vq.codebook[1].item() - 100.0) < 0.1  # unused code keeps (almost) its vector


def test_dead_code_revival_reseeds_and_resets_statistics():
    torch.manual_seed(0)
    vq = VectorQuantizer(num_codes=8, code_dim=3, decay=0.9, revive_threshold=0.5)
    vq.train()
    z = torch.randn(64, 1, 3)
    vq(z)  # data init
    far = torch.tensor([1e3, 1e3, 1e3])
    vq.codebook[5] = far
    vq.ema_sum[5] = far
    vq.ema_count[5] = 1e-6  # unused
    vq(z)
    assert not torch.allclose(vq.codebook[5], far)
    # revived vector comes from the batch, and its stats were reset with it
    assert vq.codebook[5].abs().max() < 10
    assert torch.allclose(vq.ema_sum[5], vq.codebook[5])
    assert vq.ema_count[5].item() == 1.0


def test_quantizer_runs_fp32_under_autocast():
    vq = VectorQuantizer(8, 4).train()
    z = torch.randn(2, 3, 4)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = vq(z.bfloat16())
    assert out.commitment_loss.dtype == torch.float32
    assert out.quantized.dtype == torch.float32


def test_bad_shape_is_a_clear_error():
    vq = VectorQuantizer(8, 4)
    try:
        vq(torch.randn(2, 3, 5))
    except ValueError as e:
        assert "size 4" in str(e)
    else:
        raise AssertionError("expected ValueError")
