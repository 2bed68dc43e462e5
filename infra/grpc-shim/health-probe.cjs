// Container health check of the gRPC shim (ECS task definition and Dockerfile HEALTHCHECK).
// Calls grpc.health.v1.Health/Check for the whole server ('') on localhost and exits 0 only on SERVING:
// the shim reports NOT_SERVING while DynamoDB is unreachable, so ECS replaces the task.
// Plain CommonJS with production dependencies only: it runs in the runtime image as is.
'use strict';
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const { protoPath } = require('grpc-health-check');

const port = process.env.GRPC_PORT || '50056';
const deadlineMs = 3000;

const definition = protoLoader.loadSync(protoPath, { keepCase: true, enums: String, defaults: true });
const { Health } = grpc.loadPackageDefinition(definition).grpc.health.v1;
const client = new Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure());

client.check({ service: '' }, { deadline: Date.now() + deadlineMs }, (error, response) => {
  client.close();
  if (error) {
    console.error(`health check failed: ${error.message}`);
    process.exit(1);
  }
  if (response.status !== 'SERVING') {
    console.error(`health check: ${response.status}`);
    process.exit(1);
  }
  process.exit(0);
});
