"""The root exception of the training package."""


class TrainingError(ValueError):
    """Bad input to training: the message names what was expected and what arrived."""
