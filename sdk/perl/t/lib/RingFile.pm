package RingFile;
# A temp file standing in for the gateway's body ring memfd in the ring
# tests, and a reader of its bytes (sysread: no PerlIO buffering between the
# test and the worker's mapping).
use strict;
use warnings;
use Exporter 'import';
use File::Temp qw(tempfile);
our @EXPORT_OK = qw(ring_file ring_read);

sub ring_file {
    my ($size, $dir) = @_;
    my ($fh) = tempfile('pagi-ring-XXXXXX', ($dir ? (DIR => $dir) : (TMPDIR => 1)), UNLINK => 1);
    truncate($fh, $size) or die "truncate: $!";
    return $fh;
}

sub ring_read {
    my ($fh, $off, $n) = @_;
    sysseek($fh, $off, 0) or die "seek: $!";
    sysread($fh, my $b, $n) // die "read: $!";
    return $b;
}

1;
