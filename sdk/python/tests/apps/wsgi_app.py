"""Plain WSGI test app."""


def app(environ, start_response):
    path = environ['PATH_INFO']
    if path == '/echo':
        body = environ['wsgi.input'].read()
        start_response('200 OK', [('Content-Type', 'text/plain'), ('X-Len', str(len(body)))])
        return [body]
    if path == '/env':
        keys = ['REQUEST_METHOD', 'PATH_INFO', 'QUERY_STRING', 'SERVER_PROTOCOL',
                'HTTP_X_TEST', 'CONTENT_TYPE', 'REMOTE_ADDR', 'wsgi.url_scheme']
        out = '\n'.join('%s=%s' % (k, environ.get(k)) for k in keys)
        out += '\nrequest_id=%s' % environ['pagi.gateway']['request_id']
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return [out.encode()]
    if path == '/gen':
        start_response('201 Created', [('Content-Type', 'text/plain')])
        return Closing([b'a', b'b', b'c'])
    if path == '/boom':
        raise RuntimeError('wsgi boom')
    start_response('404 Not Found', [('Content-Type', 'text/plain')])
    return [b'nope']


class Closing:
    closed = []

    def __init__(self, items):
        self.items = items

    def __iter__(self):
        return iter(self.items)

    def close(self):
        import sys
        sys.stderr.write('app: close() called\n')
