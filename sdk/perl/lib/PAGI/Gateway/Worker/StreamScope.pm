package PAGI::Gateway::Worker::StreamScope;
# Scopes other than http and lifespan (websocket, sse, and whatever comes
# later). The gateway does not open them yet; until their send events are
# implemented, the app still runs and receives their events, and every
# $send fails with a clear message. To implement a type: add its receive
# translations to %RECEIVE and a send table like HttpScope's.
use strict;
use warnings;
use Future;
use Scalar::Util qw(blessed);

my %RECEIVE = (
    websocketConnect    => sub { { type => 'websocket.connect' } },
    websocketReceive    => sub {
        my ($m) = @_;
        $m->{isText} ? { type => 'websocket.receive', text => _utf8($m->{text}) }
                     : { type => 'websocket.receive', bytes => $m->{bytes} };
    },
    websocketDisconnect => sub { { type => 'websocket.disconnect', code => $_[0]{code}, reason => _utf8($_[0]{reason}) } },
    sseRequest          => sub { { type => 'sse.request', body => $_[0]{body}, more => $_[0]{more} } },
    sseDisconnect       => sub { { type => 'sse.disconnect', reason => $_[0]{reason} } },
);

sub _utf8 { my $s = $_[0]; utf8::decode($s); $s }

# ctx as for HttpScope; scope: the built $scope.
sub new {
    my ($class, %args) = @_;
    my $self = bless { id => $args{open}{scope}, ctx => $args{ctx}, scope => $args{scope}, rq => [], waiters => [] }, $class;
    my $m = $args{open};
    push @{ $self->{rq} }, { type => 'sse.request', body => $m->{body}, more => $m->{more} }
        if $m->{hasBody} && $m->{scopeType} eq 'sse';
    return $self;
}

sub run {
    my ($self, $app) = @_;
    my $weak = $self;
    Scalar::Util::weaken($weak);
    my $receive = sub { $weak ? $weak->_receive : Future->new };
    my $type = $self->{scope}{type};
    my $send = sub {
        my $t = ref $_[0] eq 'HASH' ? $_[0]{type} // '' : '';
        Future->fail("pagi-worker-perl: '$t' is not supported for $type scopes by this worker yet\n");
    };
    my $f = eval { $app->($self->{scope}, $receive, $send) };
    if (!defined $f && $@) { $f = Future->fail($@) }
    elsif (!(blessed $f && $f->isa('Future'))) { $f = Future->done }
    $self->{app_future} = $f;
    $f->on_ready(sub { $weak->_app_finished($_[0]) if $weak });
}

sub on_message {
    my ($self, $m) = @_;
    my $tr = $RECEIVE{ $m->{type} } or return;
    my $ev = $tr->($m);
    if (my $f = shift @{ $self->{waiters} }) { $f->done($ev) }
    else { push @{ $self->{rq} }, $ev }
}

sub _receive {
    my ($self) = @_;
    return Future->done(shift @{ $self->{rq} }) if @{ $self->{rq} };
    my $f = Future->new;
    push @{ $self->{waiters} }, $f;
    return $f;
}

sub _app_finished {
    my ($self, $f) = @_;
    my ($failed, $error) = (0, '');
    if ($f->is_failed) {
        ($failed, $error) = (1, '' . ($f->failure)[0]);
        $self->{ctx}{log}->("$self->{scope}{type} $self->{scope}{raw_path}: app died: $error");
    }
    $self->{ctx}{send}->({ scope => $self->{id}, type => 'scopeEnd', failed => $failed, message => $error });
    $self->{ctx}{finished}->($self->{id});
}

1;
