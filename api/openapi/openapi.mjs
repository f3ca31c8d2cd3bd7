// Build-time helper for the OpenAPI document (Node.js only, no packages).
//
//   node openapi.mjs merge GENERATED.swagger.json SUPPLEMENT.json OUT.json [PROTO...]
//     The document protoc-gen-swagger wrote for geo.v1, with the supplement's
//     info, paths and definitions added, and every operation given the
//     error statuses the server really answers (grpc-gateway's error body).
//     A supplement path marked "x-geo-any-method" answers every method. A
//     supplement definition {"x-geo-proto-message": NAME} is the schema of
//     message NAME of one of the PROTO files: a body the server writes from
//     a message that no geo.v1 method returns.
//   node openapi.mjs embed IN.json OUT.cc
//     A C++ source defining geo::api::OpenApiDocument() with IN's bytes.
import fs from "node:fs";

const [mode, ...args] = process.argv.slice(2);
const anyMethod = ["get", "put", "post", "delete", "options", "head", "patch"];

// Swagger types of the scalar proto types the server's own messages use.
const protoScalarTypes = {
  bool: { type: "boolean" },
  string: { type: "string" },
  int32: { type: "integer", format: "int32" },
  uint32: { type: "integer", format: "int64" },
};

// The schema of a message with scalar fields only, as the server prints it
// (lowerCamelCase names, declaration order), each field described by the
// comment lines above it, as protoc-gen-swagger describes them.
function protoMessageSchema(protoFiles, name) {
  for (const file of protoFiles) {
    const text = fs.readFileSync(file, "utf8");
    const body = text.match(new RegExp(`^message ${name} \\{\\n([^}]*)^\\}`, "m"));
    if (!body) continue;
    const properties = {};
    let comment = [];
    for (const line of body[1].split("\n").map((l) => l.trim())) {
      if (line.startsWith("//")) {
        comment.push(line.replace(/^\/\/ ?/, ""));
        continue;
      }
      const field = line.match(/^(\w+) (\w+) = \d+;$/);
      if (!field) {
        if (line) throw new Error(`${file}: ${name}: cannot read "${line}"`);
        continue;
      }
      const type = protoScalarTypes[field[1]];
      if (!type) throw new Error(`${file}: ${name}: no schema for type ${field[1]}`);
      const jsonName = field[2].replace(/_([a-z])/g, (_, c) => c.toUpperCase());
      properties[jsonName] = { ...type };
      if (comment.length) properties[jsonName].description = comment.join("\n");
      comment = [];
    }
    return { type: "object", properties };
  }
  throw new Error(`no message ${name} in ${protoFiles.join(", ")}`);
}

function merge(generatedFile, supplementFile, outFile, ...protoFiles) {
  const doc = JSON.parse(fs.readFileSync(generatedFile, "utf8"));
  const supplement = JSON.parse(fs.readFileSync(supplementFile, "utf8"));
  doc.info = supplement.info;
  doc.schemes = supplement.schemes;
  doc.definitions = { ...doc.definitions, ...supplement.definitions };
  for (const [name, definition] of Object.entries(supplement.definitions)) {
    const message = definition["x-geo-proto-message"];
    if (message) doc.definitions[name] = protoMessageSchema(protoFiles, message);
  }
  for (const [path, item] of Object.entries(supplement.paths)) {
    if (doc.paths[path]) throw new Error(`${path} is both generated and supplemented`);
    if (item["x-geo-any-method"]) {
      const expanded = { "x-geo-any-method": true };
      for (const method of anyMethod) {
        expanded[method] = {
          ...structuredClone(item["x-geo-operation"]),
          operationId: `${item["x-geo-operation"].operationId}_${method.toUpperCase()}`,
        };
      }
      doc.paths[path] = expanded;
    } else {
      doc.paths[path] = item;
    }
  }
  // Every operation may fail with grpc-gateway's body: the statuses the HTTP
  // layer and the gateway answer, unless the operation documents its own.
  const statuses = supplement.errorStatusesByOperation.default;
  for (const item of Object.values(doc.paths)) {
    for (const method of anyMethod) {
      const operation = item[method];
      if (!operation) continue;
      for (const status of statuses) {
        if (operation.responses[status]) continue;
        operation.responses[status] = {
          description: supplement.errorResponses[status],
          schema: { $ref: "#/definitions/geoError" },
        };
      }
      // protoc-gen-swagger's "default" points at a runtime type we do not use.
      delete operation.responses.default;
    }
  }
  // Definitions protoc-gen-swagger adds for its own error type, unused now.
  for (const unused of ["runtimeError", "protobufAny"]) {
    if (!JSON.stringify(doc.paths).includes(`#/definitions/${unused}`) &&
        !JSON.stringify(doc.definitions).includes(`#/definitions/${unused}"`.replace(/"$/, ""))) {
      delete doc.definitions[unused];
    }
  }
  const sorted = {};
  for (const path of Object.keys(doc.paths).sort()) sorted[path] = doc.paths[path];
  doc.paths = sorted;
  fs.writeFileSync(outFile, JSON.stringify(doc, null, 2) + "\n");
}

function embed(inFile, outFile) {
  const bytes = fs.readFileSync(inFile);
  const lines = [];
  for (let i = 0; i < bytes.length; i += 16) {
    lines.push("    " + Array.from(bytes.subarray(i, i + 16), (b) => `${b},`).join(""));
  }
  fs.writeFileSync(outFile, `// Generated by api/openapi/openapi.mjs from ${inFile}: do not edit.
#include "api/openapi/openapi_document.h"

namespace geo::api {
namespace {
constexpr char kDocument[] = {
${lines.join("\n")}
    0};
}  // namespace

absl::string_view OpenApiDocument() {
  return absl::string_view(kDocument, sizeof(kDocument) - 1);
}

}  // namespace geo::api
`);
}

if (mode === "merge") merge(...args);
else if (mode === "embed") embed(...args);
else throw new Error(`unknown mode ${mode}`);
