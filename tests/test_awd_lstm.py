"""course_lib.awd_lstm beyond the notebook: more shapes and seeds, the 2019 WeightDropout failure modes, a few Learner
steps end to end, checkpoints, and the import layering in a fresh process. Runs in seconds on a CPU."""
import copy, math, subprocess, sys, warnings
import pytest, torch, torch.nn as nn, torch.nn.functional as F
from course_lib.core import set_seed
from course_lib.data import DataBunch
from course_lib.learner import Learner, Callback, AvgStatsCallback, save_checkpoint, load_checkpoint
from course_lib.awd_lstm import *

pytestmark = pytest.mark.usefixtures('one_thread')        # tests/conftest.py

def copy_lstm_weights(cell, lstm):
    with torch.no_grad():
        for ours, theirs in [(cell.ih, 'ih'), (cell.hh, 'hh')]:
            ours.weight.copy_(getattr(lstm, f'weight_{theirs}_l0')); ours.bias.copy_(getattr(lstm, f'bias_{theirs}_l0'))

@pytest.mark.parametrize('dtype,tol', [(torch.float64, 1e-10), (torch.float32, 1e-5)])
@pytest.mark.parametrize('ni,nh,bs,sl', [(1, 1, 1, 1), (3, 8, 5, 17), (16, 4, 2, 40)])
def test_lstm_layer_matches_nn_lstm(dtype, tol, ni, nh, bs, sl):
    torch.manual_seed(ni*100 + nh)
    ref = nn.LSTM(ni, nh, batch_first=True).to(dtype)
    layer = LSTMLayer(LSTMCell(ni, nh)).to(dtype)
    copy_lstm_weights(layer.cell, ref)
    x, h0, c0 = torch.randn(bs, sl, ni, dtype=dtype), torch.randn(bs, nh, dtype=dtype), torch.randn(bs, nh, dtype=dtype)
    out, (h, c) = layer(x, (h0, c0))
    out_ref, (h_ref, c_ref) = ref(x, (h0[None], c0[None]))
    for a, b in [(out, out_ref), (h, h_ref[0]), (c, c_ref[0])]: torch.testing.assert_close(a, b, atol=tol, rtol=tol)
    # gradients agree too
    out.pow(2).sum().backward(); out_ref.pow(2).sum().backward()
    torch.testing.assert_close(layer.cell.hh.weight.grad, ref.weight_hh_l0.grad, atol=100*tol, rtol=100*tol)

@pytest.mark.parametrize('p', [0.05, 0.3, 0.6])
def test_rnn_dropout_rate_many_seeds(p):
    "Per seed the dropped fraction is within 4 SE of p; pooled over 10 seeds within 4 pooled SE; the mask is constant in time."
    n, fracs = 300*64, []
    for seed in range(10):
        set_seed(seed)
        y = RNNDropout(p)(torch.ones(300, 5, 64))
        assert (y == y[:, :1]).all()
        frac = (y[:, 0] == 0).float().mean().item(); fracs.append(frac)
        assert abs(frac - p) < 4*math.sqrt(p*(1-p)/n), (seed, frac)
    assert abs(sum(fracs)/10 - p) < 4*math.sqrt(p*(1-p)/(10*n))

def seen_weight(wd, x):
    seen = []
    h = wd.module.register_forward_pre_hook(lambda m, a: seen.append(m.weight_hh_l0.detach().clone()))
    try: return wd(x), seen[0]
    finally: h.remove()

@pytest.mark.parametrize('p', [0.2, 0.5, 0.8])
def test_weight_dropout_really_drops(p):
    torch.manual_seed(0)
    plain = nn.LSTM(10, 20, batch_first=True)
    wd = WeightDropout(copy.deepcopy(plain), p)
    x, fracs = torch.randn(3, 6, 10), []
    for seed in range(5):
        set_seed(seed)
        (out, (h, c)), used = seen_weight(wd, x)
        ref = copy.deepcopy(plain); ref.weight_hh_l0.data.copy_(used)
        torch.testing.assert_close(out, ref(x)[0], atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(c, ref(x)[1][1], atol=1e-6, rtol=1e-5)
        kept = used != 0
        torch.testing.assert_close(used[kept], plain.weight_hh_l0.detach()[kept]/(1-p))
        fracs.append((~kept).float().mean().item())
        out.sum().backward()
        g = wd.module.weight_hh_l0.grad
        assert g.abs().sum() > 0 and (g[~kept] == 0).all()
        wd.zero_grad()
    n = 5*80*20
    assert abs(sum(fracs)/5 - p) < 4*math.sqrt(p*(1-p)/n)
    wd.eval(); torch.testing.assert_close(wd(x)[0], plain(x)[0])

def test_weight_dropout_is_a_plain_module_for_torch():
    "Leaf parameters with nn.LSTM's names: torch.optim, deepcopy and state dicts work, and no warning is raised."
    lstm = nn.LSTM(4, 6, batch_first=True)
    names = [f'module.{n}' for n, _ in lstm.named_parameters()]
    wd = WeightDropout(lstm, 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        wd(torch.randn(2, 3, 4))[0].sum().backward()
        opt = torch.optim.Adam(wd.parameters()); opt.step()
        wd.eval()(torch.randn(2, 3, 4))
    assert [n for n, _ in wd.named_parameters()] == names == list(wd.state_dict())
    wd.train()(torch.randn(2, 3, 4)); copy.deepcopy(wd)
    with pytest.raises(ValueError, match="has no parameter 'weight_hh'"): WeightDropout(lstm, 0.5, 'weight_hh')
    with pytest.raises(ValueError, match=r'\[0, 1\)'): WeightDropout(nn.LSTM(4, 6), 1.)

class WeightDropout2019(nn.Module):
    "The 2019 course's WeightDropout, in substance: it writes the dropped weight into `module._parameters`."
    def __init__(self, module, weight_p, layer_names=['weight_hh_l0']):
        super().__init__()
        self.module, self.weight_p, self.layer_names = module, weight_p, layer_names
        for layer in self.layer_names:
            w = getattr(self.module, layer)
            self.register_parameter(f'{layer}_raw', nn.Parameter(w.data))
            self.module._parameters[layer] = F.dropout(w, p=self.weight_p, training=False)
    def forward(self, *args):
        for layer in self.layer_names:
            self.module._parameters[layer] = F.dropout(getattr(self, f'{layer}_raw'), p=self.weight_p, training=self.training)
        return self.module.forward(*args)

def test_2019_weight_dropout_fails_where_ours_passes():
    x = torch.randn(2, 3, 4)
    old = WeightDropout2019(nn.LSTM(4, 6, batch_first=True), 0.5)
    old.module._update_flat_weights = lambda: None          # PyTorch 1.4-1.13: the LSTM kept its cached weights
    assert torch.equal(old(x)[0], old.eval()(x)[0])          # no dropout
    old = WeightDropout2019(nn.LSTM(4, 6, batch_first=True), 0.5)
    old(x)
    with pytest.raises(ValueError, match='non-leaf'): torch.optim.Adam(old.parameters())
    with pytest.raises(RuntimeError): copy.deepcopy(old)
    ours = WeightDropout(nn.LSTM(4, 6, batch_first=True), 0.5)
    ours(x); torch.optim.Adam(ours.parameters()); copy.deepcopy(ours)

def test_embedding_dropout_whole_rows_many_seeds():
    emb = nn.Embedding(5000, 3, padding_idx=1)
    ed = EmbeddingDropout(emb, 0.25)
    words = torch.arange(5000).repeat(2, 1)
    fracs = []
    for seed in range(5):
        set_seed(seed)
        y = ed(words)
        zero = (y == 0).all(-1)
        assert torch.equal(zero[0], zero[1])                  # the same words dropped at every position
        torch.testing.assert_close(y[~zero], emb(words)[~zero]/0.75)
        fracs.append(zero[0, 2:].float().mean().item())       # ids 0 and 2+ (the pad row is zero anyway)
    assert abs(sum(fracs)/5 - 0.25) < 4*math.sqrt(0.25*0.75/(5*4998))

def test_awd_lstm_state_and_shapes():
    set_seed(0)
    enc = AWD_LSTM(40, emb_sz=5, n_hid=7, n_layers=3).eval()
    x = torch.randint(0, 40, (3, 20))
    whole = enc(x)[0]
    enc.reset()
    parts = [enc(x[:, i:i+6])[0] for i in range(0, 20, 6)]
    for l in range(3): torch.testing.assert_close(torch.cat([p[l] for p in parts], 1), whole[l], atol=1e-6, rtol=1e-5)
    enc(x[:1]); assert enc.hidden[0][0].shape == (1, 1, 7)   # a new batch size starts from zeros
    assert enc.hidden[-1][0].shape == (1, 1, 5)

def test_get_language_model_grads_and_tying():
    set_seed(0)
    lm = get_language_model(50, 8, 16, 3)
    x, y = torch.randint(2, 50, (4, 9)), torch.randint(2, 50, (4, 9))
    dec, raw, outs = lm(x)
    assert dec.shape == (4, 9, 50) and len(raw) == len(outs) == 3
    cross_entropy_flat(dec, y).backward()
    assert lm[1].decoder.weight is lm[0].emb.weight
    for n, p in lm.named_parameters(): assert p.grad is not None and p.grad.abs().sum() > 0, n
    untied = get_language_model(50, 8, 16, 3, tie_weights=False, bias=False)
    assert untied[1].decoder.bias is None and untied[1].decoder.weight is not untied[0].emb.weight
    d = scale_dropouts(awd_lstm_lm_config, 0.2)
    assert d['weight_p'] == pytest.approx(0.1) and d['n_hid'] == 1152 and awd_lstm_lm_config['weight_p'] == 0.5
    m = get_language_model(50, **{k: v for k, v in d.items() if k != 'vocab_sz'})
    assert m[0].emb_dp.embed_p == pytest.approx(0.02) and m[1].output_dp.p == pytest.approx(0.08)

class Capture(Callback):
    "Record (in_train, loss, loss_grad) after the loss and the global grad norm at before_step, after the clipping (order 0)."
    _order = 100
    def begin_fit(self): self.losses, self.norms = [], []
    def after_loss(self): self.losses.append((self.in_train, self.loss.item(), self.loss_grad.item()))
    def before_step(self): self.norms.append(torch.stack([p.grad.norm() for p in self.model.parameters() if p.grad is not None]).norm().item())

def lm_data(n_tok=4000, bs=8, bptt=10, vocab=30):
    "Batches of a stream that repeats a fixed random sentence: easy to learn, in LM format (y = x shifted by one)."
    set_seed(0)
    sent = torch.randint(2, vocab, (37,))
    stream = sent.repeat(n_tok // 37 + 2)[:n_tok + 1]
    rows = stream[:(n_tok // bs)*bs].view(bs, -1)
    batches = [(rows[:, i:i+bptt], rows[:, i+1:i+1+bptt]) for i in range(0, rows.size(1) - bptt - 1, bptt)]
    return DataBunch(batches, batches[:5])

def test_learner_end_to_end():
    "A few epochs on an easy stream: the loss falls; loss_grad = loss + AR + TAR in training only; clipping holds."
    data = lm_data()
    set_seed(0)
    model = get_language_model(30, 16, 32, 2, drop_mult=0.2)
    cap = Capture()
    learn = Learner(model, data, loss_func=cross_entropy_flat, opt_func=torch.optim.Adam, lr=1e-2,
                    cbs=[RNNTrainer(2., 1.), GradientClipping(0.5), AvgStatsCallback([accuracy_flat]), cap])
    learn.quiet = True
    learn.fit(3)
    log = learn.avg_stats.log
    assert log[-1]['valid_loss'] < 0.5*log[0]['train_loss'], log
    assert all(g > l for t, l, g in cap.losses if t) and all(g == l for t, l, g in cap.losses if not t)
    assert max(cap.norms) <= 0.5 + 1e-5

def test_checkpoint_round_trip(tmp_path):
    set_seed(0)
    a, b = get_language_model(30, 8, 12, 2).eval(), get_language_model(30, 8, 12, 2).eval()
    a.train()(torch.randint(0, 30, (2, 5)))                  # a training step leaves nothing odd behind
    save_checkpoint(tmp_path/'lm.pth', a)
    load_checkpoint(tmp_path/'lm.pth', b)
    x = torch.randint(0, 30, (2, 7))
    a.eval(); a.reset(); b.reset()
    torch.testing.assert_close(a(x)[0], b(x)[0])
    assert b[1].decoder.weight is b[0].emb.weight             # still tied after loading

def test_bad_dropout_probabilities():
    for f in [lambda: RNNDropout(-0.1), lambda: EmbeddingDropout(nn.Embedding(3, 2), 1.), lambda: dropout_mask(torch.zeros(1), (2,), 1.5)]:
        with pytest.raises(ValueError, match=r'\[0, 1\)'): f()

def test_imports_only_lower_layers():
    code = "import sys, course_lib.awd_lstm; print(sorted(m for m in sys.modules if m.startswith('course_lib.')))"
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout
    mods = eval(out)
    assert not {'course_lib.text', 'course_lib.lm', 'course_lib.ulmfit'} & set(mods), mods
