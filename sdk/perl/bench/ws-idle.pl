#!/usr/bin/perl
# Memory of idle WebSocket scopes in one worker, without sockets: opens
# COUNT websocket scopes running bench/apps/ws_echo.pl (accepted, then
# waiting in $receive) and prints the RSS growth per scope.
#   perl -Isdk/perl/lib sdk/perl/bench/ws-idle.pl [COUNT]
use strict;
use warnings;
use FindBin;
use Future;
use PAGI::Gateway::Worker;
use PAGI::Gateway::Worker::Codec;
use PAGI::Gateway::Worker::AppLoader;

my $count = shift // 5000;
my $app = PAGI::Gateway::Worker::AppLoader::load($ENV{BENCH_APP} // "$FindBin::RealBin/../../../bench/apps/ws_echo.pl");
my $w = PAGI::Gateway::Worker->new(app => $app, fd => 0);
my $out = '';
$w->{started} = Future->new;
$w->{send} = sub { $out = '' };
$w->{ctx} = { send => $w->{send}, send_body => sub { }, send_raw => sub { },
              log => sub { print STDERR @_, "\n" }, finished => sub { delete $w->{scopes}{ $_[0] } }, settings => {} };
$w->_on_message({ scope => 0, type => 'welcome', protocolVersion => 1, workerId => 1, sendWindow => 262144,
                  receiveWindow => 262144, heartbeatIntervalMs => 1000, lifespan => 'off', maxMessageBytes => 1 << 24 });
# As the gateway's open for bench/run-ws's client, decoded.
my $frame = PAGI::Gateway::Worker::Codec::encode({ type => 'open', scopeType => 'websocket', httpVersion => '1.1',
    method => 'GET', scheme => 'ws', path => '/ws', rawPath => '/ws', scope => 1,
    headers => [ 'host', '127.0.0.1', 'upgrade', 'websocket', 'connection', 'Upgrade',
                 'sec-websocket-key', 'MDEyMzQ1Njc4OWFiY2RlZg==', 'sec-websocket-version', '13' ],
    clientHost => '127.0.0.1', clientPort => 50000, serverHost => '127.0.0.1', serverPort => 8080 });
sub rss_kib { open my $f, '<', '/proc/self/statm' or die; my @s = split ' ', <$f>; $s[1] * 4 }
my $id = 1;
my $open = sub {
    my $m = PAGI::Gateway::Worker::Codec::decode($frame);
    $m->{scope} = $id;
    $w->_on_message($m);
    $w->_on_message({ scope => $id, type => 'websocketConnect' });
    $id++;
};
$open->() for 1 .. 200;    # warm up
my $r0 = rss_kib();
$open->() for 1 .. $count;
my $r1 = rss_kib();
die "scopes not open\n" unless keys %{ $w->{scopes} } >= $count;
printf "%d idle websocket scopes: %.2f KiB RSS each\n", $count, ($r1 - $r0) / $count;
if ($ENV{BENCH_SIZES}) {
    # Bytes held by one scope's parts (Devel::Size, Debian libdevel-size-perl;
    # shared parts such as ctx are left out).
    require Devel::Size;
    my $s = $w->{scopes}{ $id - 1 };
    my %part = map { $_ => $s->{$_} } grep { $_ ne 'ctx' } keys %$s;
    local $s->{scope}{'pagi.gateway'};
    local $s->{scope}{'pagi.transport'};
    printf "  %-12s %6d\n", $_, Devel::Size::total_size($part{$_}) for sort keys %part;
    printf "  %-12s %6d\n", 'self (flat)', Devel::Size::size($s);
    my $sc = $s->{scope};
    printf "  scope.%-12s %6d\n", $_, Devel::Size::total_size($sc->{$_}) for sort keys %$sc;
    printf "  scope (flat) %6d\n", Devel::Size::size($sc);
}
