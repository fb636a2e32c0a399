"""Plain-Python detection pipeline: decode -> faces -> classify -> aggregate.

Nothing in this package imports Django, so it can be run, tested and benchmarked alone.
"""

from .analyse import Analyser, analyse_video
from .errors import PipelineError
from .spec import ModelSpec
from .types import AnalysisConfig, VideoResult

__all__ = [
    "Analyser",
    "AnalysisConfig",
    "ModelSpec",
    "PipelineError",
    "VideoResult",
    "analyse_video",
]
