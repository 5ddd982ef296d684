"""MixUp and label smoothing with a longer budget: the four runs of nbs/10_mixup_label_smoothing.ipynb at more epochs.

The model (`simple_cnn`), the data (full Fashion-MNIST), the optimizer (course SGD, momentum 0.9, wd 1e-4), the
one-cycle schedule (peak lr 0.4), the batch size (128) and the seeds are the same for all four runs. Only the loss
(label smoothing ε = 0.1) and the callback (MixUp α = 0.4) change. Writes one CSV row per run; the lesson shows the file.
Usage: python benchmarks/mixup.py [--epochs 10] [--seeds 0 1] [--threads 1] [--out benchmarks/results/mixup.csv]"""
import argparse, csv, time
from functools import partial
from pathlib import Path
import torch, torch.nn.functional as F
from course_lib.core import set_seed
from course_lib.datasets import fashion_mnist
from course_lib.data import Dataset, DataBunch, get_dls
from course_lib.learner import Learner, AvgStatsCallback, DeviceCallback, accuracy, simple_cnn
from course_lib.optimizer import sgd_opt
from course_lib.schedule import sched_1cycle
from course_lib.losses import LabelSmoothingCrossEntropy
from course_lib.mixup import MixUp

CONFIGS = {'baseline': (0., 0.), 'label smoothing ε=0.1': (0.1, 0.), 'MixUp α=0.4': (0., 0.4), 'both': (0.1, 0.4)}

def make_data(bs=128):
    x_train, y_train, x_valid, y_valid = fashion_mnist()
    prep = lambda x: ((x.float()/255 - 0.2860)/0.3530).unsqueeze(1)
    return DataBunch(*get_dls(Dataset(prep(x_train), y_train), Dataset(prep(x_valid), y_valid), bs=bs), c_in=1, c_out=10)

@torch.no_grad()
def evaluate(model, dl):
    model.eval(); dev = next(model.parameters()).device
    preds, ys = zip(*[(model(xb.to(dev)).float().cpu(), yb) for xb, yb in dl])
    pred, y = torch.cat(preds), torch.cat(ys)
    return dict(valid_accuracy=(pred.argmax(1) == y).float().mean().item(),
                valid_cross_entropy=F.cross_entropy(pred, y).item(), confidence=pred.softmax(1).max(1)[0].mean().item())

def run(data, eps, alpha, epochs, seed):
    set_seed(seed)
    learn = Learner(simple_cnn(), data, loss_func=LabelSmoothingCrossEntropy(eps) if eps else F.cross_entropy,
                    opt_func=partial(sgd_opt, wd=1e-4), lr=0.4, cb_funcs=[partial(AvgStatsCallback, accuracy), DeviceCallback])
    learn.quiet = True
    t0 = time.time(); learn.fit(epochs, cbs=sched_1cycle(0.4) + ([MixUp(alpha)] if alpha else []))
    return dict(**evaluate(learn.model, data.valid_dl), train_loss=learn.avg_stats.log[-1]['train_loss'], seconds=time.time() - t0)

def main(epochs=10, seeds=(0, 1), out='benchmarks/results/mixup.csv'):
    data, rows = make_data(), []
    for seed in seeds:
        for name, (eps, alpha) in CONFIGS.items():
            rows.append(dict(run=name, epochs=epochs, seed=seed, **run(data, eps, alpha, epochs, seed)))
            print(', '.join(f'{k}={v:.4f}' if isinstance(v, float) else f'{k}={v}' for k, v in rows[-1].items()), flush=True)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    with open(out, 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0])); w.writeheader(); w.writerows(rows)
    print(f"wrote {out} ({torch.get_num_threads()} threads, device {DeviceCallback().device})")

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--epochs', type=int, default=10); p.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    p.add_argument('--threads', type=int, default=0, help='torch threads (0: torch default)')
    p.add_argument('--out', default='benchmarks/results/mixup.csv')
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    main(a.epochs, a.seeds, a.out)
