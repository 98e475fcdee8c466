# pagi.transport: buffered amount, watermarks, on_high_water/on_drain hysteresis.
use strict;
use warnings;
use Test2::V0;
use PAGI::Gateway::Worker::Transport;

my $t = PAGI::Gateway::Worker::Transport->new(high_water_mark => 1000);
is $t->buffered_amount, 0;
is $t->high_water_mark, 1000;
is $t->low_water_mark, 500;
my @log;
$t->on_high_water(sub { push @log, 'high:' . $t->buffered_amount });
$t->on_drain(sub { push @log, 'drain:' . $t->buffered_amount });
$t->_set_buffered(999);
is \@log, [], 'below the high mark';
$t->_set_buffered(1000);
is \@log, ['high:1000'], 'high fires at the mark';
$t->_set_buffered(1500);
$t->_set_buffered(600);
$t->_set_buffered(1200);
is \@log, ['high:1000'], 'no flapping between the marks';
$t->_set_buffered(500);
is \@log, ['high:1000'], 'drain needs to fall below the low mark';
$t->_set_buffered(499);
is \@log, [ 'high:1000', 'drain:499' ];
$t->_set_buffered(0);
is \@log, [ 'high:1000', 'drain:499' ], 'drain fires once';
$t->_set_buffered(1000);
is \@log, [ 'high:1000', 'drain:499', 'high:1000' ], 'the cycle re-arms';

my @late;
$t->on_high_water(sub { push @late, 'high-now' });
is \@late, ['high-now'], 'registered while above the mark: fires at once';
my $t2 = PAGI::Gateway::Worker::Transport->new(high_water_mark => 10);
$t2->on_drain(sub { push @late, 'drain-now' });
is \@late, ['high-now'], 'on_drain does not fire at registration';
done_testing;
