#include "geo/server/lookup_service.h"

#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "geo/common/logging.h"
#include "geo/data/language.h"

namespace geo {
namespace {

// Records one call's metrics when it goes out of scope, so every return path
// is counted exactly once.
class CallRecorder {
 public:
  CallRecorder(ServerMetrics* metrics, Clock* clock, Protocol protocol,
               Method method)
      : metrics_(metrics),
        clock_(clock),
        protocol_(protocol),
        method_(method),
        in_flight_(metrics, protocol),
        start_(clock->Now()) {}
  ~CallRecorder() {
    metrics_->RecordCall(protocol_, method_, status_.code(), result_,
                         clock_->Now() - start_);
  }
  CallRecorder(const CallRecorder&) = delete;
  CallRecorder& operator=(const CallRecorder&) = delete;

  absl::Status Finish(absl::Status status, Result result = Result::kNone) {
    status_ = status;
    result_ = result;
    return status;
  }

 private:
  ServerMetrics* metrics_;
  Clock* clock_;
  Protocol protocol_;
  Method method_;
  ServerMetrics::InFlight in_flight_;
  absl::Time start_;
  absl::Status status_ = absl::UnknownError("call did not finish");
  Result result_ = Result::kError;
};

// Logs `message` with `fields`, and the client's identity when there is one:
// only the certificate's primary name, never the certificate itself.
void LogWithClientIdentity(LogLevel level, absl::string_view message,
                           const GeofenceDecision& decision,
                           std::initializer_list<LogField> fields) {
  absl::InlinedVector<LogField, 6> all(fields.begin(), fields.end());
  if (decision.client_identity != nullptr) {
    all.emplace_back("client_identity", decision.client_identity->primary());
  }
  Log(level, message, all);
}

// One debug line per decision.
void LogDecision(const GeofenceDecision& decision) {
  LogWithClientIdentity(
      LogLevel::kDebug, "Geofence decision", decision,
      {{"policy", decision.policy->name()},
       {"ip", decision.ip},
       {"rule", policy::RuleKindName(decision.decision.rule)},
       {"result", policy::DecisionResultName(decision.result())}});
}

}  // namespace

LookupService::LookupService(const GeoStore* store,
                             const policy::PolicyStore* policies,
                             const CallerResolver* callers,
                             ServerMetrics* metrics, Clock* clock,
                             Options options)
    : store_(store),
      policies_(policies),
      callers_(callers),
      metrics_(metrics),
      clock_(clock),
      options_(options) {}

absl::StatusOr<IpAddress> LookupService::ResolveAddress(
    const CallOrigin& origin, absl::string_view text) const {
  if (text == "me") return callers_->Resolve(origin.peer, origin.headers);
  if (text.empty()) {
    return absl::InvalidArgumentError("ip is required (an address or \"me\")");
  }
  return IpAddress::Parse(text);
}

absl::StatusOr<LookupAnswer> LookupService::FindOne(
    const CallOrigin& origin, absl::string_view ip,
    absl::string_view language) const {
  absl::StatusOr<IpAddress> address = ResolveAddress(origin, ip);
  if (!address.ok()) return address.status();
  absl::StatusOr<LookupAnswer> answer = store_->Find(*address, language);
  if (answer.ok()) metrics_->RecordCountry(answer->country_iso_code());
  return answer;
}

absl::Status LookupService::LookupOne(const CallOrigin& origin,
                                      absl::string_view ip,
                                      absl::string_view language,
                                      geo::v1::LookupResponse* response) const {
  absl::StatusOr<LookupAnswer> answer = FindOne(origin, ip, language);
  if (!answer.ok()) return answer.status();
  answer->ToResponse(response);
  return absl::OkStatus();
}

absl::StatusOr<LookupAnswer> LookupService::Answer(
    const CallOrigin& origin, const geo::v1::LookupRequest& request) const {
  CallRecorder call(metrics_, clock_, origin.protocol, Method::kLookup);
  absl::StatusOr<LookupAnswer> answer =
      FindOne(origin, request.ip(), request.language());
  // Finish returns the status it records, which `answer` already carries.
  call.Finish(answer.status(), answer.ok() && answer->found()
                                   ? Result::kFound
                                   : Result::kNotFound)
      .IgnoreError();
  return answer;
}

absl::Status LookupService::BatchLookup(
    const CallOrigin& origin, const geo::v1::BatchLookupRequest& request,
    geo::v1::BatchLookupResponse* response) const {
  CallRecorder call(metrics_, clock_, origin.protocol, Method::kBatchLookup);
  if (request.ips_size() > options_.max_batch_size) {
    return call.Finish(absl::InvalidArgumentError(
        absl::StrCat("a batch holds at most ", options_.max_batch_size,
                     " addresses; got ", request.ips_size())));
  }
  // Once for the whole batch: a bad language is the request's fault (400),
  // not one error per address.
  absl::Status language = ValidateLanguage(request.language());
  if (!language.ok()) return call.Finish(language);
  if (!store_->ready()) {
    return call.Finish(
        absl::UnavailableError("no database loaded yet; retry shortly"));
  }
  bool any_found = false;
  response->mutable_results()->Reserve(request.ips_size());
  for (const std::string& ip : request.ips()) {
    geo::v1::BatchLookupResult* result = response->add_results();
    result->set_ip(ip);
    absl::Status status =
        LookupOne(origin, ip, request.language(), result->mutable_response());
    if (!status.ok()) {
      // One bad address fails only its own entry.
      result->clear_response();
      result->set_error_code(static_cast<int>(status.code()));
      result->set_error_message(std::string(status.message()));
    } else {
      any_found = any_found || result->response().found();
    }
  }
  return call.Finish(absl::OkStatus(),
                     any_found ? Result::kFound : Result::kNotFound);
}

policy::DecisionResult GeofenceDecision::result() const {
  if (decision.allowed) return policy::DecisionResult::kAllowed;
  if (!failed && policy != nullptr && policy->dry_run()) {
    return policy::DecisionResult::kDryRunDenied;
  }
  return policy::DecisionResult::kDenied;
}

absl::Status LookupService::Decide(const IpAddress& address,
                                   GeofenceDecision* decision) const {
  absl::StatusOr<geo::v1::LookupResponse> looked_up =
      store_->Lookup(address, "en");
  if (!looked_up.ok()) return looked_up.status();
  const geo::v1::LookupResponse record = *std::move(looked_up);
  metrics_->RecordCountry(record.country().iso_code());

  policy::PolicyInput input;
  input.ip = address;
  input.found = record.found();
  input.country_iso_code = record.country().iso_code();
  for (const geo::v1::Subdivision& subdivision : record.subdivisions()) {
    if (!subdivision.iso_code().empty()) {
      input.subdivision_codes.push_back(subdivision.iso_code());
    }
  }
  input.asn = record.autonomous_system().number();
  if (record.has_anonymizer()) {
    const geo::v1::Anonymizer& anonymizer = record.anonymizer();
    const std::pair<bool, policy::AnonymizerKind> kinds[] = {
        {anonymizer.is_tor_exit_node(), policy::kTorExitNode},
        {anonymizer.is_public_proxy(), policy::kPublicProxy},
        {anonymizer.is_residential_proxy(), policy::kResidentialProxy},
        {anonymizer.is_anonymous_vpn(), policy::kAnonymousVpn},
        {anonymizer.is_hosting_provider(), policy::kHostingProvider},
    };
    for (const auto& [flagged, kind] : kinds) {
      if (flagged) input.anonymizers |= kind | policy::kAnonymous;
    }
    if (anonymizer.is_anonymous()) input.anonymizers |= policy::kAnonymous;
  }
  input.connection_type = record.traits().connection_type();
  input.client_identity = decision->client_identity;
  decision->decision = decision->policy->Evaluate(input);
  decision->allowed = decision->decision.allowed || decision->policy->dry_run();

  decision->ip = record.ip().empty() ? address.ToString() : record.ip();
  decision->country_code = record.country().iso_code();
  decision->asn = input.asn;
  if (!record.subdivisions().empty() &&
      !record.subdivisions(0).iso_code().empty()) {
    // ISO 3166-2 form ("US-CA"); MaxMind stores the part after the dash.
    decision->subdivision_code =
        record.country().iso_code().empty()
            ? record.subdivisions(0).iso_code()
            : absl::StrCat(record.country().iso_code(), "-",
                           record.subdivisions(0).iso_code());
  }
  decision->city = record.city().name();
  decision->network = record.network();
  return absl::OkStatus();
}

void LookupService::Fail(policy::DecisionError error, const absl::Status& cause,
                         GeofenceDecision* decision) const {
  const policy::FailureAction action = decision->policy->on_error();
  decision->failed = true;
  decision->error = error;
  decision->allowed = action == policy::FailureAction::kAllow;
  decision->decision.allowed = decision->allowed;
  decision->decision.rule = policy::RuleKind::kError;
  decision->decision.reason = absl::StrCat(
      policy::DecisionErrorName(error), " (", cause.message(), "): on_error ",
      action == policy::FailureAction::kAllow
          ? "allow"
          : (action == policy::FailureAction::kDeny ? "deny" : "error"));
  decision->policy->CountError(error);
}

void LookupService::Count(const GeofenceDecision& decision) const {
  const policy::DecisionResult result = decision.result();
  decision.policy->Count(result, decision.decision.rule);
  // Checked first so that a server above debug builds no fields.
  if (MinLogLevel() <= LogLevel::kDebug) LogDecision(decision);
  if (result != policy::DecisionResult::kDryRunDenied) return;
  // Sampled: a dry run exists to be watched, but a denied country at full
  // traffic must not flood the log.
  const int64_t now = absl::ToUnixNanos(clock_->Now());
  int64_t next = next_dry_run_log_ns_.load(std::memory_order_relaxed);
  if (now < next || !next_dry_run_log_ns_.compare_exchange_strong(
                        next, now + absl::ToInt64Nanoseconds(absl::Seconds(1)),
                        std::memory_order_relaxed)) {
    return;
  }
  LogWithClientIdentity(LogLevel::kInfo, "Dry-run policy would deny", decision,
                        {{"policy", decision.policy->name()},
                         {"ip", decision.ip},
                         {"rule", policy::RuleKindName(decision.decision.rule)},
                         {"reason", decision.decision.reason}});
}

absl::Status LookupService::Check(const CallOrigin& origin,
                                  const geo::v1::CheckRequest& request,
                                  geo::v1::CheckResponse* response) const {
  CallRecorder call(metrics_, clock_, origin.protocol, Method::kCheck);
  GeofenceDecision decision;
  decision.policies = policies_->CurrentOrAllowAll();
  decision.client_identity = origin.client_identity;
  decision.policy = request.policy().empty()
                        ? &decision.policies->default_policy()
                        : decision.policies->Find(request.policy());
  if (decision.policy == nullptr) {
    constexpr size_t kQuoted = 64;
    return call.Finish(absl::InvalidArgumentError(absl::StrCat(
        "no policy is named \"", request.policy().substr(0, kQuoted), "\"")));
  }
  absl::StatusOr<IpAddress> address = ResolveAddress(origin, request.ip());
  if (!address.ok()) return call.Finish(address.status());
  const absl::Status status = Decide(*address, &decision);
  if (!status.ok()) return call.Finish(status);
  Count(decision);

  const policy::DecisionResult result = decision.result();
  response->set_ip(decision.ip);
  response->set_allowed(decision.allowed);
  response->set_result(std::string(policy::DecisionResultName(result)));
  response->set_reason(decision.decision.reason);
  response->set_country_code(decision.country_code);
  response->set_asn(decision.asn);
  response->set_subdivision_code(decision.subdivision_code);
  response->set_network(decision.network);
  response->set_policy(decision.policy->name());
  response->set_dry_run(decision.policy->dry_run());
  response->set_rule(std::string(policy::RuleKindName(decision.decision.rule)));
  return call.Finish(absl::OkStatus(),
                     decision.allowed ? Result::kAllowed : Result::kDenied);
}

GeofenceDecision LookupService::Authorize(
    const CallOrigin& origin, const policy::RequestTarget& target) const {
  CallRecorder call(metrics_, clock_, origin.protocol, Method::kAuthorize);
  GeofenceDecision decision;
  decision.policies = policies_->CurrentOrAllowAll();
  decision.policy = &decision.policies->Select(target);
  decision.client_identity = origin.client_identity;
  absl::StatusOr<IpAddress> address =
      callers_->Resolve(origin.peer, origin.headers);
  if (!address.ok()) {
    Fail(policy::DecisionError::kBadClientAddress, address.status(), &decision);
  } else if (const absl::Status status = Decide(*address, &decision);
             !status.ok()) {
    decision.ip = address->ToString();
    Fail(store_->ready() ? policy::DecisionError::kLookupError
                         : policy::DecisionError::kNoDatabase,
         status, &decision);
  }
  Count(decision);
  if (decision.failed &&
      decision.policy->on_error() == policy::FailureAction::kError) {
    call.Finish(absl::UnavailableError(decision.decision.reason)).IgnoreError();
  } else {
    call.Finish(absl::OkStatus(),
                decision.allowed ? Result::kAllowed : Result::kDenied)
        .IgnoreError();
  }
  return decision;
}

absl::Status LookupService::ListDatabases(
    const CallOrigin& origin, const geo::v1::ListDatabasesRequest& request,
    geo::v1::ListDatabasesResponse* response) const {
  (void)request;
  CallRecorder call(metrics_, clock_, origin.protocol, Method::kListDatabases);
  for (const std::shared_ptr<const Database>& database : store_->Databases()) {
    *response->add_databases() = database->Info();
  }
  return call.Finish(absl::OkStatus(), Result::kNone);
}

}  // namespace geo
