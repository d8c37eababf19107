"""The one exception type the converter raises for bad input."""


class ConversionError(Exception):
    """A problem with the input model (missing file, corrupt data, unsupported spec).

    The message names the file and the problem; the command-line entry point prints it and exits
    with a non-zero status instead of showing a traceback.
    """
