"""``litellm.types``: its result types are in :mod:`.utils`."""

from . import utils as utils
