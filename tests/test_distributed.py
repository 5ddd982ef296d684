"Two-process DDP runs of `course_lib.train` under torchrun on CPU (gloo): equal weights, exact metrics, a clear end when a rank dies."
import math, os, re, subprocess, sys
import pytest, torch
from course_lib.learner import Callback
from course_lib.train import parse_args, learner_from_args

ARGS = '--arch simple_cnn --n_train 2000 --n_valid 1001 --epochs 1 --bs 250 --precision fp32 --seed 3'.split()

# Each rank runs the trainer's `main`, then saves its own weights for the test to compare. With FAULT=kill, rank 1
# SIGKILLs itself at the third training batch (no cleanup, no goodbye); with FAULT=hang, it sleeps there for an hour.
RUNNER = '''
import os, sys, time, torch
from course_lib.learner import Learner
from course_lib.train import main
rank = os.environ['RANK']
if os.environ.get('FAULT') and rank == '1':
    one_batch = Learner.one_batch
    def faulty_one_batch(self, i, b):
        if self.in_train and i == 2:
            if os.environ['FAULT'] == 'kill': os.kill(os.getpid(), 9)
            else: time.sleep(3600)
        return one_batch(self, i, b)
    Learner.one_batch = faulty_one_batch
learn = main(sys.argv[1:])
torch.save(learn.model.state_dict(), os.path.join(os.environ['OUT_DIR'], f'rank{rank}.pth'))
'''

def torchrun(tmp_path, args, timeout, **env):
    "Run RUNNER in 2 processes under torchrun; return the finished process."
    (tmp_path/'runner.py').write_text(RUNNER)
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2', str(tmp_path/'runner.py'), *args]
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'OUT_DIR': str(tmp_path), **env}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=tmp_path)

class ValidateOnly(Callback):
    def begin_epoch(self): return True

def test_two_ranks_agree_and_report_the_whole_validation_set(tmp_path):
    p = torchrun(tmp_path, ARGS + ['--save', str(tmp_path/'model.pth')], timeout=240)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert p.stdout.count('train_accuracy') == 1 and '2 process(es) × 125' in p.stdout    # one table, from rank 0
    w0, w1 = (torch.load(tmp_path/f'rank{r}.pth', weights_only=True) for r in range(2))
    assert w0.keys() == w1.keys() and all(torch.equal(w0[k], w1[k]) for k in w0)          # weights and BatchNorm statistics
    log = torch.load(tmp_path/'model.pth', weights_only=True)['log']
    assert log[-1]['train_accuracy'] > 0.4 and log[-1]['valid_accuracy'] > 0.2            # it learned (chance: 0.1)
    # the reported metrics = one process validating rank 0's checkpoint on all 1,001 images (ranks saw 501 and 500)
    learn = learner_from_args(parse_args(ARGS))
    learn.load(tmp_path/'model.pth', with_opt=False); learn.quiet = True
    learn.fit(1, cbs=ValidateOnly())
    assert learn.avg_stats.valid_stats.count == 1001
    assert math.isclose(learn.avg_stats.log[-1]['valid_accuracy'], log[-1]['valid_accuracy'], abs_tol=1e-6)
    assert math.isclose(learn.avg_stats.log[-1]['valid_loss'], log[-1]['valid_loss'], rel_tol=1e-4)
    assert all(torch.equal(v, w0[k]) for k, v in learn.model.state_dict().items())

# In both tests the job must end by itself: subprocess.run raises TimeoutExpired if it is still running after `timeout`.
def test_a_killed_rank_ends_the_job_with_an_error(tmp_path):
    p = torchrun(tmp_path, ARGS + ['--timeout', '600'], timeout=150, FAULT='kill')     # ends long before the timeout
    out = p.stdout + p.stderr
    assert p.returncode != 0, out[-3000:]
    root = out.split('Root Cause')[-1]
    assert re.search(r'rank\s*: 1 ', root) and 'SIGKILL' in root, out[-3000:]              # torchrun names the dead rank
    assert not list(tmp_path.glob('rank*.pth'))                                            # neither rank finished

def test_a_hung_rank_ends_the_job_after_the_timeout(tmp_path):
    p = torchrun(tmp_path, ARGS + ['--timeout', '15'], timeout=150, FAULT='hang')       # rank 1 would sleep for an hour
    out = p.stdout + p.stderr
    assert p.returncode != 0, out[-3000:]
    root = out.split('Root Cause')[-1]
    assert re.search(r'rank\s*: 0 ', root) and re.search(r'time[d ]?out', out, re.I), out[-6000:]   # rank 0 gave up waiting
    assert not list(tmp_path.glob('rank*.pth'))

def test_bad_command_lines(monkeypatch, capsys):
    for argv, msg in [(['--recipe', 'fashon'], "invalid choice: 'fashon'"), (['--bs', '0'], 'whole number >= 1'),
                      ('--recipe imagenette --n_valid 10'.split(), 'reads a whole image folder')]:
        with pytest.raises(SystemExit): parse_args(argv)
        assert msg in capsys.readouterr().err
    monkeypatch.setenv('WORLD_SIZE', '4')
    with pytest.raises(SystemExit): parse_args(['--bs', '3'])
    assert 'too small to share among 4 processes' in capsys.readouterr().err
