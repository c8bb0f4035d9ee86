import pytest

from autolearn.testing.optimizers import check_optimizer
from autolearn.tune.optimizers import get_optimizer_class


@pytest.mark.parametrize("name", ["random", "evolution", "rl", "hypergradient", "nsga2",
                                  "sobol", "grid", "tpe", "rf", "gp", "parego"])  # cmaes: numeric spaces only
def test_optimizer_contract(name):
    check_optimizer(get_optimizer_class(name))
