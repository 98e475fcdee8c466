use strict;
use warnings;
use Test2::V0;
for my $m (qw(
    PAGI::Gateway::Worker PAGI::Gateway::Worker::Codec PAGI::Gateway::Worker::Layout
    PAGI::Gateway::Worker::Wire PAGI::Gateway::Worker::HttpScope PAGI::Gateway::Worker::Lifespan
    PAGI::Gateway::Worker::StreamScope PAGI::Gateway::Worker::ScopeBuilder PAGI::Gateway::Worker::SendValidator
    PAGI::Gateway::Worker::ConnectionState PAGI::Gateway::Worker::Transport PAGI::Gateway::Worker::AppLoader
)) {
    ok eval "require $m; 1", "load $m" or diag $@;
}
done_testing;
