package FakeGateway;
# A fake pagi-gateway for the tests: a socketpair, bin/pagi-worker-perl
# spawned on one end with PAGI_WORKER_FD, and this codec on the other. Reads
# block on the socket (with a generous select() deadline that only exists
# so a broken worker fails the test instead of hanging it).
use strict;
use warnings;
use Socket qw(AF_UNIX SOCK_STREAM PF_UNSPEC);
use Fcntl qw(F_GETFD F_SETFD FD_CLOEXEC);
use File::Temp qw(tempfile);
use FindBin;
use POSIX qw(WNOHANG);
use Time::HiRes qw(time);
use JSON::PP ();
use PAGI::Gateway::Worker::Codec;

our $DEADLINE = 20;
use File::Basename qw(dirname);
use Cwd qw(abs_path);
my $root = abs_path(dirname(__FILE__) . "/../..");

sub spawn {
    my ($class, %args) = @_;
    my $app = $args{app} // "$root/t/apps/main.pl";
    socketpair(my $gw, my $wk, AF_UNIX, SOCK_STREAM, PF_UNSPEC) or die "socketpair: $!";
    my $flags = fcntl($wk, F_GETFD, 0);
    fcntl($wk, F_SETFD, $flags & ~FD_CLOEXEC) or die "fcntl: $!";
    my ($errfh, $errfile) = tempfile('pagi-worker-err-XXXXXX', TMPDIR => 1, UNLINK => 1);
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        close $gw;
        open STDERR, '>&', $errfh or die;
        $ENV{PAGI_WORKER_FD} = fileno $wk;
        # env => {NAME => value or a handle}: a handle is inherited and its
        # descriptor number is the value (PAGI_BODY_RING_FD).
        for my $name (sort keys %{ $args{env} || {} }) {
            my $v = $args{env}{$name};
            if (ref $v) {
                fcntl($v, F_SETFD, fcntl($v, F_GETFD, 0) & ~FD_CLOEXEC) or die "fcntl: $!";
                $v = fileno $v;
            }
            $ENV{$name} = $v;
        }
        exec $^X, "-I$root/lib", "$root/bin/pagi-worker-perl", @{ $args{args} || [] }, $app;
        die "exec: $!";
    }
    close $wk;
    return bless { fh => $gw, pid => $pid, in => '', queue => [], errfile => $errfile, next_scope => 10, seq => 100 }, $class;
}

sub pid { $_[0]{pid} }

sub send {
    my ($self, @msgs) = @_;
    my $bytes = join '', map { PAGI::Gateway::Worker::Codec::encode($_) } @msgs;
    while (length $bytes) {
        my $n = syswrite($self->{fh}, $bytes) // die "write to worker: $!";
        substr($bytes, 0, $n, '');
    }
}

sub send_raw { my ($self, $bytes) = @_; syswrite($self->{fh}, $bytes) }

# Next message from the worker, or undef at EOF.
sub recv {
    my ($self) = @_;
    my $until = time + $DEADLINE;
    while (!@{ $self->{queue} }) {
        my $rin = '';
        vec($rin, fileno $self->{fh}, 1) = 1;
        my $left = $until - time;
        die "FakeGateway: no message from the worker within ${DEADLINE}s\n"
            if $left <= 0 || !select(my $rout = $rin, undef, undef, $left);
        my $n = sysread($self->{fh}, $self->{in}, 65536, length $self->{in});
        die "read: $!" unless defined $n;
        return undef if $n == 0;
        push @{ $self->{queue} }, PAGI::Gateway::Worker::Codec::decode_frames(\$self->{in});
    }
    return shift @{ $self->{queue} };
}

# Frames available right now (the worker wrote them in one go).
sub queued { scalar @{ $_[0]{queue} } }

# Sends a heartbeat and returns what the worker sent before echoing it: the
# echo proves the worker's loop flushed everything it had.
sub settle {
    my ($self) = @_;
    my $s = ++$self->{seq};
    $self->send({ scope => 0, type => 'heartbeat', seq => $s });
    my @before;
    while (my $m = $self->recv) {
        return \@before if $m->{type} eq 'heartbeat' && $m->{seq} == $s;
        push @before, $m;
    }
    die 'EOF';
}

# The next message, which must be for scope $id. With skip_credit, credit
# messages are skipped and their bytes added up in $self->{credited}{$id}.
sub next_for {
    my ($self, $id, %opt) = @_;
    while (1) {
        my $m = $self->recv // die "EOF waiting for scope $id";
        die "expected a message for scope $id, got " . JSON::PP->new->canonical->encode($m) unless $m->{scope} == $id;
        return $m unless $opt{skip_credit} && $m->{type} eq 'credit';
        $self->{credited}{$id} += $m->{bytes};
    }
}

sub welcome_defaults {
    return (protocolVersion => 1, workerId => 3, sendWindow => 65536, receiveWindow => 65536,
            heartbeatIntervalMs => 1000, lifespan => 'auto', maxMessageBytes => 16 * 1024 * 1024);
}

# hello -> welcome -> lifespan startup; returns (hello, lifespan answer).
sub handshake {
    my ($self, %welcome) = @_;
    my $hello = $self->recv;
    die "expected hello, got " . ($hello ? $hello->{type} : 'EOF') unless $hello && $hello->{type} eq 'hello';
    my %w = (welcome_defaults(), %welcome);
    $self->{welcome} = \%w;
    $self->send({ scope => 0, type => 'welcome', %w });
    return ($hello) if $w{lifespan} eq 'off';
    $self->send({ scope => 1, type => 'open', scopeType => 'lifespan' }, { scope => 1, type => 'lifespanStartup' });
    return ($hello, $self->recv);
}

# Opens an http scope; returns its id.
sub open_http {
    my ($self, %args) = @_;
    my $id = $self->{next_scope}++;
    my $headers = delete $args{headers} // ['host', 'example.test'];
    $self->send({ scope => $id, type => 'open', scopeType => 'http', httpVersion => '1.1',
                  method => 'GET', scheme => 'http', path => '/', rawPath => '/', headers => $headers,
                  clientHost => '127.0.0.1', clientPort => 40000, serverHost => '127.0.0.1', serverPort => 8080,
                  hasBody => 1, body => '', more => 0, %args, rawPath => $args{rawPath} // $args{path} // '/' },
                @{ $args{then} || [] });
    return $id;
}

# Collects worker messages for one scope until its scopeEnd (others are kept
# in `other`). Returns an arrayref of messages.
sub until_end {
    my ($self, $id) = @_;
    my @got;
    while (my $m = $self->recv) {
        if ($m->{scope} != $id) { push @{ $self->{other} }, $m; next }
        push @got, $m;
        last if $m->{type} eq 'scopeEnd';
    }
    return \@got;
}

sub stderr_text {
    my ($self) = @_;
    open my $fh, '<', $self->{errfile} or return '';
    local $/;
    return <$fh>;
}

# Waits for the worker to exit (its end of the socket closes first);
# returns its exit status. Messages still arriving are queued.
sub wait_exit {
    my ($self) = @_;
    unless ($self->{closed}) {
        while (defined(my $m = eval { $self->recv })) { push @{ $self->{after} }, $m }
        die $@ if $@;
    }
    waitpid($self->{pid}, 0);
    my $status = $? >> 8;
    $self->{pid} = 0;
    return $status;
}

sub close_socket { close $_[0]{fh}; $_[0]{closed} = 1 }

sub DESTROY {
    my ($self) = @_;
    return unless $self->{pid};
    kill 'KILL', $self->{pid} if waitpid($self->{pid}, WNOHANG) == 0;
    waitpid($self->{pid}, 0);
}

1;
