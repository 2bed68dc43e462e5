import { Duration } from 'aws-cdk-lib';
import { defaultConfig, settlementEngineConfigFromContext } from '../../infra/config';

const fromContext = (context: Record<string, unknown>) => settlementEngineConfigFromContext((key) => context[key]);

describe('configuration from CDK context', () => {
  it('is the default configuration when no context is given', () => {
    const config = fromContext({});
    expect(config.schedules.reconcile.toMinutes()).toBe(360);
    expect(config.schedules.retryFailed.toMinutes()).toBe(5);
    expect(config.schedules.cleanup.toMinutes()).toBe(10);
    expect(config.schedules.recoverStuck.toMinutes()).toBe(5);
    expect(config.grpc.certificateArn).toBeUndefined();
    expect(config.tableEncryption).toBe(defaultConfig.tableEncryption);
    expect(config.functionEnvironment).toEqual({});
  });

  it('reads intervals in minutes, as numbers or as the strings `-c` passes', () => {
    const config = fromContext({ reconcileIntervalMinutes: '60', retryIntervalMinutes: 2 });
    expect(config.schedules.reconcile.toMinutes()).toBe(Duration.hours(1).toMinutes());
    expect(config.schedules.retryFailed.toMinutes()).toBe(2);
  });

  it('reads the certificate, the alarm destination and the allowed ranges', () => {
    const config = fromContext({
      grpcCertificateArn: 'arn:aws:acm:eu-west-1:111122223333:certificate/abc',
      grpcAllowedCidrs: '10.0.0.0/8, 192.168.0.0/16',
      alarmEmail: 'ops@example.com',
    });
    expect(config.grpc.certificateArn).toBe('arn:aws:acm:eu-west-1:111122223333:certificate/abc');
    expect(config.grpc.allowedCidrs).toEqual(['10.0.0.0/8', '192.168.0.0/16']);
    expect(config.alarms.email).toBe('ops@example.com');
  });

  it('can leave the gRPC shim out', () => {
    expect(fromContext({}).grpc.enabled).toBe(true);
    expect(fromContext({ grpcEnabled: 'false' }).grpc.enabled).toBe(false);
  });

  it('reads the functions’ extra environment as a JSON object', () => {
    expect(fromContext({ functionEnvironment: '{"BANK_ADAPTER":"mock"}' }).functionEnvironment).toEqual({ BANK_ADAPTER: 'mock' });
  });

  it.each([
    ['retryIntervalMinutes', '0'],
    ['retryIntervalMinutes', 'soon'],
    ['tableEncryption', 'NONE'],
    ['grpcLoadBalancerScheme', 'public'],
    ['functionEnvironment', '["not", "an", "object"]'],
    ['grpcEnabled', 'maybe'],
  ])('refuses %s=%s with a message naming the key', (key, value) => {
    expect(() => fromContext({ [key]: value })).toThrow(key);
  });
});
