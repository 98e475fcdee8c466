# A page for a real browser over HTTP/2 (tests/e2e/test_http2_browser.py):
#   /page    HTML whose script opens a WebSocket (wss, same origin) and an
#            EventSource, and writes what came back into the page
#   /ws      websocket: answers the first text with "echo: TEXT via HTTP/V"
#   /events  sse: one event "via HTTP/V", then the app returns
#   /report  the page's results (query string), printed to STDERR as
#            "browser report: ..." for the test to wait on
# V is the scope's http_version, so the test sees which transport carried it.
use strict;
use warnings;
use Future::AsyncAwait;

my $PAGE = <<'HTML';
<!doctype html><html><head><title>pending</title></head><body><pre id="out"></pre><script>
const log = [];
function done() {
  document.getElementById('out').textContent = log.join('\n');
  document.title = 'done';
  fetch('/report?' + encodeURIComponent(log.join('|')));
}
const ws = new WebSocket('wss://' + location.host + '/ws');
ws.onopen = () => ws.send('hello');
ws.onerror = () => { log.push('ws error'); done(); };
ws.onmessage = (e) => {
  log.push('ws ' + e.data);
  ws.close(1000);
  const es = new EventSource('/events');
  es.onmessage = (m) => { log.push('sse ' + m.data); es.close(); done(); };
  es.onerror = () => { log.push('sse error'); es.close(); done(); };
};
</script></body></html>
HTML

return async sub {
    my ($scope, $receive, $send) = @_;
    die "no lifespan\n" if $scope->{type} eq 'lifespan';
    my $via = "via HTTP/$scope->{http_version}";
    if ($scope->{type} eq 'websocket') {
        await $receive->();    # websocket.connect
        await $send->({ type => 'websocket.accept' });
        while (1) {
            my $ev = await $receive->();
            return if $ev->{type} eq 'websocket.disconnect';
            await $send->({ type => 'websocket.send', text => "echo: $ev->{text} $via" }) if defined $ev->{text};
        }
    }
    if ($scope->{type} eq 'sse') {
        await $send->({ type => 'sse.start' });
        await $send->({ type => 'sse.send', data => $via });
        return;
    }
    if ($scope->{path} eq '/report') {
        (my $text = $scope->{query_string}) =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
        print STDERR "browser report: $text\n";
        await $send->({ type => 'http.response.start', status => 204, headers => [] });
        await $send->({ type => 'http.response.body', body => '' });
        return;
    }
    await $send->({ type => 'http.response.start', status => 200,
                    headers => [ [ 'content-type', 'text/html; charset=utf-8' ] ] });
    await $send->({ type => 'http.response.body', body => $PAGE });
};
