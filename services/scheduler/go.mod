module github.com/tugboat-sh/tugboat/services/scheduler

go 1.26.0

require (
	github.com/tugboat-sh/tugboat/client v0.0.0
	github.com/tugboat-sh/tugboat/component v0.0.0
	github.com/tugboat-sh/tugboat/gen v0.0.0
	github.com/tugboat-sh/tugboat/machinery v0.0.0
)

replace (
	github.com/tugboat-sh/tugboat/client => ../../client
	github.com/tugboat-sh/tugboat/component => ../../component
	github.com/tugboat-sh/tugboat/gen => ../../gen
	github.com/tugboat-sh/tugboat/machinery => ../../machinery
)
