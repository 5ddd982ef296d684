"""Mixed precision speed: training throughput (images/s) of a ResNet-18-sized conv net, fp32 against mixed precision.

Model: torchvision's `resnet18(num_classes=10)`, a stand-in for lesson 12's xresnet18 (same depth and widths; the
xresnet lesson is written separately). Data: random 3×SIZE×SIZE images and labels made once, already on the device,
so only the training step is timed. Optimizer: torch SGD (momentum 0.9). Each configuration trains through our
`Learner` with its callback: one fit of `warmup + runs*steps` batches; each run's throughput is timed over `steps`
batches (the device synchronised at its ends); we report the median over the runs and the ratio to fp32.

CPU configurations: fp32 and bf16 autocast (`AutocastMixedPrecision`), each in NCHW and channels_last memory format;
`--cpu-fp16` adds fp16 from scratch (`MixedPrecision`) and fp16 autocast + GradScaler (slow on a CPU).
CUDA configurations (only when CUDA is available, or with --device cuda): fp32, fp16 from scratch, fp16 autocast +
GradScaler, bf16 autocast, each in both memory formats.
Usage: python benchmarks/mixed_precision.py [--device cpu|cuda] [--size 64] [--bs 32] [--steps 3] [--runs 5] [--cpu-fp16] [--threads N]"""
import argparse, platform, statistics, time
import torch, torch.nn as nn
from torchvision.models import resnet18
from course_lib.core import set_seed
from course_lib.data import DataBunch
from course_lib.learner import Learner, Callback
from course_lib.fp16 import MixedPrecision, AutocastMixedPrecision

class StepTimer(Callback):
    "Time `runs` runs of `steps` training batches each, after `warmup` batches; skip validation."
    _order = 1000
    def __init__(self, warmup, steps, device): self.warmup, self.steps, self.device, self.times = warmup, steps, device, []
    def _now(self):
        if self.device.type == 'cuda': torch.cuda.synchronize()
        return time.perf_counter()
    def begin_fit(self): self.t0 = self._now() if self.warmup == 0 else None
    def after_batch(self):
        i = self.n_iter - self.warmup                          # n_iter already counts this batch
        if i >= 0 and i % self.steps == 0:
            t = self._now()
            if self.t0 is not None: self.times.append(t - self.t0)
            self.t0 = t
    def begin_validate(self): return True

def configs(device, cpu_fp16):
    cfgs = {'fp32': list}
    if device.type == 'cuda' or cpu_fp16:
        cfgs['fp16 from scratch'] = lambda: [MixedPrecision()]
        cfgs['fp16 autocast + GradScaler'] = lambda: [AutocastMixedPrecision(torch.float16)]
    cfgs['bf16 autocast'] = lambda: [AutocastMixedPrecision(torch.bfloat16)]
    return cfgs

def throughput(make_cbs, channels_last, device, size, bs, warmup, steps, runs):
    "Median images/s over `runs` timed runs of `steps` batches."
    set_seed(0)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = resnet18(num_classes=10).to(device, memory_format=fmt)
    x = torch.randn(bs, 3, size, size, device=device).contiguous(memory_format=fmt)
    y = torch.randint(0, 10, (bs,), device=device)
    batches = [(x, y)] * (warmup + runs*steps)
    timer = StepTimer(warmup, steps, device)
    learn = Learner(model, DataBunch(batches, [(x, y)]), lr=0.01,
                    opt_func=lambda ps, lr: torch.optim.SGD(ps, lr=lr, momentum=0.9), cbs=make_cbs() + [timer])
    learn.fit(1)
    return [bs*steps/t for t in timer.times]

def cpu_flags() -> str:
    try: flags = set(open('/proc/cpuinfo').read().split())
    except OSError: return 'unknown'
    return ', '.join(f for f in ['avx512f', 'avx512_bf16', 'amx_bf16', 'avx512_fp16', 'amx_fp16'] if f in flags) or 'none of avx512/amx'

def main(device='cpu', size=64, bs=32, warmup=2, steps=3, runs=5, cpu_fp16=False):
    device = torch.device(device)
    if device.type == 'cuda' and not torch.cuda.is_available(): raise SystemExit("--device cuda, but CUDA is not available here")
    name = torch.cuda.get_device_name(device) if device.type == 'cuda' else f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, flags: {cpu_flags()}, torch CPU capability: {torch.backends.cpu.get_cpu_capability()}"
    print(f"resnet18(num_classes=10), {bs}×3×{size}×{size} random images, SGD momentum 0.9, torch {torch.__version__}")
    print(f"device: {device} ({name}); {warmup} warm-up batches, then the median of {runs} runs of {steps} batches")
    print(f"{'configuration':28s} {'memory format':14s} {'images/s':>9s} {'min':>7s} {'max':>7s} {'vs fp32':>8s} {'vs fp32 NCHW':>13s}")
    base = {}
    for cl in (False, True):
        for cfg, make_cbs in configs(device, cpu_fp16).items():
            t0 = time.perf_counter()
            ips = throughput(make_cbs, cl, device, size, bs, warmup, steps, runs)
            med = statistics.median(ips)
            base.setdefault(cl, med)
            fmt = 'channels_last' if cl else 'NCHW'
            print(f"{cfg:28s} {fmt:14s} {med:9.1f} {min(ips):7.1f} {max(ips):7.1f} {med/base[cl]:7.2f}× {med/base[False]:12.2f}×  ({time.perf_counter()-t0:.0f}s)", flush=True)
    print("(vs fp32: against fp32 in the same memory format)")

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--size', type=int, default=64); p.add_argument('--bs', type=int, default=32)
    p.add_argument('--warmup', type=int, default=2); p.add_argument('--steps', type=int, default=3)
    p.add_argument('--runs', type=int, default=5); p.add_argument('--cpu-fp16', action='store_true')
    p.add_argument('--threads', type=int, default=None, help='torch CPU threads (default: torch\'s choice)')
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    main(a.device, a.size, a.bs, a.warmup, a.steps, a.runs, a.cpu_fp16)
