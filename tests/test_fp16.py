"Mixed precision: what the notebook can't hold (several seeds, files on disk, errors mid-fit, optimizer state across fits)."
import math
from functools import partial
import pytest, torch, torch.nn as nn, torch.nn.functional as F
from course_lib.core import set_seed
from course_lib.data import Dataset, DataBunch, get_dls
from course_lib.learner import Learner, Callback, load_checkpoint
from course_lib.optimizer import adam_opt, sgd_opt
from course_lib.fp16 import MixedPrecision, AutocastMixedPrecision, get_master

def tiny_data(seed=0, n=384, bs=32):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 10, generator=g); y = x[:, :3].argmax(1)
    return DataBunch(*get_dls(Dataset(x[:320], y[:320]), Dataset(x[320:], y[320:]), bs=bs), c_in=10, c_out=3)

def tiny_model(): return nn.Sequential(nn.Linear(10, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 3))

class LossLog(Callback):
    def begin_fit(self): self.losses = []
    def after_loss(self):
        if self.in_train: self.losses.append(self.loss.item())

def train(cbs=(), seed=0, epochs=4, opt_func=partial(torch.optim.SGD, momentum=0.9), loss_func=F.cross_entropy):
    set_seed(seed)
    log = LossLog()
    learn = Learner(tiny_model(), tiny_data(seed), loss_func=loss_func, opt_func=opt_func, lr=0.1, cbs=list(cbs) + [log])
    learn.fit(epochs)
    return learn, torch.tensor(log.losses)

def flat(m): return torch.cat([p.detach().float().reshape(-1) for p in m.parameters()])

@pytest.mark.parametrize('seed', [0, 1, 2])
def test_losses_track_fp32_over_seeds(seed):
    "Per-step losses of fp16-from-scratch and bf16 autocast stay close to fp32's, for every seed; both learn."
    _, l32 = train(seed=seed)
    for cb in (MixedPrecision(), AutocastMixedPrecision(torch.bfloat16)):
        _, l = train([cb], seed=seed)
        assert (l - l32).abs().mean() < 0.02 and (l - l32).abs().max() < 0.1, (type(cb).__name__, seed)
        assert l[-5:].mean() < 0.6 * l[:5].mean()            # it trained

def test_checkpoint_on_disk_is_fp32(tmp_path):
    "After a MixedPrecision fit, the saved model and optimizer state are fp32, keyed to the model, and reload exactly."
    learn, _ = train([MixedPrecision()], epochs=1)
    path = learn.save(tmp_path/'mp.pth')
    state = torch.load(path, weights_only=True)
    assert {v.dtype for v in state['model'].values() if v.is_floating_point()} == {torch.float32}
    bufs = [s['momentum_buffer'] for s in state['opt']['state'].values()]
    assert len(bufs) == len(list(learn.model.parameters())) and {b.dtype for b in bufs} == {torch.float32}
    fresh = tiny_model()
    load_checkpoint(path, fresh)
    assert torch.equal(flat(fresh), flat(learn.model))

class Boom(Callback):
    def after_step(self):
        if self.n_iter == 2: raise RuntimeError("boom")

@pytest.mark.parametrize('flat_master', [False, True])
def test_error_mid_fit_restores_fp32(flat_master):
    "An exception in the middle of training still leaves an fp32 model holding the masters, and an optimizer on it."
    set_seed(0)
    mp = MixedPrecision(flat_master=flat_master)
    learn = Learner(tiny_model(), tiny_data(), opt_func=partial(torch.optim.SGD, momentum=0.9), cbs=[mp, Boom()])
    with pytest.raises(RuntimeError, match='boom'): learn.fit(1)
    assert {p.dtype for p in learn.model.parameters()} == {torch.float32}
    assert all(p is q for p, q in zip(learn.opt.param_groups[0]['params'], learn.model.parameters()))
    assert all(p in learn.opt.state for p in learn.model.parameters())       # momentum came back to the model

@pytest.mark.parametrize('flat_master', [False, True])
def test_adam_state_survives_refit(flat_master):
    "Adam's state (averages, step counts) moves to the model after fit and back to the masters: fit(1)+fit(1) == fit(2)."
    def weights(epochs):
        set_seed(0)
        learn = Learner(tiny_model(), tiny_data(), opt_func=adam_opt, lr=1e-2, cbs=MixedPrecision(flat_master=flat_master))
        for e in epochs: learn.fit(e)
        return flat(learn.model)
    torch.testing.assert_close(weights([1, 1]), weights([2]), rtol=0, atol=1e-6)

@pytest.mark.parametrize('make_cb, n', [(MixedPrecision, 17), (partial(MixedPrecision, dynamic=False, max_skips=3), 3),
                                        (partial(AutocastMixedPrecision, torch.float16), 17)])
def test_nan_loss_stops_after_bounded_skips(make_cb, n):
    "A loss that is NaN from the start ends training with a clear error after a bounded number of skipped steps."
    cb = make_cb()
    with pytest.raises(FloatingPointError, match='steps in a row had inf/NaN gradients'):
        train([cb], epochs=100, loss_func=lambda p, y: F.cross_entropy(p, y) * math.nan)
    assert len(cb.skipped) == n

def test_bad_input():
    with pytest.raises(ValueError, match='no param groups'): get_master([])
    m = tiny_model().requires_grad_(False)
    with pytest.raises(ValueError, match='no parameter requires grad'): get_master([list(m.parameters())])
    with pytest.raises(ValueError, match='no parameter requires grad'):
        Learner(m, tiny_data(), cbs=MixedPrecision()).fit(1)
    assert {p.dtype for p in m.parameters()} == {torch.float32}          # refused before converting anything
    with pytest.raises(ValueError, match='torch.float16 or torch.bfloat16'): AutocastMixedPrecision(torch.float64)
    with pytest.raises(ValueError, match='scale_wait >= 1'): MixedPrecision(scale_wait=0)

class Inside(Callback):
    "Record, during training, the dtype of the model's inputs, weights and predictions, and how loss_grad relates to loss."
    _order = 100                                               # after the mixed precision callbacks (99)
    def begin_fit(self): self.seen = []
    def after_loss(self):
        if not self.in_train: return
        w = next(self.model.parameters())
        self.seen.append((self.xb.dtype, w.dtype, self.pred.dtype, (self.loss_grad/self.loss).item()))

def test_fp16_really_runs_in_fp16():
    "MixedPrecision trains an fp16 model on fp16 inputs with a scaled loss; plain fp32 would fail every check."
    mp = MixedPrecision(loss_scale=2.**12)
    learn, _ = train([mp, Inside()], epochs=1)
    seen = learn.inside.seen
    assert seen and all(x == torch.float16 and w == torch.float16 for x, w, _, _ in seen)   # the forward pass in fp16
    assert all(p == torch.float32 for _, _, p, _ in seen)                                   # predictions cast back for the loss
    assert all(r == pytest.approx(2.**12) for *_, r in seen)                                 # backward starts from loss × scale

def test_autocast_fp16_scales_and_casts():
    "AutocastMixedPrecision(fp16) computes the forward pass in fp16 with fp32 weights, and backward starts from a scaled loss."
    learn, _ = train([AutocastMixedPrecision(torch.float16, device_type='cpu', init_scale=2.**10), Inside()], epochs=1)
    seen = learn.inside.seen
    assert all(w == torch.float32 and p == torch.float16 for _, w, p, _ in seen)
    assert all(r == pytest.approx(2.**10) for *_, r in seen)

class Overflow(Callback):
    _order = 50                                                # after backward, before the mixed precision callbacks look
    def after_backward(self): next(self.model.parameters()).grad.view(-1)[0] = float('inf')

def one_step_move(mp, clip_order:int, overflow:bool=False) -> float:
    "The norm of the weight change of one step at lr 1 of Linear(4, 2), with `mp` and clipping at 1e-3 (`_order` clip_order)."
    from course_lib.awd_lstm import GradientClipping
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(8, 4, generator=g), torch.randint(0, 2, (8,), generator=g)
    data = DataBunch(*get_dls(Dataset(x, y), Dataset(x, y), bs=8))
    set_seed(0); model = nn.Linear(4, 2); w0 = flat(model)
    clip = GradientClipping(1e-3); clip._order = clip_order
    learn = Learner(model, data, F.cross_entropy, torch.optim.SGD, lr=1., cbs=[c for c in (mp, clip, Overflow() if overflow else None) if c])
    learn.fit(1)
    return (flat(learn.model) - w0).norm().item()

@pytest.mark.parametrize('clip_order', [0, 98, 100])
@pytest.mark.parametrize('make_mp', [lambda: MixedPrecision(loss_scale=2.**10),
                                     lambda: AutocastMixedPrecision(torch.float16, device_type='cpu', init_scale=2.**10)])
def test_clipping_sees_unscaled_gradients(make_mp, clip_order):
    "With a loss scale of 2^10, clipping at 1e-3 moves the weights by 1e-3, as in fp32 (clipping scaled gradients: ~1e-6)."
    assert one_step_move(None, clip_order) == pytest.approx(1e-3, abs=1e-6)
    assert one_step_move(make_mp(), clip_order) == pytest.approx(1e-3, abs=2e-6)
    assert one_step_move(make_mp(), clip_order, overflow=True) == 0.            # an overflow still skips the step
