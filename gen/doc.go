// Package gen holds the Go code generated from proto/ by `make generate`:
// messages, gRPC services, grpc-gateway handlers and the OpenAPI document.
// Nothing here is edited by hand.
package gen
