#include "tests/edge/ingress_process.h"

#include <unistd.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "tests/support/loopback_ports.h"
#include "tests/support/test_files.h"

namespace geo::testing {

// What differs between the ingresses. The configuration file is
// `config_name` in a fresh directory DIR, holding `config(DIR, the echo
// upstream's port, the site)`; `$DIR` and `$CONFIG` (the file's path) in
// `arguments`, `environment` and `log_file` stand for those paths.
struct IngressKind {
  std::string name;
  std::string binary;
  std::string config_name;
  std::function<std::string(const std::string& dir, int upstream_port,
                            const std::string& site)>
      config;
  std::vector<std::string> arguments;
  // Besides PATH and HOME (DIR).
  std::map<std::string, std::string> environment;
  // A log the ingress writes besides stderr; empty: none.
  std::string log_file;
};

namespace {

constexpr char kNginx[] = "/usr/sbin/nginx";
constexpr char kCaddy[] = "/usr/bin/caddy";
// SIGTERM first; SIGKILL when the ingress has not exited by then.
constexpr absl::Duration kStopGrace = absl::Seconds(10);

// The X-Geo-* headers the echo upstream reports (lower case).
const std::vector<std::string>& EchoedHeaders() {
  static const auto* headers = new std::vector<std::string>{
      "x-forwarded-for", "x-geo-decision", "x-geo-dry-run",
      "x-geo-policy",    "x-geo-country",  "x-geo-subdivision",
      "x-geo-city",      "x-geo-asn",      "x-geo-reason"};
  return *headers;
}

// The harness's nginx.conf: a main context for a test (foreground, one
// process that never switches users, everything it writes in `dir`), the
// echo upstream, then the site under test.
std::string NginxConf(const std::string& dir, int upstream_port,
                      const std::string& site) {
  std::string echo;
  for (const std::string& header : EchoedHeaders()) {
    std::string variable = header;
    for (char& c : variable) {
      if (c == '-') c = '_';
    }
    absl::StrAppend(&echo, header, "=$http_", variable, "\\n");
  }
  return absl::StrCat(
      "daemon off;\n"
      "master_process off;\n"
      "worker_processes 1;\n"
      "pid ",
      dir, "/nginx.pid;\n", "error_log ", dir, "/error.log notice;\n",
      "events { worker_connections 512; }\n"
      "http {\n"
      "  access_log ",
      dir, "/access.log;\n", "  client_body_temp_path ", dir, "/client_body;\n",
      "  proxy_temp_path ", dir, "/proxy;\n", "  fastcgi_temp_path ", dir,
      "/fastcgi;\n", "  uwsgi_temp_path ", dir, "/uwsgi;\n",
      "  scgi_temp_path ", dir, "/scgi;\n",
      "  # The upstream: reports what the ingress passed on.\n"
      "  server {\n"
      "    listen 127.0.0.1:",
      upstream_port,
      ";\n"
      "    location / {\n"
      "      default_type text/plain;\n"
      "      return 200 \"upstream=yes\\nuri=$request_uri\\nhost=$host\\n",
      echo,
      "\";\n"
      "    }\n"
      "  }\n"
      "  # The site under test (docs/edge.md).\n",
      site, "}\n");
}

std::string CaddyFile(const std::string& dir, int upstream_port,
                      const std::string& site) {
  std::string echo =
      "upstream=yes|uri={http.request.uri}|host={http.request.host}";
  for (const std::string& header : EchoedHeaders()) {
    absl::StrAppend(&echo, "|", header, "={http.request.header.", header, "}");
  }
  return absl::StrCat(
      "# Global options of the harness: no admin endpoint, no certificates,\n"
      "# loopback only, state in the test's directory.\n"
      "{\n"
      "\tadmin off\n"
      "\tauto_https off\n"
      "\tdefault_bind 127.0.0.1\n"
      "\tstorage file_system {\n"
      "\t\troot ",
      dir,
      "/storage\n"
      "\t}\n"
      "\tservers {\n"
      "\t\tprotocols h1\n"
      "\t}\n"
      "}\n"
      "# The upstream: reports what the ingress passed on.\n"
      "http://:",
      upstream_port, " {\n", "\trespond \"", echo, "\" 200\n", "}\n",
      "# The site under test (docs/edge.md).\n", site);
}

// The ingresses a test can start.
const std::vector<IngressKind>& IngressKinds() {
  static const auto* kinds = new std::vector<IngressKind>{
      // -e: the error log before the configuration is read (the default,
      // /var/log/nginx/error.log, is not writable for a non-root user).
      {"nginx",
       kNginx,
       "nginx.conf",
       NginxConf,
       {"-p", "$DIR/", "-e", "$DIR/error.log", "-c", "$CONFIG"},
       {},
       "$DIR/error.log"},
      // Caddy keeps data and an autosaved config under $XDG_*/$HOME.
      {"caddy",
       kCaddy,
       "Caddyfile",
       CaddyFile,
       {"run", "--config", "$CONFIG", "--adapter", "caddyfile"},
       {{"XDG_DATA_HOME", "$DIR/data"},
        {"XDG_CONFIG_HOME", "$DIR/config"},
        {"TMPDIR", "$DIR"}},
       ""},
  };
  return *kinds;
}

}  // namespace

absl::StatusOr<std::unique_ptr<IngressProcess>> IngressProcess::Start(
    const std::string& ingress, const SiteRenderer& site) {
  for (const IngressKind& kind : IngressKinds()) {
    if (kind.name == ingress) return Start(kind, site);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("no ingress called \"", ingress, "\""));
}

absl::StatusOr<std::unique_ptr<IngressProcess>> IngressProcess::Start(
    const IngressKind& kind, const SiteRenderer& site) {
  if (access(kind.binary.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(kind.binary, " is missing: run `make setup`"));
  }
  const std::string& name = kind.name;
  std::string last_error;
  // A port picked free can be taken by someone else before the ingress binds
  // it: start again on new ports then.
  for (int attempt = 0; attempt < 3; ++attempt) {
    IngressPorts ports;
    absl::StatusOr<int> listen = PickFreePort();
    absl::StatusOr<int> upstream = PickFreePort();
    if (!listen.ok()) return listen.status();
    if (!upstream.ok()) return upstream.status();
    if (*listen == *upstream) continue;
    ports = {*listen, *upstream};
    const std::string dir = NewTempDir();
    absl::StatusOr<std::string> rendered = site(ports);
    if (!rendered.ok()) return rendered.status();
    const std::string config = absl::StrCat(dir, "/", kind.config_name);
    if (!WriteFile(config, kind.config(dir, ports.upstream, *rendered))) {
      return absl::InternalError(absl::StrCat("cannot write ", config));
    }
    std::unique_ptr<IngressProcess> ingress(new IngressProcess());
    ingress->name_ = name;
    ingress->ports_ = ports;
    const auto in_dir = [&](const std::string& text) {
      return absl::StrReplaceAll(text, {{"$DIR", dir}, {"$CONFIG", config}});
    };
    ChildOptions options;
    options.argv = {kind.binary};
    for (const std::string& argument : kind.arguments) {
      options.argv.push_back(in_dir(argument));
    }
    options.environment = {{"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"},
                           {"HOME", dir}};
    for (const auto& [variable, value] : kind.environment) {
      options.environment->emplace(variable, in_dir(value));
    }
    options.stop_grace = kStopGrace;
    absl::StatusOr<ChildProcess> child = ChildProcess::Start(options);
    if (!child.ok()) return child.status();
    ingress->process_.emplace(*std::move(child));
    ingress->log_path_ = in_dir(kind.log_file);

    // Generous: a loaded 2-core machine running sanitized servers next door.
    if (ingress->process_->WaitForPort(ports.listen, absl::Seconds(30)) &&
        ingress->process_->WaitForPort(ports.upstream, absl::Seconds(30))) {
      return ingress;
    }
    const bool exited = !ingress->process_->running();
    last_error = absl::StrCat(name, exited ? " exited" : " did not listen",
                              " on ports ", ports.listen, " and ",
                              ports.upstream, ":\n", ingress->Log());
    if (!exited || !absl::StrContains(absl::AsciiStrToLower(ingress->Log()),
                                      "address already in use")) {
      return absl::InternalError(last_error);
    }
  }
  return absl::InternalError(last_error);
}

IngressProcess::~IngressProcess() { Stop(kStopGrace).IgnoreError(); }

std::string IngressProcess::url(const std::string& path) const {
  return absl::StrCat("http://127.0.0.1:", ports_.listen, path);
}

std::string IngressProcess::Log() const {
  std::string log = process_ ? process_->Stderr() : "";
  if (!log_path_.empty()) absl::StrAppend(&log, ReadFile(log_path_));
  return log;
}

absl::StatusOr<int> IngressProcess::Stop(absl::Duration grace) {
  if (!process_) return absl::FailedPreconditionError("not running");
  return process_->Stop(grace);
}

}  // namespace geo::testing
