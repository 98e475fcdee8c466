#!/bin/sh
printf 'Location: http://example.test/elsewhere\n\n'
