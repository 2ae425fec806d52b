package telemetry

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// ServiceName is the default service.name of the gateway's spans;
// OTEL_SERVICE_NAME overrides it.
const ServiceName = "passgw"

// NewTracerProvider returns the tracer provider the standard OpenTelemetry
// environment asks for, read through getenv:
//
//   - nothing is exported unless OTEL_EXPORTER_OTLP_ENDPOINT or
//     OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set; then spans go over OTLP
//     (HTTP/protobuf, the only protocol built in), batched, with the other
//     OTEL_EXPORTER_OTLP_* variables (headers, timeout, compression,
//     certificates) honoured by the exporter;
//   - OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none export nothing;
//   - OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG choose the sampler
//     (default: parent-based, always on);
//   - OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES describe the service.
//
// shutdown flushes spans not yet sent; call it before exiting. Without an
// exporter the provider is a no-op and shutdown does nothing.
func NewTracerProvider(ctx context.Context, version string, getenv func(string) string) (tp trace.TracerProvider, shutdown func(context.Context) error, err error) {
	none := func(context.Context) error { return nil }
	if strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") {
		return noop.NewTracerProvider(), none, nil
	}
	switch exp := strings.ToLower(strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER"))); exp {
	case "", "otlp":
	case "none":
		return noop.NewTracerProvider(), none, nil
	default:
		return nil, nil, fmt.Errorf("OTEL_TRACES_EXPORTER: %q is not supported (want otlp or none)", exp)
	}
	if getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		return noop.NewTracerProvider(), none, nil
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if p := getenv(name); p != "" {
			if p != "http/protobuf" {
				return nil, nil, fmt.Errorf("%s: %q is not supported (want http/protobuf)", name, p)
			}
			break
		}
	}
	exporter, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	// Later options win: the environment names the service when it says so.
	res, err := resource.New(ctx,
		resource.WithAttributes(
			attribute.String("service.name", ServiceName),
			attribute.String("service.version", version)),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(),
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, nil, fmt.Errorf("OpenTelemetry resource: %w", err)
	}
	sdk := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res))
	return sdk, sdk.Shutdown, nil
}
