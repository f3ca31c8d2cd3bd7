#include "geo/tls/test_certificates.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "geo/tls/certificate.h"

extern char** environ;

namespace geo::tls::testing {
namespace {

constexpr char kServerNames[] = "subjectAltName=DNS:localhost,IP:127.0.0.1";

std::vector<std::string> EcKeyArguments() {
  return {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
          "-nodes"};
}

std::string RandomSerial() {
  static std::mt19937_64 random(std::random_device{}());
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  // Positive and 63 bits: never a leading zero byte issue.
  return absl::StrFormat("0x%016x", random() >> 1);
}

absl::StatusOr<CertificateFiles> MakeCa(const std::string& directory,
                                        const std::string& name,
                                        const std::string& subject) {
  CertificateFiles ca{absl::StrCat(directory, "/", name, ".crt"),
                      absl::StrCat(directory, "/", name, ".key")};
  std::vector<std::string> arguments = {"req", "-x509"};
  for (const std::string& argument : EcKeyArguments()) {
    arguments.push_back(argument);
  }
  for (const std::string& argument :
       {std::string("-keyout"), ca.key, std::string("-out"), ca.certificate,
        std::string("-subj"), subject, std::string("-days"), std::string("30"),
        std::string("-addext"),
        std::string("basicConstraints=critical,CA:TRUE"),
        std::string("-addext"),
        std::string("keyUsage=critical,keyCertSign,cRLSign")}) {
    arguments.push_back(argument);
  }
  absl::Status status = RunOpenSsl(arguments);
  if (!status.ok()) return status;
  return ca;
}

}  // namespace

absl::Status RunOpenSsl(const std::vector<std::string>& arguments) {
  char output_template[] = "/tmp/geo-openssl-XXXXXX";
  const int output = mkstemp(output_template);
  if (output < 0) return absl::InternalError("mkstemp");
  std::vector<char*> argv;
  std::string program = "openssl";
  argv.push_back(program.data());
  std::vector<std::string> copies = arguments;
  for (std::string& argument : copies) argv.push_back(argument.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, output, 1);
  posix_spawn_file_actions_adddup2(&actions, output, 2);
  pid_t pid = -1;
  const int spawned =
      posix_spawnp(&pid, "openssl", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(output);
  if (spawned != 0) {
    unlink(output_template);
    return absl::FailedPreconditionError(
        "cannot run openssl (apt-get install openssl)");
  }
  int wait_status = 0;
  while (waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
  }
  std::ifstream in(output_template);
  std::stringstream text;
  text << in.rdbuf();
  const std::string log = text.str();
  unlink(output_template);
  if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
    return absl::InternalError(absl::StrCat(
        "openssl ", absl::StrJoin(arguments, " "), " failed: ", log));
  }
  return absl::OkStatus();
}

absl::StatusOr<CertificateFiles> IssueCertificate(
    const CertificateFiles& ca, const std::string& directory,
    const std::string& name, const std::string& subject, int days,
    const std::vector<std::string>& extensions) {
  CertificateFiles files{absl::StrCat(directory, "/", name, ".crt"),
                         absl::StrCat(directory, "/", name, ".key")};
  const std::string request = absl::StrCat(directory, "/", name, ".csr");
  const std::string extension_file = absl::StrCat(directory, "/", name, ".ext");
  std::vector<std::string> arguments = {"req", "-new"};
  for (const std::string& argument : EcKeyArguments()) {
    arguments.push_back(argument);
  }
  arguments.insert(arguments.end(),
                   {"-keyout", files.key, "-out", request, "-subj", subject});
  absl::Status status = RunOpenSsl(arguments);
  if (!status.ok()) return status;
  status = WriteFile(extension_file,
                     absl::StrCat(absl::StrJoin(extensions, "\n"), "\n"));
  if (!status.ok()) return status;
  status = RunOpenSsl({"x509", "-req", "-in", request, "-CA", ca.certificate,
                       "-CAkey", ca.key, "-set_serial", RandomSerial(), "-days",
                       absl::StrCat(days), "-extfile", extension_file, "-out",
                       files.certificate});
  if (!status.ok()) return status;
  unlink(request.c_str());
  unlink(extension_file.c_str());
  return files;
}

absl::StatusOr<CertificateFiles> IssueServerCertificate(
    const CertificateFiles& ca, const std::string& directory,
    const std::string& name) {
  return IssueCertificate(ca, directory, name, "/CN=geo-server", 30,
                          {kServerNames, "extendedKeyUsage=serverAuth",
                           "basicConstraints=CA:FALSE"});
}

absl::StatusOr<TestCertificates> MakeTestCertificates(
    const std::string& directory) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("cannot create ", directory, ": ", error.message()));
  }
  TestCertificates set;
  set.directory = directory;
  absl::StatusOr<CertificateFiles> files =
      MakeCa(directory, "ca", "/CN=geo test CA");
  if (!files.ok()) return files.status();
  set.ca = *files;
  files = MakeCa(directory, "other-ca", "/CN=someone else's CA");
  if (!files.ok()) return files.status();
  set.other_ca = *files;
  files = IssueServerCertificate(set.ca, directory, "server");
  if (!files.ok()) return files.status();
  set.server = *files;
  files =
      IssueCertificate(set.ca, directory, "expired-server", "/CN=geo-server",
                       -1, {kServerNames, "extendedKeyUsage=serverAuth"});
  if (!files.ok()) return files.status();
  set.expired_server = *files;
  // The server certificate with another certificate's (valid) key.
  files = IssueServerCertificate(set.ca, directory, "wrong-key-donor");
  if (!files.ok()) return files.status();
  set.wrong_key_server = {set.server.certificate, files->key};
  const std::string client_usage = "extendedKeyUsage=clientAuth";
  files = IssueCertificate(
      set.ca, directory, "client", "/CN=ingress", 30,
      {absl::StrCat("subjectAltName=URI:", kIngressIdentity), client_usage});
  if (!files.ok()) return files.status();
  set.client = *files;
  files = IssueCertificate(
      set.ca, directory, "other-client", "/CN=web", 30,
      {absl::StrCat("subjectAltName=URI:", kOtherIdentity), client_usage});
  if (!files.ok()) return files.status();
  set.other_client = *files;
  files = IssueCertificate(
      set.other_ca, directory, "untrusted-client", "/CN=ingress", 30,
      {absl::StrCat("subjectAltName=URI:", kIngressIdentity), client_usage});
  if (!files.ok()) return files.status();
  set.untrusted_client = *files;
  CertificateFiles self_signed{absl::StrCat(directory, "/self-signed.crt"),
                               absl::StrCat(directory, "/self-signed.key")};
  std::vector<std::string> arguments = {"req", "-x509"};
  for (const std::string& argument : EcKeyArguments()) {
    arguments.push_back(argument);
  }
  arguments.insert(
      arguments.end(),
      {"-keyout", self_signed.key, "-out", self_signed.certificate, "-subj",
       "/CN=localhost", "-days", "30", "-addext", kServerNames});
  absl::Status status = RunOpenSsl(arguments);
  if (!status.ok()) return status;
  set.self_signed_server = self_signed;
  return set;
}

absl::StatusOr<std::string> SerialOf(const std::string& path) {
  absl::StatusOr<std::string> pem = ReadFile(path);
  if (!pem.ok()) return pem.status();
  absl::StatusOr<std::vector<X509Ptr>> certificates = ParseCertificates(*pem);
  if (!certificates.ok()) return certificates.status();
  return Summarize(certificates->front().get()).serial;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::Status WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace geo::tls::testing
