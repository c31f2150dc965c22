module github.com/autox-tekton/autox

go 1.26.8

require (
	github.com/HdrHistogram/hdrhistogram-go v1.4.0
	github.com/google/go-cmp v0.7.0
	github.com/rakyll/hey v0.1.5
	go.yaml.in/yaml/v3 v3.0.4
)

require (
	github.com/bojand/ghz v0.121.0 // indirect
	github.com/jhump/protoreflect v1.17.0 // indirect
	github.com/kr/text v0.2.0 // indirect
	golang.org/x/net v0.48.0 // indirect
	golang.org/x/text v0.33.0 // indirect
)

tool github.com/rakyll/hey
