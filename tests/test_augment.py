"Batch augmentation: multi-seed statistics, dtypes, and CPU/CUDA agreement (the CUDA tests run only where a GPU is present)."
import math, pytest, torch
import torch.nn.functional as F
from course_lib.core import set_seed
from course_lib.augment import *

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason='no CUDA device')
devices = ['cpu', pytest.param('cuda', marks=cuda)]

@pytest.mark.parametrize('device', devices)
@pytest.mark.parametrize('dtype', [torch.float32, torch.float16, torch.uint8])
def test_shapes_dtypes_devices_preserved(device, dtype):
    x = (torch.rand(16, 3, 12, 10, device=device)*255).to(dtype)
    for f in (flip_batch, pad_crop_batch, BatchAugment(pad_crop_batch, flip_batch)):
        out = f(x)
        assert (out.shape, out.dtype, out.device) == (x.shape, x.dtype, x.device)
    if dtype.is_floating_point:
        out = rand_resized_crop_batch(x, size=(8, 6))
        assert (out.shape, out.dtype, out.device.type) == ((16, 3, 8, 6), x.dtype, device)

@pytest.mark.parametrize('device', devices)
def test_flip_rate_over_seeds(device):
    "Pooled over 20 seeds × 500 images the flip rate is within 4 standard errors of p, and every seed differs."
    x = torch.randn(500, 1, 1, 2, device=device)
    for p in (0.5, 0.25):
        rates = []
        for seed in range(20):
            set_seed(seed); rates.append((flip_batch(x, p) != x).any(-1).float().mean().item())
        assert abs(sum(rates)/20 - p) < 4*math.sqrt(p*(1-p)/10_000), rates
        assert len(set(rates)) > 10

@pytest.mark.parametrize('device', devices)
def test_pad_crop_shifts_are_uniform_per_axis(device):
    "The vertical and horizontal shifts are each uniform on [-pad, pad] (found via the position of a single bright pixel)."
    pad, n = 3, 7000
    x = torch.zeros(n, 1, 9, 9, device=device); x[:, :, 4, 4] = 1
    for seed in range(3):
        set_seed(seed)
        pos = pad_crop_batch(x, pad=pad, padding_mode='zeros').flatten(1).argmax(1)
        for shift in (pos // 9 - 4, pos % 9 - 4):
            counts = torch.bincount((shift + pad).cpu(), minlength=2*pad+1).float()
            assert counts.shape[0] == 2*pad+1
            chi2 = ((counts - n/(2*pad+1))**2 / (n/(2*pad+1))).sum().item()
            assert chi2 < 6 + 5*math.sqrt(12), (seed, counts)              # mean 6 (7 cells), sd √12: 5 sd above

@cuda
def test_cuda_matches_cpu_for_fixed_parameters():
    x = torch.rand(8, 3, 16, 16)
    th = rand_crop_theta(8)
    torch.testing.assert_close(affine_batch(x.cuda(), th.cuda()).cpu(), affine_batch(x, th), atol=1e-5, rtol=0)
    torch.testing.assert_close(flip_batch(x.cuda(), p=1.).cpu(), x.flip(-1))

def test_bad_arguments():
    x = torch.rand(4, 1, 8, 8)
    with pytest.raises(ValueError, match='1.5'): flip_batch(x, p=1.5)
    with pytest.raises(ValueError, match=r'\(8, 8\)'): pad_crop_batch(x[0, 0])
    with pytest.raises(ValueError, match='pad=8'): pad_crop_batch(x, pad=8)       # reflect padding must be smaller than the image
    assert pad_crop_batch(x, pad=8, padding_mode='zeros').shape == x.shape
