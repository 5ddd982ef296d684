"""How `show_doc` shows the course's API on these pages: nbdev's renderer with three fixes.

- A class shows as `class Name(Base):`, with `__init__`'s parameters when it has its own, not as a function of
  `*args, **kwargs`.
- A parameter without an annotation shows none: not one inferred from its default (`NoneType`, `function`).
- A comment after `**kwargs` documents `**kwargs`, not the return value.

A default value that has a name in its module shows by that name (`opt_func=adam_opt`), not by its repr.

`pyproject.toml` names it (`renderer` in `[tool.nbdev]`); the notebooks import it from this folder."""
import inspect, re, sys
from nbdev.showdoc import BasicMarkdownRenderer

class _Named:
    "A default value shown by the name it has in its module (`adam_opt`), not by its repr."
    def __init__(self, name): self.__name__ = name

def _name_of(o, module:str) -> str|None:
    "The name `o` is bound to in `module`, if any."
    return next((k for k, v in vars(sys.modules.get(module, sys)).items() if v is o and not k.startswith('_')), None)

def _param(p:inspect.Parameter) -> str:
    "`name:annotation=default`, with string and forward-reference annotations written as they were in the source."
    a = p.annotation
    a = getattr(a, '__forward_arg__', a) if a is not p.empty else None
    a = a if a is None or isinstance(a, str) else inspect.formatannotation(a)
    return p.name + (f':{a}' if a else '') + (f'={p.default!r}' if p.default is not p.empty else '')

def _kwargs_comment(sym) -> str|None:
    "The comment written after `**name,` in the source of `sym`, if any."
    try: src = inspect.getsource(sym)
    except (OSError, TypeError): return None
    m = re.search(r'\*\*\w+\s*,?\s*#\s*(.*)', src)
    return m[1].strip() if m else None

def _own_init(cls) -> bool:
    "Does `cls` (or a base written in Python) define how it is built?"
    return any(k in vars(c) for c in cls.__mro__ if c.__module__ != 'builtins' for k in ('__init__', '__new__'))

class Renderer(BasicMarkdownRenderer):
    def __init__(self, sym, *args, **kwargs):
        super().__init__(sym, *args, **kwargs)
        dm = getattr(self.dm, 'dm', {})
        try: real = inspect.signature(sym).parameters
        except (ValueError, TypeError): real = {}
        for k, p in dm.items():
            if k in real and real[k].annotation is inspect.Parameter.empty: p['anno'] = inspect.Parameter.empty
            d = p.get('default', inspect.Parameter.empty)
            if callable(d) and not hasattr(d, '__name__') and (n := _name_of(d, getattr(sym, '__module__', ''))):
                p['default'] = _Named(n)
        kw = [k for k, p in dm.items() if p.get('kind') == inspect.Parameter.VAR_KEYWORD]
        if kw and not dm[kw[0]].get('docment') and (c := _kwargs_comment(sym)):
            dm[kw[0]]['docment'] = c
            if 'return' in dm and dm['return'].get('docment') == c: dm['return']['docment'] = None

    def _repr_markdown_(self):
        md = super()._repr_markdown_()
        if not inspect.isclass(self.sym): return md
        bases = ', '.join(b.__name__ for b in self.sym.__bases__ if b is not object)
        head = f"class {self.sym.__name__}({bases}):" if bases else f"class {self.sym.__name__}:"
        def fix(m):
            code = m[1]
            if not _own_init(self.sym) or '(' not in code: return f"```python\n{head}\n```"
            params = code.split('(', 1)[1]
            if params.split(')')[0].split() == ['*args,', '**kwargs'] and (sig := str(inspect.signature(self.sym))) != '(*args, **kwargs)':
                params = '\n    ' + ',\n    '.join(map(_param, inspect.signature(self.sym).parameters.values())) + '\n):'   # a NamedTuple's fields
            return f"```python\n{head}\n    def __init__(self,{params.replace(chr(10), chr(10) + '    ')}\n```"
        return re.sub(r'```python\n(.*?)\n```', fix, md, count=1, flags=re.S)
