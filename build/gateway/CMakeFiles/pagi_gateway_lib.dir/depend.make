# Empty dependencies file for pagi_gateway_lib.
# This may be replaced when dependencies are built.
