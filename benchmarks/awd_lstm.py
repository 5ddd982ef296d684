"""AWD-LSTM language-model training speed: course_lib's `get_language_model` against fastai's, tokens per second.

Both models get the same sizes and dropouts, the same random token batches, the same loss (flat cross-entropy), the
same optimizer (torch Adam) and the same step: forward + loss + backward + step + zero_grad, with the hidden state
carried over between batches as in LM training. Per config, the contenders alternate in rounds (the order rotated each
round); after warm-up steps we report the median step time over all timed steps, as tokens/s, and the ratio ours/fastai.
Timings on a shared CPU are noisy.
Usage: python benchmarks/awd_lstm.py [--vocab 20000] [--bs 64] [--bptt 70] [--rounds 3] [--threads 2] [--out benchmarks/results/awd_lstm.txt]"""
import argparse, statistics, time, warnings
from pathlib import Path
import torch, torch.nn.functional as F
from course_lib.core import set_seed
from course_lib.awd_lstm import get_language_model, cross_entropy_flat

DROPS = dict(output_p=0.4, hidden_p=0.2, input_p=0.6, embed_p=0.1, weight_p=0.5)
CONFIGS = {'big (emb 400, hidden 1152, 3 layers)': dict(emb_sz=400, n_hid=1152, n_layers=3, steps=2),
           'small (emb 300, hidden 300, 2 layers)': dict(emb_sz=300, n_hid=300, n_layers=2, steps=6)}

def ours(vocab, emb_sz, n_hid, n_layers):
    return get_language_model(vocab, emb_sz, n_hid, n_layers, **DROPS)

def fastai_lm(vocab, emb_sz, n_hid, n_layers):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', FutureWarning)        # fastai's import touches the deprecated torch.jit.script
        from fastai.text.models import AWD_LSTM, get_language_model as fa_lm, awd_lstm_lm_config
    cfg = {**awd_lstm_lm_config, 'emb_sz': emb_sz, 'n_hid': n_hid, 'n_layers': n_layers, **DROPS}
    return fa_lm(AWD_LSTM, vocab, config=cfg)

def make_step(model):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train(); model.reset()
    def step(x, y):
        loss = cross_entropy_flat(model(x)[0], y)
        loss.backward(); opt.step(); opt.zero_grad()
    return step

def timed(step, batches) -> list[float]:
    ts = []
    for x, y in batches:
        t0 = time.perf_counter(); step(x, y); ts.append(time.perf_counter() - t0)
    return ts

def bench(cfg, vocab, bs, bptt, rounds, warmup=1):
    cfg = dict(cfg); steps = cfg.pop('steps')
    contenders = {'course_lib': ours}
    try: import fastai; contenders[f'fastai {fastai.__version__}'] = fastai_lm
    except ImportError: print("fastai not installed: timing course_lib only")
    set_seed(0)
    data = torch.randint(2, vocab, (bs, (warmup + steps*rounds)*bptt + 1))
    batches = [(data[:, i:i+bptt], data[:, i+1:i+1+bptt]) for i in range(0, data.size(1)-1, bptt)]
    names, stepper, times = list(contenders), {}, {k: [] for k in contenders}
    for k in names:
        set_seed(0); stepper[k] = make_step(contenders[k](vocab, **cfg))
        timed(stepper[k], batches[:warmup])
    for r in range(rounds):
        chunk = batches[warmup + r*steps: warmup + (r+1)*steps]      # every contender sees the same batches
        for k in names[r % len(names):] + names[:r % len(names)]: times[k] += timed(stepper[k], chunk)
    return {k: bs*bptt/statistics.median(v) for k, v in times.items()}, {k: len(v) for k, v in times.items()}

def main(vocab=20000, bs=64, bptt=70, rounds=3, threads=2, out=None):
    torch.set_num_threads(threads)
    lines = [f"AWD-LSTM LM training step (forward + flat cross-entropy + backward + Adam step), vocab {vocab}, bs {bs}, "
             f"bptt {bptt}, {torch.get_num_threads()} threads, torch {torch.__version__}; median over timed steps after 1 warm-up",
             f"{'config':40s} {'contender':16s} {'steps':>5s} {'tokens/s':>9s}"]
    print(lines[0]); print(lines[1])
    for name, cfg in CONFIGS.items():
        tps, n = bench(cfg, vocab, bs, bptt, rounds)
        for k, v in tps.items(): lines.append(f"{name:40s} {k:16s} {n[k]:5d} {v:9.0f}"); print(lines[-1])
        if len(tps) == 2:
            a, b = tps.values(); lines.append(f"{name:40s} {'ratio ours/fastai':16s} {'':5s} {a/b:9.3f}"); print(lines[-1])
    if out: Path(out).parent.mkdir(parents=True, exist_ok=True); Path(out).write_text('\n'.join(lines) + '\n')

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--vocab', type=int, default=20000); p.add_argument('--bs', type=int, default=64)
    p.add_argument('--bptt', type=int, default=70); p.add_argument('--rounds', type=int, default=3)
    p.add_argument('--threads', type=int, default=2); p.add_argument('--out', default=None)
    a = p.parse_args(); main(a.vocab, a.bs, a.bptt, a.rounds, a.threads, a.out)
