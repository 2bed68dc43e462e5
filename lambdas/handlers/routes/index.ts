/**
 * Every REST route the engine serves, on API Gateway and locally. Add a module's routes here.
 */
import type { Route } from '../http';
import { coreRoutes } from './core-routes';
import { recoveryRoutes } from './recovery-routes';
import { operationsRoutes } from './operations-routes';
import { railRoutes, statementRoutes } from './rail-routes';
import { approvalRoutes } from './approval-routes';

export const apiRoutes: readonly Route[] = [...coreRoutes, ...recoveryRoutes, ...operationsRoutes, ...approvalRoutes, ...railRoutes, ...statementRoutes];
