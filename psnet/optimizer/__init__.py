"""``mx.optimizer``: the optimizer registry, the update rules and the Updater.

``mx.optimizer.create('sgd', learning_rate=0.1)`` or ``Optimizer.create_optimizer``
builds a registered optimizer; ``@mx.optimizer.register`` adds one; ``to_config`` /
:func:`from_config` carry one as plain data (to a parameter server).
"""
from .optimizer import Optimizer, register, create, from_config, UnknownOptimizerError
from .sgd import SGD, NAG, Signum, DCASGD
from .adam import Adam, Adamax, Nadam, LAMB, FTML
from .adagrad import AdaGrad, AdaDelta, RMSProp, Ftrl
from .large_batch import LARS, LBSGD, SGLD
from .updater import Updater, get_updater

__all__ = ["Optimizer", "register", "create", "from_config", "UnknownOptimizerError", "SGD",
           "NAG", "Signum", "DCASGD", "Adam", "Adamax", "Nadam", "LAMB", "FTML", "AdaGrad",
           "AdaDelta", "RMSProp", "Ftrl", "LARS", "LBSGD", "SGLD", "Updater", "get_updater"]
