// Placeholder while the gRPC issue lands: entry point of the gRPC shim container (Fargate).
console.error('grpc shim is being implemented');
process.exit(1);
