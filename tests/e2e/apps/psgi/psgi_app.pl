# A PSGI app in a file not named *.psgi: served with `interface: psgi`.
use strict;
use warnings;
my $app = sub {
    my ($env) = @_;
    return [ 200, [ 'Content-Type' => 'text/plain' ], [ "psgi by interface at $env->{PATH_INFO}\n" ] ];
};
$app;
