"""Training-step throughput of course_lib's XResNets against fastai's.

One training step = forward, cross-entropy, backward and a torch SGD (momentum 0.9) step on a fixed random batch.
For each model (xresnet18/34/50), image size (28 px with 1 channel, 64 px with 3 channels) and memory layout (fp32 in
the default NCHW layout, and fp32 channels-last), both implementations are built with the same stem widths (32, 32, 64,
fastai's), so they have exactly the same parameters; the script checks this. Every repeat rebuilds the models and times
them in alternating order (warm-up steps first, then the median of the timed steps); the report gives the median
images/s over the repeats and the ratio ours / fastai (above 1: ours is faster).
Usage: python benchmarks/xresnet_step.py [--bs 256] [--repeats 3] [--archs xresnet18,xresnet34,xresnet50] [--sizes 28,64] [--bf16]"""
import argparse, statistics, time
import torch, torch.nn.functional as F
from course_lib import xresnet as ours_mod

STEPS = {28: (1, 4), 64: (1, 2)}          # (warm-up, timed) steps per measurement: fewer at 64 px, each step is ~5x the work

def build(impl:str, arch:str, c_in:int):
    if impl == 'ours': return getattr(ours_mod, arch)(c_in=c_in, c_out=10, stem_szs=(32, 32, 64))
    from fastai.vision.models import xresnet as fastai_mod
    return getattr(fastai_mod, arch)(c_in=c_in, n_out=10)

def images_per_s(model, size:int, c_in:int, bs:int, channels_last:bool, bf16:bool) -> float:
    torch.manual_seed(0)
    x, y = torch.randn(bs, c_in, size, size), torch.randint(0, 10, (bs,))
    if channels_last: model, x = model.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    model.train()
    warmup, steps = STEPS.get(size, (1, 2))
    times = []
    for i in range(warmup + steps):
        t = time.perf_counter()
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16): loss = F.cross_entropy(model(x), y)
        loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
        if i >= warmup: times.append(time.perf_counter() - t)
    return bs / statistics.median(times)

def main(bs=256, repeats=3, archs=('xresnet18', 'xresnet34', 'xresnet50'), sizes=(28, 64), bf16=False):
    impls = ['ours']
    try: import fastai; impls.append('fastai'); fastai_version = fastai.__version__
    except ImportError: print("fastai is not installed: timing ours only (pip install fastai for the comparison)")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch size {bs}, {repeats} repeats"
          + (f", fastai {fastai_version}" if len(impls) > 1 else "") + (", bf16 autocast" if bf16 else ", fp32"), flush=True)
    rows, t_start = [], time.time()
    for size in sizes:
        c_in = 1 if size <= 32 else 3
        for arch in archs:
            n_params = {impl: sum(p.numel() for p in build(impl, arch, c_in).parameters()) for impl in impls}
            if len(set(n_params.values())) > 1: raise RuntimeError(f"{arch}: the two models differ: {n_params} parameters")
            for cl in (False, True):
                res = {impl: [] for impl in impls}
                for r in range(repeats):
                    for impl in (impls if r % 2 == 0 else impls[::-1]):
                        res[impl].append(images_per_s(build(impl, arch, c_in), size, c_in, bs, cl, bf16))
                med = {impl: statistics.median(v) for impl, v in res.items()}
                ratio = med['ours']/med['fastai'] if 'fastai' in med else float('nan')
                rows.append((arch, size, 'channels_last' if cl else 'NCHW', med['ours'], med.get('fastai', float('nan')), ratio))
                print(f"{arch:10s} {size:3d}px {rows[-1][2]:13s} ours {med['ours']:7.0f} img/s   fastai {med.get('fastai', float('nan')):7.0f} img/s"
                      f"   ratio {ratio:.2f}   (runs: ours {', '.join(f'{v:.0f}' for v in res['ours'])}"
                      + (f"; fastai {', '.join(f'{v:.0f}' for v in res['fastai'])})" if 'fastai' in res else ')'), flush=True)
    ratios = [r[-1] for r in rows if r[-1] == r[-1]]
    if ratios: print(f"\nratio ours/fastai: median {statistics.median(ratios):.2f}, min {min(ratios):.2f}, max {max(ratios):.2f} over {len(ratios)} settings")
    print(f"total {time.time() - t_start:.0f}s")
    return rows

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--bs', type=int, default=256)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--archs', default='xresnet18,xresnet34,xresnet50')
    p.add_argument('--sizes', default='28,64')
    p.add_argument('--bf16', action='store_true', help='run the forward pass under bfloat16 autocast')
    a = p.parse_args()
    main(a.bs, a.repeats, a.archs.split(','), [int(s) for s in a.sizes.split(',')], a.bf16)
