"""The root exception of the models package."""


class ModelError(ValueError):
    """A model artifact or a model input is not what was expected; the message says what arrived."""
