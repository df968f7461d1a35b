"""Model access: one :class:`~pytest_xgen.models.base.ChatModel` protocol for every endpoint."""
