# Empty dependencies file for pagi-gateway.
# This may be replaced when dependencies are built.
