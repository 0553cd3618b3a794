package rest

import (
	"strings"

	"github.com/tugboat-sh/tugboat/machinery/scheme"
)

// Tugboat publishes no OpenAPI schemas (/openapi/v2 is a 404 Status). It does
// publish a skeleton OpenAPI v3 index and, per group version, one PATCH
// operation per kind that names the fieldValidation query parameter. That is
// what kubectl (create, replace, apply) looks up to decide that the server
// validates fields itself; without it kubectl insists on client-side
// validation, which needs the full OpenAPI v2 schema and fails. The
// apiserver does reject unknown fields, which is strict field validation.

// openAPIIndex is the document at /openapi/v3.
type openAPIIndex struct {
	Paths map[string]openAPIRef `json:"paths"`
}

type openAPIRef struct {
	ServerRelativeURL string `json:"serverRelativeURL"`
}

// openAPIDoc is a minimal OpenAPI 3 document of one group version.
type openAPIDoc struct {
	OpenAPI string                     `json:"openapi"`
	Info    map[string]string          `json:"info"`
	Paths   map[string]openAPIPathItem `json:"paths"`
}

type openAPIPathItem struct {
	Patch *openAPIOperation `json:"patch,omitempty"`
}

type openAPIOperation struct {
	OperationID string             `json:"operationId"`
	GVK         map[string]string  `json:"x-kubernetes-group-version-kind"`
	Parameters  []openAPIParameter `json:"parameters"`
	Responses   map[string]any     `json:"responses"`
}

type openAPIParameter struct {
	Name   string            `json:"name"`
	In     string            `json:"in"`
	Schema map[string]string `json:"schema"`
}

// addOpenAPI adds /openapi/v3 and /openapi/v3/<api path> to the documents.
func addOpenAPI(docs map[string]any) {
	index := &openAPIIndex{Paths: map[string]openAPIRef{}}
	for _, k := range scheme.All() {
		rel := strings.TrimPrefix(k.PathPrefix(), "/")
		url := "/openapi/v3/" + rel
		doc, ok := docs[url].(*openAPIDoc)
		if !ok {
			doc = &openAPIDoc{OpenAPI: "3.0.0", Info: map[string]string{"title": "Tugboat", "version": gitVersion},
				Paths: map[string]openAPIPathItem{}}
			docs[url] = doc
			index.Paths[rel] = openAPIRef{ServerRelativeURL: url}
		}
		path := k.PathPrefix() + "/" + k.Resource + "/{name}"
		if k.Namespaced {
			path = k.PathPrefix() + "/namespaces/{namespace}/" + k.Resource + "/{name}"
		}
		doc.Paths[path] = openAPIPathItem{Patch: &openAPIOperation{
			OperationID: "patch" + k.Kind,
			GVK:         map[string]string{"group": k.Group, "version": k.Version, "kind": k.Kind},
			Parameters: []openAPIParameter{
				{Name: "fieldValidation", In: "query", Schema: map[string]string{"type": "string"}},
			},
			Responses: map[string]any{},
		}}
	}
	docs["/openapi/v3"] = index
}
