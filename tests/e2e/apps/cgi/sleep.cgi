#!/bin/sh
# Never answers (until killed).
exec sleep 600
