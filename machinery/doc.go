// Package machinery is the root of the API helpers every Tugboat module
// shares: the kind table (scheme), names, quantities, selectors, manifests,
// validation and defaulting. See its subpackages.
package machinery
