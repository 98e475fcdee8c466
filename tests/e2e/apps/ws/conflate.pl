# Flow-control conflation (PAGI spec, Transport Flow Control): after accept,
# the app produces N updates of SIZE bytes as fast as it can (query n=, size=;
# defaults 2000 and 4096) but skips an update whenever pagi.transport says
# the client is behind (buffered amount over half the high-water mark).
# A slow reader therefore sees fresh but sparse updates. At the end it sends
# the text "done sent=S skipped=K high=H" and closes with 1000.
use strict;
use warnings;
use Future::AsyncAwait;
use Future::IO;

sub param {
    my ($scope, $name, $default) = @_;
    return $scope->{query_string} =~ /(?:^|&)\Q$name\E=(\d+)/ ? $1 : $default;
}

return async sub {
    my ($scope, $receive, $send) = @_;
    die "no lifespan\n" if $scope->{type} eq 'lifespan';
    die "websocket only\n" unless $scope->{type} eq 'websocket';
    await $receive->();
    await $send->({ type => 'websocket.accept' });
    my $t = $scope->{'pagi.transport'};
    my $ceiling = $t ? ($t->high_water_mark // 65536) : 65536;
    my ($n, $size) = (param($scope, 'n', 2000), param($scope, 'size', 4096));
    my ($sent, $skipped) = (0, 0);
    my $gone = 0;
    my $watch = (async sub { my $ev; do { $ev = await $receive->() } until $ev->{type} eq 'websocket.disconnect'; $gone = 1 })->();
    for my $i (1 .. $n) {
        last if $gone;
        if ($t && $t->buffered_amount > $ceiling / 2) {
            $skipped++;
            await Future::IO->sleep(0.001);
            next;
        }
        my $head = "update $i ";
        await $send->({ type => 'websocket.send', bytes => $head . ('x' x ($size - length $head)) });
        $sent++;
    }
    await $send->({ type => 'websocket.send', text => "done sent=$sent skipped=$skipped high=$ceiling" });
    await $send->({ type => 'websocket.close', code => 1000 });
    $watch->cancel unless $watch->is_ready;
};
