"""``mx.gluon.contrib.estimator``: MXNet 1.9.1's high-level training loop (Estimator, event
handlers, BatchProcessor)."""
from .estimator import Estimator
from .event_handler import (TrainBegin, TrainEnd, EpochBegin, EpochEnd, BatchBegin, BatchEnd,
                            StoppingHandler, MetricHandler, ValidationHandler, LoggingHandler,
                            CheckpointHandler, EarlyStoppingHandler, GradientUpdateHandler)
from .batch_processor import BatchProcessor
from .utils import EstimatorError

__all__ = ["Estimator", "BatchProcessor", "TrainBegin", "TrainEnd", "EpochBegin", "EpochEnd",
           "BatchBegin", "BatchEnd", "StoppingHandler", "MetricHandler", "ValidationHandler",
           "LoggingHandler", "CheckpointHandler", "EarlyStoppingHandler", "GradientUpdateHandler",
           "EstimatorError"]
