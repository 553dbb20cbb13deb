"""A client of the ringex binary protocol written from protocol/SPEC.md alone: a socket,
the struct module and the spec's tables. It imports nothing of the project, so the
system tests that drive it check the specification, not the project's own codecs."""
