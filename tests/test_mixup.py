"""course_lib.mixup and course_lib.losses beyond the notebook: more seeds for the statistics, the import layering
in a fresh process, and dtype/shape edge cases. Runs in a few seconds on a CPU."""
import math, subprocess, sys
import pytest, torch, torch.nn as nn, torch.nn.functional as F
from course_lib.core import set_seed, lin_comb
from course_lib.data import Dataset, DataBunch, get_dls
from course_lib.learner import Learner, AvgStatsCallback
from course_lib.losses import LabelSmoothingCrossEntropy, check_targets
from course_lib.mixup import MixUp, CutMix, MixHandler, lam_like, rand_boxes

def kept_lam_mean(alpha):
    "E[max(λ, 1-λ)] for λ ~ Beta(α, α): closed form 1/2 + 1/(4^α·α·B(α, α)) (derived in the lesson)."
    return 0.5 + math.exp(-alpha*math.log(4) - math.log(alpha) - (2*math.lgamma(alpha) - math.lgamma(2*alpha)))

@pytest.mark.parametrize('alpha', [0.1, 0.4, 1., 3.])
def test_kept_lam_mean_many_seeds(alpha):
    "Per seed, the mean of 20,000 kept λ is within 4 standard errors of theory; over 10 seeds the pooled mean within 4 SE too."
    means, n = [], 20_000
    for seed in range(10):
        set_seed(seed)
        lam = MixUp(alpha).mix(torch.zeros(n, 1), torch.zeros(n, 1))[1]
        assert ((lam >= 0.5) & (lam <= 1)).all()
        se = lam.std().item()/math.sqrt(n)
        assert abs(lam.mean().item() - kept_lam_mean(alpha)) < 4*se, (alpha, seed)
        means.append(lam.mean().item())
    pooled = sum(means)/len(means)
    assert abs(pooled - kept_lam_mean(alpha)) < 4*se/math.sqrt(len(means))

def test_cutmix_lam_is_uncovered_area_many_seeds():
    for seed in range(5):
        set_seed(seed)
        out, lam = CutMix(1.).mix(torch.zeros(500, 2, 16, 24), torch.ones(500, 2, 16, 24))
        torch.testing.assert_close(lam, 1 - out.mean((1, 2, 3)))
        assert (out[:, 0] == out[:, 1]).all()                       # the same box in every channel

def test_rand_boxes_area():
    """A box of side √(1-λ0) of the image's: exactly 50×50 of 100×100 for λ0 = 3/4 when it fits (centre in the middle
    half on both axes, probability ≈ 1/4), smaller when the border clips it."""
    set_seed(0)
    area = rand_boxes(torch.full((4000,), 0.75), 100, 100).float().sum((1, 2))
    assert (area <= 2500).all()
    assert 0.2 < (area == 2500).float().mean() < 0.3

def _clusters(seed, C=10, d=20, n=100):
    g = torch.Generator().manual_seed(seed)
    centers = 2*torch.randn(C, d, generator=g); y = torch.arange(n) % C
    return centers[y] + 0.1*torch.randn(n, d, generator=g), y

def _max_prob(loss_func, seed, steps=100, lr=0.5):
    x, y = _clusters(seed)
    torch.manual_seed(seed); model = nn.Linear(x.shape[1], 10)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    for _ in range(steps): loss_func(model(x), y).backward(); opt.step(); opt.zero_grad()
    with torch.no_grad(): return model(x).softmax(1).max().item()

@pytest.mark.parametrize('seed', range(5))
def test_label_smoothing_caps_confidence(seed):
    "With ε > 0 the largest predicted probability stays below 1-ε/2; without smoothing it exceeds that bound."
    assert _max_prob(F.cross_entropy, seed) > 1 - 0.1/2
    for eps in [0.05, 0.1, 0.3]: assert _max_prob(LabelSmoothingCrossEntropy(eps), seed) < 1 - eps/2

def _tiny(seed, n=192, bs=32):
    g = torch.Generator().manual_seed(seed)
    x, y = torch.randn(n, 1, 8, 8, generator=g), torch.randint(0, 10, (n,), generator=g)
    x += F.one_hot(y, 64).float().view(n, 1, 8, 8)*3
    return DataBunch(*get_dls(Dataset(x[:128], y[:128]), Dataset(x[128:], y[128:]), bs=bs))

@pytest.mark.parametrize('mixer', [MixUp, CutMix])
def test_mixed_training_loss_higher_at_equal_weights(mixer):
    "With label smoothing as the base loss too: mixing raises the training loss of a trained model, for every seed."
    for seed in range(3):
        torch.manual_seed(seed)
        learn = Learner(nn.Sequential(nn.Flatten(), nn.Linear(64, 10)), _tiny(seed), loss_func=LabelSmoothingCrossEntropy(0.1),
                        lr=0.1, cbs=AvgStatsCallback()); learn.quiet = True
        learn.fit(5)
        for h in learn.opt.param_groups: h['lr'] = 0.
        learn.fit(1); plain = learn.avg_stats.log[-1]['train_loss']
        learn.fit(1, cbs=mixer()); mixed = learn.avg_stats.log[-1]['train_loss']
        assert mixed > plain + 0.1, (seed, plain, mixed)
        assert isinstance(learn.loss_func, LabelSmoothingCrossEntropy) and learn.loss_func.reduction == 'mean'

def test_losses_does_not_import_mixup():
    "The layering: course_lib.losses sits below course_lib.mixup and must not pull it in."
    code = "import sys, course_lib.losses; assert 'course_lib.mixup' not in sys.modules, sorted(m for m in sys.modules if m.startswith('course_lib'))"
    subprocess.run([sys.executable, '-c', code], check=True)

def test_half_precision_inputs_stay_half():
    xb = torch.randn(6, 3, 8, 8).half()
    for m in [MixUp(), CutMix()]:
        set_seed(0); out, lam = m.mix(xb, xb.flip(0))
        assert out.dtype == torch.float16 and lam.shape == (6,)
    assert lam_like(torch.rand(6), torch.zeros(6, 4, dtype=torch.long)).dtype == torch.float32   # never cast λ to an int

def test_bad_input_messages():
    with pytest.raises(ValueError, match=r'alpha \(α\) must be > 0, got -0.5'): MixUp(-0.5)
    with pytest.raises(ValueError, match=r'alpha \(α\) must be > 0, got 0'): CutMix(0)
    with pytest.raises(ValueError, match=r'eps \(ε\) must be in \[0, 1\), got 1'): LabelSmoothingCrossEntropy(1)
    with pytest.raises(TypeError, match='torch.float64'): check_targets(torch.zeros(3, dtype=torch.float64), 'MixUp')
    with pytest.raises(TypeError, match='LabelSmoothingCrossEntropy needs class indices'):
        LabelSmoothingCrossEntropy()(torch.randn(4, 3), torch.rand(4, 3))
