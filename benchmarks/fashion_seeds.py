"""Test accuracy of a Fashion-MNIST recipe over several seeds: the spread that a single run hides.

For each seed, trains `recipes[NAME]` from course_lib.vision from scratch: on the 60,000 training images, evaluated
on the 10,000 test images (`--valid test`), or on the first 50,000 training images, evaluated on the last 10,000
(`--valid holdout`, for choosing a recipe without the test set). It reports the final accuracy without and with flip
TTA, and the seconds per epoch. Then it gives the mean, the sample standard deviation, the min and the max over seeds.
`--set` and `--aug` change the recipe, e.g. `--set epochs=20 --aug shifts_and_flips` for twenty epochs of the
five-epoch recipe with random shifts. The results file is rewritten after every seed, so an interrupted run keeps the
seeds it finished.
Usage: python benchmarks/fashion_seeds.py [--recipe fashion] [--seeds 0,1,2] [--valid test] [--set FIELD=VALUE ...]
       [--aug flip|shifts_and_flips] [--out FILE]"""
import argparse, dataclasses, statistics, time
from datetime import date
from functools import partial
from pathlib import Path
import torch
from course_lib.core import set_seed
from course_lib.augment import flip_batch
from course_lib.vision import recipes, shifts_and_flips, FlipTTA

def run(r, seed:int, valid:str) -> dict:
    "One training run of the Recipe `r` with `seed`: accuracy without and with flip TTA, seconds per epoch."
    set_seed(seed)
    learn = r.learner(r.data(valid=valid), progress=False)
    learn.quiet = True
    t0 = time.time(); r.fit(learn)
    secs, acc = time.time() - t0, learn.avg_stats.log[-1]['valid_accuracy']
    learn.fit(1, cbs=FlipTTA())
    return dict(seed=seed, acc=acc, tta=learn.avg_stats.log[-1]['valid_accuracy'], s_per_epoch=secs/r.epochs)

def describe(r) -> str:
    "The settings of a Recipe that change between the Fashion-MNIST recipes."
    def name(o):
        if isinstance(o, partial): return f"{o.func.__name__}({', '.join(f'{k}={v!r}' for k, v in o.keywords.items())})"
        if hasattr(o, 'tfms'): return ' + '.join(map(name, o.tfms))          # a BatchAugment
        return getattr(o, '__name__', None) or repr(o)
    return (f"{name(r.arch)}, {r.epochs} epochs, bs {r.bs}, peak lr {r.lr}, pct_start {r.pct_start}, "
            f"label smoothing {getattr(r.loss_func, 'eps', 0.)}, aug {name(r.aug)}, mixup {r.mixup}")

def summary(runs:list, key:str) -> str:
    v = [o[key]*100 for o in runs]
    sd = f", sd {statistics.stdev(v):.2f}" if len(v) > 1 else ""
    return f"mean {statistics.mean(v):.2f}%{sd}, min {min(v):.2f}, max {max(v):.2f} over {len(v)} seed(s)"

AUGS = {'flip': flip_batch, 'shifts_and_flips': shifts_and_flips}

def main(recipe_name='fashion', seeds=(0, 1, 2), valid='test', sets=(), aug=None, out=None):
    r = recipes[recipe_name]
    for kv in sets:
        k, v = kv.split('=')
        kind = type(getattr(r, k, None))                  # the field's current value says how to parse the new one
        if kind not in (int, float): raise SystemExit(f"--set: {k!r} is not a numeric field of Recipe")
        r = dataclasses.replace(r, **{k: kind(v)})
    if aug: r = dataclasses.replace(r, aug=AUGS[aug])
    head = (f"# python benchmarks/fashion_seeds.py --recipe {recipe_name} --seeds {','.join(map(str, seeds))} --valid {valid}"
            + (f" --set {' '.join(sets)}" if sets else "") + (f" --aug {aug}" if aug else "") + f", run {date.today()}\n"
            f"# torch {torch.__version__}, {torch.get_num_threads()} threads; {describe(r)}\n")
    print(head, end='', flush=True)
    runs, lines = [], []
    for seed in seeds:
        runs.append(run(r, seed, valid))
        o = runs[-1]
        lines.append(f"seed {seed}: accuracy {o['acc']*100:.2f}%, with flip TTA {o['tta']*100:.2f}%, {o['s_per_epoch']:.0f} s per epoch")
        print(lines[-1], flush=True)
        tail = f"without TTA: {summary(runs, 'acc')}\nwith flip TTA: {summary(runs, 'tta')}\n"
        if out: Path(out).write_text(head + '\n'.join(lines) + '\n\n' + tail)
    print('\n' + tail, end='')
    return runs

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--recipe', default='fashion', help="a key of course_lib.vision.recipes (default: fashion)")
    p.add_argument('--seeds', default='0,1,2')
    p.add_argument('--valid', default='test', choices=['test', 'holdout'])
    p.add_argument('--set', nargs='*', default=[], metavar='FIELD=VALUE', help="change numeric fields of the recipe, e.g. epochs=20 bs=128")
    p.add_argument('--aug', choices=list(AUGS), help="change the recipe's batch augmentation")
    p.add_argument('--out', default=None, help='default: benchmarks/results/fashion_seeds_<recipe>_<valid>.txt')
    a = p.parse_args()
    main(a.recipe, [int(s) for s in a.seeds.split(',')], a.valid, a.set, a.aug,
         a.out or f"benchmarks/results/fashion_seeds_{a.recipe}_{a.valid}{'_modified' if a.set or a.aug else ''}.txt")
