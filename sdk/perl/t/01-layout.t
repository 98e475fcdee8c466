# Layout.pm must match protocol/pagi.capnp: regenerate and compare.
use strict;
use warnings;
use Test2::V0;
use File::Basename qw(dirname);
use Cwd qw(abs_path);
no warnings 'once';

my $root = abs_path(dirname(__FILE__) . '/../../..');
skip_all 'capnp not installed' if system('capnp --version >/dev/null 2>&1');
skip_all 'protocol/gen-layout not found (not inside the pagi-gateway tree)' unless -x "$root/protocol/gen-layout";

my $fresh = `$^X $root/protocol/gen-layout --stdout`;
is $?, 0, 'gen-layout ran';
open my $fh, '<', "$root/sdk/perl/lib/PAGI/Gateway/Worker/Layout.pm" or die $!;
my $committed = do { local $/; <$fh> };
ok $fresh eq $committed, 'Layout.pm is up to date (run protocol/gen-layout)';

require PAGI::Gateway::Worker::Layout;
my $s = \%PAGI::Gateway::Worker::Layout::STRUCT;
is $s->{Envelope}{data_words}, 2, 'Envelope: 16 bytes of data';
is $s->{Envelope}{ptr_count}, 1, 'Envelope: one pointer';
is $s->{Envelope}{union}{tag_bit}, 64, 'union tag at bit 64';
is $PAGI::Gateway::Worker::Layout::ENVELOPE_TAG{httpResponseStart}, 18;
my ($has_body) = grep { $_->{name} eq 'hasBody' } @{ $s->{ScopeOpen}{fields} };
is $has_body, { name => 'hasBody', kind => 'bool', bit => 48, byte => 6, ordinal => 3 };
done_testing;
