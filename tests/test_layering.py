"The library's layers: each module imports only modules of lessons before its own (core → data → learner → techniques → models → text → ULMFiT)."
import re
from pathlib import Path

LIB = Path(__file__).resolve().parent.parent/'course_lib'

def lesson(mod:Path) -> str:
    "The notebook a module is exported from, e.g. '13_train_imagenette'."
    m = re.search(r'File to edit: \.\./nbs/(\w+)\.ipynb', mod.read_text())
    assert m, f"{mod.name} does not say which notebook it comes from"
    return m[1]

def test_modules_import_only_earlier_lessons():
    mods = {p.stem: p for p in LIB.glob('*.py') if not p.name.startswith('_')}
    order = {name: lesson(p) for name, p in mods.items()}
    bad = []
    for name, p in mods.items():
        for imp in re.findall(r'^\s*from (?:course_lib)?\.?(\w+) import', p.read_text(), re.M):
            if imp in order and imp != name and order[imp] >= order[name]:
                bad.append(f"{name} ({order[name]}) imports {imp} ({order[imp]})")
    assert not bad, "imports that go up the layers:\n" + '\n'.join(bad)
