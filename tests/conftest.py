"""Fixtures shared by the test modules. A module opts in with `pytestmark = pytest.mark.usefixtures('one_thread')`."""
import pytest, torch

@pytest.fixture(scope='module')
def one_thread():
    "Tiny tensors: one thread is faster, and much faster on a busy shared CPU (OpenMP threads wait for each other)."
    n = torch.get_num_threads(); torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
