"Transfer learning on disk and with bad input: checkpoints that aren't, truncated ones, pickled code, mismatches, round trips."
import os, pytest, torch, torch.nn as nn
from course_lib.learner import save_checkpoint, CheckpointError
from course_lib.vision import xresnet18_28
from course_lib.transfer import *

def small(c_out=10): torch.manual_seed(0); return xresnet18_28(c_out=c_out)

def snapshot(m): return {k: v.clone() for k, v in m.state_dict().items()}

def assert_same(m, sd):
    got = m.state_dict()
    assert got.keys() == sd.keys()
    for k, v in sd.items(): assert torch.equal(got[k], v), k

class Evil:
    "Unpickling this runs `touch <path>`."
    def __init__(self, path): self.path = path
    def __reduce__(self): return (os.system, (f'touch {self.path}',))

@pytest.fixture
def ckpt(tmp_path):
    m = small(); save_checkpoint(tmp_path/'src.pth', m, arch='xresnet18_28', classes=list(range(10)))
    return tmp_path/'src.pth', m

def test_round_trip_is_bit_exact(ckpt, tmp_path):
    path, src = ckpt
    m = xresnet18_28(c_out=10)
    assert load_pretrained(m, path) == {'arch': 'xresnet18_28', 'classes': list(range(10))}
    assert_same(m, snapshot(src))
    save_checkpoint(tmp_path/'again.pth', m)
    m2 = xresnet18_28(c_out=10); load_pretrained(m2, tmp_path/'again.pth')
    assert_same(m2, snapshot(src))

def test_adapted_model_round_trips(tmp_path):
    t = adapt_model(small(), 5, size=28)
    freeze(t)
    save_checkpoint(tmp_path/'t.pth', t)
    t2 = adapt_model(xresnet18_28(c_out=10), 5, size=28)
    load_pretrained(t2, tmp_path/'t.pth')
    assert_same(t2, snapshot(t))

def test_not_a_checkpoint(tmp_path):
    (tmp_path/'notes.pth').write_text('these are my notes, not weights')
    m = small(); before = snapshot(m)
    with pytest.raises(CheckpointError, match='notes.pth is not a readable checkpoint'): load_pretrained(m, tmp_path/'notes.pth')
    torch.save({'weights': m.state_dict()}, tmp_path/'other.pth')
    with pytest.raises(CheckpointError, match="no 'model' state dict"): load_pretrained(m, tmp_path/'other.pth')
    assert_same(m, before)

@pytest.mark.parametrize('keep', [0.5, 0.9, 0.999])
def test_truncated_checkpoint(ckpt, tmp_path, keep):
    path, _ = ckpt
    data = path.read_bytes()
    (tmp_path/'cut.pth').write_bytes(data[:int(len(data)*keep)])
    m = xresnet18_28(c_out=10); before = snapshot(m)
    with pytest.raises(CheckpointError, match='not a readable checkpoint'): load_pretrained(m, tmp_path/'cut.pth')
    assert_same(m, before)

def test_pickled_code_is_refused(tmp_path):
    marker = tmp_path/'pwned'
    m = small(); before = snapshot(m)
    torch.save({'model': m.state_dict(), 'note': Evil(marker)}, tmp_path/'evil.pth')
    with pytest.raises(CheckpointError, match='pickled code'): load_pretrained(m, tmp_path/'evil.pth')
    assert not marker.exists()
    assert_same(m, before)
    learn_like = adapt_model(xresnet18_28(c_out=10), 5, size=28); before = snapshot(learn_like)
    torch.save({'model': Evil(marker)}, tmp_path/'evil2.pth')
    with pytest.raises(CheckpointError): load_pretrained(learn_like, tmp_path/'evil2.pth')
    assert not marker.exists()
    assert_same(learn_like, before)

def test_mismatch_lists_keys_and_shapes(ckpt):
    path, _ = ckpt
    m = xresnet18_28(c_out=5); before = snapshot(m)
    with pytest.raises(CheckpointError, match=r'10\.weight: checkpoint \(10, 256\) vs model \(5, 256\)'): load_pretrained(m, path)
    assert_same(m, before)
    t = adapt_model(xresnet18_28(c_out=10), 10, size=28); before = snapshot(t)       # keys body.* / head.* vs 0.* ... 10.*
    with pytest.raises(CheckpointError) as e: load_pretrained(t, path)
    msg = str(e.value)
    assert 'missing keys' in msg and 'body.0.0.weight' in msg and 'unexpected keys' in msg and '10.weight' in msg
    assert_same(t, before)

def test_bad_models():
    with pytest.raises(TypeError, match='call adapt_model first'): freeze(xresnet18_28())
    with pytest.raises(TypeError, match='call adapt_model first'): bn_splitter(xresnet18_28())
    with pytest.raises(ValueError, match='no adaptive pooling layer'): adapt_model(nn.Sequential(nn.Conv2d(1, 2, 3)), 3)
    with pytest.raises(ValueError, match="c_out='ten'"): adapt_model(xresnet18_28(), 'ten')
