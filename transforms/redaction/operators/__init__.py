"""The built-in redaction operators, one module each; importing this package registers them."""

from transforms.redaction.operators import (  # noqa: F401 - imported to register
    date_shift,
    generalize,
    hash,
    mask,
    remove,
    surrogate,
    tag,
)
