# Empty dependencies file for pagi_workers.
# This may be replaced when dependencies are built.
