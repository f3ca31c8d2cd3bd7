#include "geo/server/http_routes.h"

#include <string>
#include <utility>

#include "geo/common/status_macros.h"
#include "geo/http/grpc_gateway_mapping.h"
#include "geo/http/json_array_length.h"
#include "geo/server/http_call_origin.h"
#include "geo/server/openapi_route.h"

namespace geo {
namespace {

using http::HttpRequest;
using http::HttpResponse;
using http::PathVariables;

void ReplyError(const absl::Status& status, HttpResponse* response) {
  response->SetJson(http::HttpStatusFromGrpcCode(status.code()),
                    http::GatewayErrorBody(status));
}

void Reply(const absl::Status& status, const google::protobuf::Message& body,
           HttpResponse* response) {
  if (status.ok()) {
    response->SetJson(200, http::MessageToGatewayJson(body));
  } else {
    ReplyError(status, response);
  }
}

// GET /v1/lookup/{ip}, the hot path: the answer's cached records are
// rendered once each by MessageToGatewayJson and then only filled in
// (LookupAnswer::AppendRendered), instead of a message copied and printed
// per request. The bytes are identical; tests/e2e compares them.
void ServeLookup(const LookupService* service,
                 const AnswerRenderer& render_json,
                 const HttpRequest& http_request,
                 const PathVariables& variables, HttpResponse* http_response) {
  geo::v1::LookupRequest request;
  request.set_ip(std::string(variables.Get("ip")));
  if (auto language = http_request.QueryParameter("language")) {
    request.set_language(*language);
  }
  absl::StatusOr<LookupAnswer> answer =
      service->Answer(HttpCallOrigin(http_request).get(), request);
  if (!answer.ok()) {
    ReplyError(answer.status(), http_response);
    return;
  }
  http_response->set_status(200);
  http_response->set_content_type("application/json");
  answer->AppendRendered(render_json, http_response->mutable_body());
}

// Runs `method` on a request message built by `fill` and writes the answer.
template <typename Request, typename Response, typename Fill>
void Serve(const LookupService* service,
           absl::Status (LookupService::*method)(const CallOrigin&,
                                                 const Request&, Response*)
               const,
           const HttpRequest& http_request, Fill fill,
           HttpResponse* http_response) {
  Request request;
  Response response;
  absl::Status status = fill(&request);
  if (status.ok()) {
    status = (service->*method)(HttpCallOrigin(http_request).get(), request,
                                &response);
  }
  Reply(status, response, http_response);
}

}  // namespace

absl::StatusOr<std::unique_ptr<http::Router>> BuildHttpRoutes(
    const LookupService* service, std::function<bool()> ready,
    ForwardAuthOptions forward_auth) {
  auto router = std::make_unique<http::Router>();
  GEO_RETURN_IF_ERROR(
      AddForwardAuthRoute(service, std::move(forward_auth), router.get()));
  struct Route {
    const char* method;
    const char* path_template;
    http::RouteHandler handler;
  };
  Route routes[] = {
      {"GET", "/v1/lookup/{ip}",
       [service,
        render_json =
            AnswerRenderer([](const geo::v1::LookupResponse& response) {
              return http::MessageToGatewayJson(response);
            })](const HttpRequest& request, const PathVariables& variables,
                HttpResponse* response) {
         ServeLookup(service, render_json, request, variables, response);
       }},
      {"POST", "/v1/lookup:batch",
       [service](const HttpRequest& request, const PathVariables&,
                 HttpResponse* response) {
         Serve(
             service, &LookupService::BatchLookup, request,
             [&](geo::v1::BatchLookupRequest* message) {
               // Counted before parsing: a batch over the limit costs a
               // scan, not a message.
               absl::Status size = http::CheckJsonArrayLength(
                   request.body(), "ips", service->max_batch_size());
               if (!size.ok()) return size;
               return http::GatewayJsonToMessage(request.body(), message);
             },
             response);
       }},
      {"GET", "/v1/check/{ip}",
       [service](const HttpRequest& request, const PathVariables& variables,
                 HttpResponse* response) {
         Serve(
             service, &LookupService::Check, request,
             [&](geo::v1::CheckRequest* message) {
               message->set_ip(std::string(variables.Get("ip")));
               if (std::optional<std::string> policy =
                       request.QueryParameter("policy")) {
                 message->set_policy(*std::move(policy));
               }
               return absl::OkStatus();
             },
             response);
       }},
      {"GET", "/v1/databases",
       [service](const HttpRequest& request, const PathVariables&,
                 HttpResponse* response) {
         Serve(
             service, &LookupService::ListDatabases, request,
             [](geo::v1::ListDatabasesRequest*) { return absl::OkStatus(); },
             response);
       }},
      {"GET", "/healthz",
       [](const HttpRequest&, const PathVariables&, HttpResponse* response) {
         response->SetJson(200, "{\"status\":\"ok\"}");
       }},
      {"GET", "/readyz",
       [ready = std::move(ready)](const HttpRequest&, const PathVariables&,
                                  HttpResponse* response) {
         if (ready()) {
           response->SetJson(200, "{\"status\":\"ready\"}");
         } else {
           response->SetJson(503, "{\"status\":\"not ready\"}");
         }
       }},
  };
  for (Route& route : routes) {
    GEO_RETURN_IF_ERROR(router->Add(route.method, route.path_template,
                                    std::move(route.handler)));
  }
  GEO_RETURN_IF_ERROR(AddOpenApiRoute(router.get()));
  return router;
}

}  // namespace geo
