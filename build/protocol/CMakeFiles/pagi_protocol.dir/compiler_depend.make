# Empty compiler generated dependencies file for pagi_protocol.
# This may be replaced when dependencies are built.
