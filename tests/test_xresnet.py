"XResNet: parameter counts against fastai's, bad input, slicing, and what zero γ does to the first steps."
import pytest, torch, torch.nn as nn, torch.nn.functional as F
from course_lib.xresnet import *

ARCHS = {'xresnet18': xresnet18, 'xresnet34': xresnet34, 'xresnet50': xresnet50, 'xresnet101': xresnet101, 'xresnet152': xresnet152}

def n_params(m): return sum(p.numel() for p in m.parameters())

@pytest.mark.parametrize('name', list(ARCHS))
def test_param_count_matches_fastai(name):
    "With fastai's stem widths (32, 32, 64), every model has exactly fastai's parameter count, for 3→1000 and 1→10."
    fx = pytest.importorskip('fastai.vision.models.xresnet')
    for c_in, c_out in [(3, 1000), (1, 10)]:
        with torch.device('meta'): ours = ARCHS[name](c_in=c_in, c_out=c_out, stem_szs=(32, 32, 64))
        assert n_params(ours) == n_params(getattr(fx, name)(c_in=c_in, n_out=c_out))

def test_same_function_as_fastai():
    "Copy fastai's xresnet18 weights into ours (same shapes, in order): the outputs agree, in train and eval mode."
    fx = pytest.importorskip('fastai.vision.models.xresnet')
    torch.manual_seed(0)
    theirs, ours = fx.xresnet18(c_in=3, n_out=10), xresnet18(c_in=3, c_out=10, stem_szs=(32, 32, 64))
    for bn in theirs.modules():                   # non-zero γ everywhere, so that the branches matter
        if isinstance(bn, nn.BatchNorm2d): nn.init.uniform_(bn.weight, 0.5, 1.5)
    src, dst = list(theirs.state_dict().values()), ours.state_dict()
    assert [tuple(v.shape) for v in src] == [tuple(v.shape) for v in dst.values()]
    ours.load_state_dict(dict(zip(dst, src)))
    x = torch.randn(4, 3, 40, 36)
    with torch.no_grad():
        for train in (True, False):
            ours.train(train); theirs.train(train)
            torch.testing.assert_close(ours(x), theirs(x), rtol=1e-4, atol=1e-4)

def test_bad_input_errors():
    m = xresnet50(c_in=3, c_out=5)
    with pytest.raises(ValueError, match=r'at least 17×17 px'): m(torch.randn(2, 3, 16, 40))
    with pytest.raises(ValueError, match=r'c_in=3.*got \(2, 1, 32, 32\)'): m(torch.randn(2, 1, 32, 32))
    with pytest.raises(ValueError, match=r'stem_stride must be 1 or 2'): xresnet18(stem_stride=3)
    with pytest.raises(ValueError, match=r'nfs gives 2 widths for 4 stages'): xresnet18(nfs=(8, 16))
    assert xresnet18(pool=False).min_size == 9 and xresnet18(stem_stride=1, pool=False).min_size == 5

def test_slicing_gives_the_body():
    "`model[:-3]` is a plain nn.Sequential body ending at the last stage; an int index gives one layer."
    m = xresnet34(c_in=1, c_out=10)
    body = m[:-3]
    assert type(body) is nn.Sequential and isinstance(m[-1], nn.Linear)
    assert body(torch.randn(2, 1, 64, 64)).shape == (2, 512, 2, 2)

def test_zero_gamma_opens_after_one_step():
    "At init the branch convs before a zero γ get no gradient, but γ does; after one SGD step γ ≠ 0 and they learn."
    torch.manual_seed(0)
    m = xresnet18(c_in=1, c_out=10, nfs=(8, 16, 16, 16), stem_szs=(8, 8, 8))
    last = [b.convs[-1] for b in m.modules() if isinstance(b, ResBlock)]
    x, y = torch.randn(16, 1, 28, 28), torch.randint(0, 10, (16,))
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    F.cross_entropy(m(x), y).backward()
    assert all(l[0].weight.grad.abs().max() == 0 for l in last)
    assert all(l[1].weight.grad.abs().max() > 0 for l in last)
    opt.step(); opt.zero_grad()
    F.cross_entropy(m(x), y).backward()
    assert all(l[1].weight.abs().min() > 0 for l in last) and all(l[0].weight.grad.abs().max() > 0 for l in last)
