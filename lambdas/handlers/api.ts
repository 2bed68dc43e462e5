/**
 * Lambda entry point behind API Gateway (REST API, proxy integration): every REST route.
 */
import { createApiHandler } from './http';
import { lambdaDeps } from './lambda-deps';
import { apiRoutes } from './routes';

export const handler = createApiHandler(apiRoutes, () => lambdaDeps({ startsExecutions: true }));
