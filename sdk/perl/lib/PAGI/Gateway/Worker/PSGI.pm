package PAGI::Gateway::Worker::PSGI;
# Runs a PSGI 1.1 application as a PAGI app inside the worker (APP ending in
# .psgi, or --interface psgi). docs/perl.md has the user's view.
#
# The PSGI app is called synchronously from the worker's loop. The worker
# runs it with concurrency 1 by default, so a blocking app never holds up
# another request of its process. While it runs it can:
#   - read psgi.input: the body streams in as it arrives; a read with nothing
#     buffered runs the worker's loop until the next body frame (Input.pm);
#   - stream with the writer of a delayed response: each write is flushed to
#     the gateway at once (Writer.pm).
# Responses: [status, headers, body] with an array body, a filehandle or an
# object with getline/close (a real file on disk goes by path to the
# gateway's sendfile), or a coderef taking the responder (delayed response,
# streaming writer). psgix.cleanup handlers run after the response;
# psgix.harakiri.commit makes the worker exit once the request is done;
# psgix.logger writes to the worker's STDERR.
use strict;
use warnings;
use Future;
use Future::AsyncAwait;
use PAGI::Gateway::Worker::NoLifespan;
use Scalar::Util qw(blessed reftype);
use PAGI::Gateway::Worker::PSGI::Input;
use PAGI::Gateway::Worker::PSGI::Writer;

our $CHUNK_BYTES = 65536;    # getline size for filehandle bodies ($/ = \N)

# new(app => PSGI coderef, name => STR)
sub new {
    my ($class, %args) = @_;
    die "pagi-worker-perl: PSGI app must be a code reference\n" unless ref $args{app} eq 'CODE';
    return bless { app => $args{app}, name => $args{name} // '' }, $class;
}

# Called by PAGI::Gateway::Worker->new: the worker gives the loop, waits and flushes.
sub attach {
    my ($self, $worker) = @_;
    $self->{worker} = $worker;
    Scalar::Util::weaken($self->{worker});
}

sub default_concurrency { 1 }

sub pagi_app {
    my ($self) = @_;
    return sub { $self->_handle(@_) };
}

sub _wait {
    my ($self, $f) = @_;
    my $w = $self->{worker} or die "pagi-worker-perl: PSGI adapter used outside a worker\n";
    return $w->wait_for($f);
}

sub _flush { $_[0]{worker} && $_[0]{worker}->flush }

sub _handle {
    my ($self, $scope, $receive, $send) = @_;
    my $type = $scope->{type};
    return PAGI::Gateway::Worker::NoLifespan::run($receive, $send) if $type eq 'lifespan';
    return Future->fail("pagi-worker-perl: a PSGI app serves http only, not $type\n") if $type ne 'http';
    my $env = $self->env($scope, $receive);
    my $res = eval { $self->{app}->($env) };
    if (my $err = $@) {
        return Future->fail("PSGI app died: $err");
    }
    my $f = $self->_respond($res, $env, $send);
    return $f->followed_by(sub {
        my ($done) = @_;
        _cleanup($env);
        $self->{worker}->retire if $env->{'psgix.harakiri.commit'} && $self->{worker};
        return $done;
    });
}

sub _cleanup {
    my ($env) = @_;
    for my $h (@{ $env->{'psgix.cleanup.handlers'} || [] }) {
        eval { $h->($env); 1 } or print STDERR "pagi-worker-perl: psgix.cleanup handler died: $@";
    }
}

# --- the environment -----------------------------------------------------------------

sub _bytes {
    my ($s) = @_;
    $s //= '';
    utf8::encode($s) if utf8::is_utf8($s);
    return $s;
}

# psgix.logger: ->({ level => 'debug'|'info'|'warn'|'error'|'fatal', message => STR })
# writes one line "[level] message" to the worker's STDERR, which the
# gateway logs. A message of several lines stays one entry (continuation
# lines indented), so an app cannot forge log lines. psgix.io is absent: the
# client's socket belongs to the gateway, the worker never has it.
my %LOG_LEVELS = map { $_ => 1 } qw(debug info warn error fatal);

sub _logger {
    my ($args) = @_;
    $args = { message => $args } if ref $args ne 'HASH';
    my $level = $args->{level} // 'info';
    $level = 'info' unless $LOG_LEVELS{$level};
    my $message = _bytes($args->{message} // '');
    $message =~ s/\r?\n\z//;
    $message =~ s/\r?\n/\n  /g;
    print STDERR "[$level] $message\n";
    return;
}

sub env {
    my ($self, $scope, $receive) = @_;
    my $root = _bytes($scope->{root_path});
    $root = '' if $root eq '/';
    my $path = _bytes($scope->{path});
    my $path_info = length $root && index($path, $root) == 0 ? substr($path, length $root) : $path;
    my $qs = $scope->{query_string} // '';
    my $raw = $scope->{raw_path} // $path;
    my $server = $scope->{server} || [ 'localhost', undef ];
    my $client = $scope->{client} || [];
    my %env = (
        REQUEST_METHOD  => $scope->{method},
        SCRIPT_NAME     => $root,
        PATH_INFO       => $path_info,
        REQUEST_URI     => length $qs ? "$raw?$qs" : $raw,
        QUERY_STRING    => $qs,
        SERVER_NAME     => $server->[0] // 'localhost',
        SERVER_PORT     => $server->[1] // 0,
        SERVER_PROTOCOL => 'HTTP/' . ($scope->{http_version} // '1.1'),
        (defined $client->[0] ? (REMOTE_ADDR => $client->[0], REMOTE_PORT => $client->[1]) : (REMOTE_ADDR => '')),
        'psgi.version'         => [ 1, 1 ],
        'psgi.url_scheme'      => ($scope->{scheme} // 'http') eq 'https' ? 'https' : 'http',
        'psgi.input'           => PAGI::Gateway::Worker::PSGI::Input->new(
                                      receive => $receive, wait => sub { $self->_wait($_[0]) }),
        'psgi.errors'          => \*STDERR,
        'psgi.multithread'     => 0,
        'psgi.multiprocess'    => 1,
        'psgi.run_once'        => 0,
        'psgi.nonblocking'     => 1,
        'psgi.streaming'       => 1,
        'psgix.input.buffered' => 0,
        'psgix.harakiri'       => 1,
        'psgix.cleanup'        => 1,
        'psgix.cleanup.handlers' => [],
        'psgix.logger'         => \&_logger,
        'pagi.scope'           => $scope,
        # The TCP peer when REMOTE_ADDR came from a trusted proxy's header.
        ($scope->{'pagi.peer'} ? ('pagi.peer' => $scope->{'pagi.peer'}) : ()),
    );
    for my $h (@{ $scope->{headers} || [] }) {
        my ($name, $value) = @$h;
        my $key = uc $name;
        $key =~ tr/-/_/;
        if ($key eq 'CONTENT_TYPE' || $key eq 'CONTENT_LENGTH') { $env{$key} = $value; next }
        $key = "HTTP_$key";
        if (exists $env{$key}) { $env{$key} .= ($key eq 'HTTP_COOKIE' ? '; ' : ', ') . $value }
        else { $env{$key} = $value }
    }
    return \%env;
}

# --- responses -------------------------------------------------------------------

sub _respond {
    my ($self, $res, $env, $send) = @_;
    if (ref $res eq 'ARRAY') {
        return $self->_send_response($res, $send);
    }
    if (ref $res eq 'CODE') {
        my $done = Future->new;
        my $responder = sub {
            my ($r) = @_;
            die "pagi-worker-perl: PSGI responder expects [status, headers, body?]\n" unless ref $r eq 'ARRAY';
            if (@$r >= 3 && defined $r->[2]) {
                $self->_send_response($r, $send)->on_ready($done);
                return;
            }
            my $f = $send->(_start($r));
            $self->_wait($f) unless $f->is_ready;
            die $f->failure if $f->is_failed;
            return PAGI::Gateway::Worker::PSGI::Writer->new(
                send => $send, wait => sub { $self->_wait($_[0]) }, flush => sub { $self->_flush }, done => $done);
        };
        eval { $res->($responder); 1 } or return Future->fail("PSGI app died in its delayed response: $@");
        return $done;
    }
    return Future->fail('PSGI app returned ' . (defined $res ? (ref $res || "'$res'") : 'undef')
        . ", not an array or code reference\n");
}

sub _start {
    my ($r) = @_;
    my ($status, $headers) = @$r;
    my @h;
    my @flat = @{ $headers || [] };
    while (my ($k, $v) = splice @flat, 0, 2) { push @h, [ lc $k, $v // '' ] }
    return { type => 'http.response.start', status => 0 + $status, headers => \@h };
}

async sub _send_response {
    my ($self, $r, $send) = @_;
    my $body = $r->[2];
    await $send->(_start($r));
    if (ref $body eq 'ARRAY') {
        await $send->({ type => 'http.response.body', body => join('', map { $_ // '' } @$body), more => 0 });
        return;
    }
    if (my $file = _disk_file($body)) {
        await $send->({ type => 'http.response.body', file => $file->[0], offset => $file->[1], length => $file->[2] });
        $body->close;
        return;
    }
    die "pagi-worker-perl: PSGI body must be an array or a handle with getline/close\n"
        unless blessed $body ? $body->can('getline') : reftype($body) && reftype($body) eq 'GLOB';
    while (1) {
        my $chunk = do { local $/ = \$CHUNK_BYTES; blessed $body ? $body->getline : readline($body) };
        last unless defined $chunk;
        next unless length $chunk;
        await $send->({ type => 'http.response.body', body => $chunk, more => 1 });
    }
    blessed $body ? $body->close : close $body;
    await $send->({ type => 'http.response.body', body => '', more => 0 });
}

# [path, offset, length] when the body is a handle on a regular file whose
# path we know (->path as set by Plack::Util::set_io_path, or the name the
# kernel has for its descriptor), so the gateway can sendfile it.
sub _disk_file {
    my ($body) = @_;
    my $fd = eval { fileno($body) };
    return undef unless defined $fd && $fd >= 0;
    my @st = stat($body);
    return undef unless @st && -f _;
    my $path = blessed $body && $body->can('path') ? $body->path : undef;
    $path //= readlink("/proc/self/fd/$fd");
    return undef unless defined $path && $path =~ m{^/};
    my @on_disk = stat($path);
    return undef unless @on_disk && $on_disk[0] == $st[0] && $on_disk[1] == $st[1];
    my $offset = eval { tell($body) } // 0;
    $offset = 0 if $offset < 0;
    return [ $path, $offset, $st[7] - $offset ];
}

1;
