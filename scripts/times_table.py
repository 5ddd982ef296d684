"""Write the table of per-notebook times of `make lessons` runs (the JSON files `execute_nbs.py --times` writes) as Markdown.

Usage: python scripts/times_table.py [--setup SECONDS] [--docs SECONDS] LABEL=FILE [LABEL=FILE ...] > benchmarks/results/lessons_times.md"""
import argparse, json, sys

def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument('runs', nargs='+', help='LABEL=times.json')
    args = ap.parse_args(argv)
    runs = [(lab, json.load(open(f))) for lab, f in (r.split('=', 1) for r in args.runs)]
    names = list(dict.fromkeys(n['notebook'] for _, r in runs for n in r['notebooks']))
    secs = [{n['notebook']: n for n in r['notebooks']} for _, r in runs]
    fmt = lambda n: '' if n is None else ('failed' if not n['ok'] else f"{n['seconds']:.0f}")
    print('| notebook | ' + ' | '.join(lab for lab, _ in runs) + ' |')
    print('|---|' + '---:|'*len(runs))
    for name in names: print(f'| {name} | ' + ' | '.join(fmt(s.get(name)) for s in secs) + ' |')
    print('| **all notebooks** | ' + ' | '.join(f"**{r['total_seconds']:.0f}** ({r['total_seconds']/60:.1f} min)" for _, r in runs) + ' |')

if __name__ == '__main__': main()
