"""The language model on a CPU: fp32 against bf16 autocast, for speed and for what it learns.

1. Speed: lesson 22's model (`awd_lstm_small_config`: emb 300, hidden 300, 2 layers) with a 15,000-token vocabulary,
   bs 64, bptt 70: one training step (forward + flat cross-entropy + backward + Adam step), in fp32 and under
   `torch.autocast('cpu', torch.bfloat16)` (lesson 11's `AutocastMixedPrecision` does the same in a Learner), each with
   every parameter trained and with the LSTMs frozen (ULMFiT's first fine-tuning stage trains only the embedding and
   the decoder). The contenders alternate in rounds on the same batches; we report the median step time as tokens/s.
2. Quality: `pretrain_lm`'s one-cycle recipe on the first 40 training documents of each of lesson 22's first two corpora
   for one epoch, with `precision='fp32'` and `'bf16'` (lesson 11's `AutocastMixedPrecision`), two seeds each; held-out perplexity (evaluated in
   fp32) and wall time of the epoch.

bf16 autocast is only worth it where the CPU has bf16 instructions (AVX-512 BF16 or AMX); elsewhere oneDNN emulates
them. The machine's flags are printed with the results.
Usage: python benchmarks/lm_precision.py [--rounds 8] [--seeds 2] [--out benchmarks/results/lm_precision.txt]"""
import argparse, statistics, time
from pathlib import Path
import torch
from course_lib.core import set_seed
from course_lib.awd_lstm import get_language_model, cross_entropy_flat
from course_lib.lm import awd_lstm_small_config, corpus_lm_data, pretrain_lm, lm_validate

def cpu_flags() -> str:
    try: flags = next(l for l in open('/proc/cpuinfo') if l.startswith('flags')).split()
    except (OSError, StopIteration): return 'unknown'
    return ' '.join(f for f in ('avx2', 'avx512f', 'avx512_bf16', 'amx_bf16') if f in flags) or 'none of avx2/avx512/amx'

def make_step(bf16:bool, vocab:int, frozen:bool=False):
    set_seed(0)
    m = get_language_model(vocab, **awd_lstm_small_config)
    if frozen:
        for p in m[0].rnns.parameters(): p.requires_grad_(False)
    opt = torch.optim.Adam([p for p in m.parameters() if p.requires_grad], 1e-3); m.train(); m.reset()
    def step(x, y):
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16): loss = cross_entropy_flat(m(x)[0], y)
        loss.backward(); opt.step(); opt.zero_grad()
    return step

def speed(rounds:int, steps:int=5, vocab:int=15_000, bs:int=64, bptt:int=70) -> dict:
    data = torch.randint(2, vocab, (bs, (1 + rounds*steps)*bptt + 1))
    batches = [(data[:, i:i+bptt], data[:, i+1:i+1+bptt]) for i in range(0, data.size(1) - 1, bptt)]
    steppers = {'fp32': make_step(False, vocab), 'bf16 autocast': make_step(True, vocab),
                'fp32, LSTMs frozen': make_step(False, vocab, True), 'bf16, LSTMs frozen': make_step(True, vocab, True)}
    times = {k: [] for k in steppers}
    for s in steppers.values(): s(*batches[0])                                   # warm-up
    for r in range(rounds):
        for k in list(steppers)[r % len(steppers):] + list(steppers)[:r % len(steppers)]:     # the order rotates
            for x, y in batches[1 + r*steps: 1 + (r+1)*steps]:
                t0 = time.perf_counter(); steppers[k](x, y); times[k].append(time.perf_counter() - t0)
    return {k: bs*bptt/statistics.median(v) for k, v in times.items()}

def quality(seeds:int) -> list[tuple]:
    data, vocab = corpus_lm_data(('wiki', 'sotu'), n_train=40, n_valid=4)
    rows = []
    for seed in range(seeds):
        for name, precision in [('fp32', 'fp32'), ('bf16 autocast', 'bf16')]:
            set_seed(seed); t0 = time.perf_counter()
            learn = pretrain_lm(data, vocab, epochs=1, progress=False, precision=precision)      # lesson 22's recipe, one epoch
            secs = time.perf_counter() - t0
            r = lm_validate(learn.model, data.valid_dl)
            rows.append((seed, name, secs, r['perplexity'], r['accuracy'])); print(*rows[-1], flush=True)
    return rows

def main(rounds=8, seeds=2, threads=2, out=None):
    torch.set_num_threads(threads)
    lines = [f"lesson 22's language model on the CPU, {torch.get_num_threads()} threads, torch {torch.__version__}; CPU flags: {cpu_flags()}",
             '', f"speed: one training step, vocab 15,000, bs 64, bptt 70, median of {rounds} rounds x 5 steps after a warm-up"]
    tps = speed(rounds)
    lines += [f"  {k:20s} {v:7.0f} tokens/s" for k, v in tps.items()]
    lines += [f"  {'ratio bf16/fp32':20s} {tps['bf16 autocast']/tps['fp32']:7.2f}", '',
              f"quality: one epoch of pretrain_lm's one-cycle recipe on 40 documents per corpus (wiki, sotu), {seeds} seeds",
              f"  {'seed':>4s}  {'precision':14s} {'seconds':>8s} {'perplexity':>11s} {'accuracy':>9s}"]
    rows = quality(seeds)
    lines += [f"  {s:4d}  {n:14s} {t:8.0f} {p:11.1f} {a:9.3f}" for s, n, t, p, a in rows]
    med = lambda name, i: statistics.median(r[i] for r in rows if r[1] == name)
    lines += [f"  median epoch time ratio fp32/bf16: {med('fp32', 2)/med('bf16 autocast', 2):.2f}; "
              f"median perplexity fp32 {med('fp32', 3):.1f}, bf16 {med('bf16 autocast', 3):.1f}"]
    print('\n'.join(lines))
    if out: Path(out).parent.mkdir(parents=True, exist_ok=True); Path(out).write_text('\n'.join(lines) + '\n')

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--rounds', type=int, default=8); p.add_argument('--seeds', type=int, default=2)
    p.add_argument('--threads', type=int, default=2); p.add_argument('--out', default=None)
    a = p.parse_args(); main(a.rounds, a.seeds, a.threads, a.out)
