package taskwire

import _ "embed"

// AsyncAPI is the WebSocket protocol document (asyncapi.yaml), served at
// /asyncapi.yaml.
//
//go:embed asyncapi.yaml
var AsyncAPI []byte

// APIVersion is the version of the HTTP and WebSocket API, reported in the
// OpenAPI and AsyncAPI documents.
const APIVersion = "1.0.0"
