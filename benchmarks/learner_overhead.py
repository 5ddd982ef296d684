"""Learner overhead: our `Learner.fit` against a plain PyTorch loop (and fastai's Learner when installed).

Same model, data loaders, optimizer (torch SGD, momentum 0.9), seed and epochs for every contender; each run trains
and validates with accuracy. The order of contenders is rotated each repeat; we report medians, the ratio of the
medians, and the paired ratio (the median over repeats of each repeat's ratio to plain PyTorch, which cancels slow drifts
of a shared machine).
Usage: python benchmarks/learner_overhead.py [--n-train 12000] [--epochs 1] [--repeats 5]"""
import argparse, statistics, time
from functools import partial
import torch, torch.nn as nn, torch.nn.functional as F
from course_lib.core import set_seed
from course_lib.datasets import fashion_mnist
from course_lib.data import Dataset, DataBunch, get_dls
from course_lib.learner import Learner, AvgStatsCallback, accuracy, simple_cnn

def make_data(n_train, bs):
    x_train, y_train, x_valid, y_valid = fashion_mnist()
    prep = lambda x: ((x.float()/255 - 0.2860)/0.3530).unsqueeze(1)
    return get_dls(Dataset(prep(x_train[:n_train]), y_train[:n_train]), Dataset(prep(x_valid), y_valid), bs=bs)

def plain(train_dl, valid_dl, epochs, lr):
    set_seed(0); model = simple_cnn(); opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    for _ in range(epochs):
        model.train()
        for xb, yb in train_dl:
            loss = F.cross_entropy(model(xb), yb); loss.backward(); opt.step(); opt.zero_grad()
        model.eval(); tot_loss, tot_acc, n = 0., 0., 0
        with torch.no_grad():
            for xb, yb in valid_dl:
                pred = model(xb); bn = len(yb)
                tot_loss += F.cross_entropy(pred, yb)*bn; tot_acc += accuracy(pred, yb)*bn; n += bn
    return float(tot_acc/n)

def ours(train_dl, valid_dl, epochs, lr):
    set_seed(0)
    learn = Learner(simple_cnn(), DataBunch(train_dl, valid_dl), lr=lr, opt_func=partial(torch.optim.SGD, momentum=0.9),
                    cbs=AvgStatsCallback([accuracy]))
    learn.quiet = True
    learn.fit(epochs)
    return learn.avg_stats.log[-1]['valid_accuracy']

def fastai_learner(train_dl, valid_dl, epochs, lr):
    from fastai.data.core import DataLoaders
    from fastai.learner import Learner as FLearner
    from fastai.optimizer import OptimWrapper
    from fastai.metrics import accuracy as facc
    import fastai.callback.progress  # noqa: F401  (adds Learner.no_bar; its bar is then switched off)
    set_seed(0)
    learn = FLearner(DataLoaders(train_dl, valid_dl), simple_cnn(), loss_func=F.cross_entropy, metrics=facc,
                     opt_func=partial(OptimWrapper, opt=partial(torch.optim.SGD, momentum=0.9)))
    with learn.no_bar(), learn.no_logging(): learn.fit(epochs, lr)
    return float(learn.recorder.values[-1][-1])

def main(n_train=12000, epochs=1, repeats=5, bs=128, lr=0.1):
    torch.set_num_threads(torch.get_num_threads())
    train_dl, valid_dl = make_data(n_train, bs)
    contenders = {'plain PyTorch': plain, 'course_lib Learner': ours}
    try: import fastai; contenders[f'fastai {fastai.__version__} Learner'] = fastai_learner
    except ImportError: print("fastai not installed: comparing with plain PyTorch only")
    times, accs = {k: [] for k in contenders}, {}
    names = list(contenders)
    for r in range(repeats):
        for k in names[r % len(names):] + names[:r % len(names)]:     # rotate the order each repeat
            t0 = time.perf_counter(); accs[k] = contenders[k](train_dl, valid_dl, epochs, lr); times[k].append(time.perf_counter() - t0)
    base = statistics.median(times['plain PyTorch'])
    print(f"Fashion-MNIST, {n_train} train + {len(valid_dl.dataset)} valid images, simple_cnn, bs {bs}, {epochs} epoch(s), "
          f"{repeats} repeats, {torch.get_num_threads()} threads")
    print(f"{'contender':28s} {'median s':>9s} {'min s':>7s} {'ratio':>6s} {'paired':>7s} {'valid acc':>9s}")
    for k in names:                  # ratio: of the medians; paired: the median over repeats of this repeat's ratio
        med = statistics.median(times[k])
        paired = statistics.median(t/b for t, b in zip(times[k], times['plain PyTorch']))
        print(f"{k:28s} {med:9.2f} {min(times[k]):7.2f} {med/base:6.3f} {paired:7.3f} {accs[k]:9.4f}")

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--n-train', type=int, default=12000); p.add_argument('--epochs', type=int, default=1)
    p.add_argument('--repeats', type=int, default=5)
    a = p.parse_args(); main(a.n_train, a.epochs, a.repeats)
