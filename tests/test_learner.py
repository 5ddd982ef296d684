"Checkpoints on disk: atomic writes, refusal of pickled code, clear errors; things a notebook can't show safely."
import os, pickle, subprocess, sys, textwrap
import pytest, torch, torch.nn as nn
from course_lib.learner import save_checkpoint, load_checkpoint, CheckpointError

def model(): return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))

class Evil:
    def __reduce__(self): return (os.system, ('echo pwned > pwned.txt',))

def test_pickled_code_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.save({'model': model().state_dict(), 'evil': Evil()}, tmp_path/'evil.pth')
    m = model(); before = {k: v.clone() for k, v in m.state_dict().items()}
    with pytest.raises(CheckpointError, match='not a readable checkpoint'): load_checkpoint(tmp_path/'evil.pth', m)
    assert not (tmp_path/'pwned.txt').exists()
    for k, v in m.state_dict().items(): assert torch.equal(v, before[k])

def test_not_a_checkpoint(tmp_path):
    (tmp_path/'notes.pth').write_text('hello')
    with pytest.raises(CheckpointError, match='notes.pth'): load_checkpoint(tmp_path/'notes.pth', model())
    torch.save([1, 2, 3], tmp_path/'list.pth')
    with pytest.raises(CheckpointError, match="no 'model' state dict"): load_checkpoint(tmp_path/'list.pth', model())
    with pytest.raises(FileNotFoundError): load_checkpoint(tmp_path/'missing.pth', model())

def test_failed_write_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    m = model(); save_checkpoint(tmp_path/'ck.pth', m); good = (tmp_path/'ck.pth').read_bytes()
    def broken_save(obj, f): f.write(b'half a checkpoint'); raise OSError('disk full')
    monkeypatch.setattr(torch, 'save', broken_save)
    with pytest.raises(OSError, match='disk full'): save_checkpoint(tmp_path/'ck.pth', model())
    assert (tmp_path/'ck.pth').read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ['ck.pth']          # no temp file left behind

def test_killed_writer_keeps_the_old_checkpoint(tmp_path):
    "A process killed while writing (SIGKILL, no cleanup) leaves the previous checkpoint loadable."
    m = model(); save_checkpoint(tmp_path/'ck.pth', m)
    script = textwrap.dedent(f"""
        import os, signal, torch, torch.nn as nn
        from course_lib.learner import save_checkpoint
        real = torch.save
        def dying_save(obj, f): f.write(b'partial'); f.flush(); os.kill(os.getpid(), signal.SIGKILL)
        torch.save = dying_save
        save_checkpoint({str(tmp_path/'ck.pth')!r}, nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)))
    """)
    r = subprocess.run([sys.executable, '-c', script], capture_output=True, timeout=120)
    assert r.returncode == -9
    m2 = model(); load_checkpoint(tmp_path/'ck.pth', m2)
    for k, v in m.state_dict().items(): assert torch.equal(m2.state_dict()[k], v)

def test_mismatch_lists_every_kind(tmp_path):
    save_checkpoint(tmp_path/'ck.pth', nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2), nn.Linear(2, 2)))
    with pytest.raises(CheckpointError) as e: load_checkpoint(tmp_path/'ck.pth', nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5)))
    msg = str(e.value)
    assert 'missing keys' in msg and '1.running_mean' in msg
    assert 'unexpected keys' in msg and '2.bias' in msg and 'shape mismatches' in msg and '0.weight: checkpoint (4, 3) vs model (5, 3)' in msg
