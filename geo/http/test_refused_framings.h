// Header fields that frame a request body ambiguously or in a way the server
// does not implement. A server that guessed at any of them could take part
// of the body for a second request (request smuggling), so HttpServer must
// refuse each, close the connection and serve nothing that follows. Shared
// by the unit test of HttpServer and the end-to-end test of geo_server.
#ifndef GEO_HTTP_TEST_REFUSED_FRAMINGS_H_
#define GEO_HTTP_TEST_REFUSED_FRAMINGS_H_

namespace geo::http {

struct RefusedFraming {
  // Complete header lines, each ending in CRLF.
  const char* fields;
  // The answer's status line: 400 for what is malformed or ambiguous, 501
  // for a transfer coding other than chunked.
  const char* status_line;
};

inline constexpr RefusedFraming kRefusedFramings[] = {
    {"Transfer-Encoding: gzip\r\n", "HTTP/1.1 400 Bad Request"},
    {"Transfer-Encoding: identity\r\n", "HTTP/1.1 400 Bad Request"},
    {"Transfer-Encoding: chunked, identity\r\n", "HTTP/1.1 400 Bad Request"},
    {"Transfer-Encoding: chunked, chunked\r\n", "HTTP/1.1 400 Bad Request"},
    {"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
     "HTTP/1.1 400 Bad Request"},
    {"Transfer-Encoding: ,\r\n", "HTTP/1.1 400 Bad Request"},
    {"Transfer-Encoding: chunked;x=1\r\n", "HTTP/1.1 400 Bad Request"},
    {"Transfer-Encoding: gzip\r\nContent-Length: 5\r\n",
     "HTTP/1.1 400 Bad Request"},
    {"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
     "HTTP/1.1 400 Bad Request"},
    {"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
     "HTTP/1.1 400 Bad Request"},
    {"Transfer-Encoding: gzip, chunked\r\n", "HTTP/1.1 501 Not Implemented"},
    {"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
     "HTTP/1.1 501 Not Implemented"},
};

}  // namespace geo::http

#endif  // GEO_HTTP_TEST_REFUSED_FRAMINGS_H_
