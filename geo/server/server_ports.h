// The ports geo_server's listeners bound, as its "Serving" log line reports
// them (the keys are these names with "_port" appended).
#ifndef GEO_SERVER_SERVER_PORTS_H_
#define GEO_SERVER_SERVER_PORTS_H_

namespace geo {

// 0 for a listener that is not running (yet).
struct ServerPorts {
  // geo.v1.GeoService, grpc.health.v1 and reflection (--grpc_port).
  int grpc = 0;
  // The HTTP/JSON API and forward auth (--http_port).
  int http = 0;
  // Prometheus /metrics (--metrics_port).
  int metrics = 0;
  // /healthz and /readyz for the kubelet (--health_port).
  int health = 0;
};

}  // namespace geo

#endif  // GEO_SERVER_SERVER_PORTS_H_
