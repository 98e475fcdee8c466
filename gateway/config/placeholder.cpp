// replaced by the config loader
