"""Typed errors for input the pipeline cannot analyse.

Each carries a message written for the person who uploaded the file; callers store it as the
job's error and show it as is.
"""


class PipelineError(Exception):
    """Base class: the input cannot be analysed (not a bug in our code)."""

    code = "unanalysable"


class EmptyFile(PipelineError):
    code = "empty_file"


class NotAVideo(PipelineError):
    code = "not_a_video"


class NoFramesDecoded(PipelineError):
    code = "no_frames"


class VideoTooLong(PipelineError):
    code = "too_long"


class VideoTooLarge(PipelineError):
    code = "too_large"


class ModelLoadError(PipelineError):
    code = "model_unavailable"
